// EventRecorder: a RegistrarEventListener that keeps every event it is given, for the tests of
// the events AsapServer and EnrpServer raise (kinds in order, or the events of one kind).
#pragma once

#include <vector>

#include "registrar/common/registrar_event.hpp"

namespace poolreg::testing {

class EventRecorder final : public RegistrarEventListener {
 public:
  void on_registrar_event(const RegistrarEvent& e) override { events.push_back(e); }
  std::vector<RegistrarEventKind> kinds() const {
    std::vector<RegistrarEventKind> k;
    for (const auto& e : events) k.push_back(e.kind);
    return k;
  }
  std::vector<RegistrarEvent> of(RegistrarEventKind kind) const {
    std::vector<RegistrarEvent> out;
    for (const auto& e : events)
      if (e.kind == kind) out.push_back(e);
    return out;
  }
  std::vector<RegistrarEvent> events;
};

}  // namespace poolreg::testing
