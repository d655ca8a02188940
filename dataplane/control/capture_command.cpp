#include "dataplane/control/capture_command.hpp"

#include <limits>

#include "dataplane/control/operator_arguments.hpp"

namespace poolreg::control {
namespace {

template <typename T>
std::vector<T> uint_list(const json& args, const char* name) {
  std::vector<T> out;
  auto it = args.find(name);
  if (it == args.end() || it->is_null()) return out;
  if (!it->is_array()) throw CommandError(error_code::kBadRequest, std::string("\"") + name + "\" must be an array");
  for (const json& v : *it) {
    if (!v.is_number_unsigned() || v.get<std::uint64_t>() > std::numeric_limits<T>::max())
      throw CommandError(error_code::kBadRequest, std::string("\"") + name + "\" holds a value that is not a " +
                                                      "non-negative integer up to " +
                                                      std::to_string(std::numeric_limits<T>::max()));
    out.push_back(static_cast<T>(v.get<std::uint64_t>()));
  }
  return out;
}

}  // namespace

CaptureRequest parse_capture_request(const json& args) {
  CaptureRequest r;
  const auto action = args.find("action");
  if (action != args.end() && !action->is_null()) {
    if (!action->is_string()) throw CommandError(error_code::kBadRequest, "\"action\" must be start, stop or status");
    const std::string& a = action->get_ref<const std::string&>();
    if (a == "start") r.action = CaptureRequest::Action::kStart;
    else if (a == "stop") r.action = CaptureRequest::Action::kStop;
    else if (a == "status") r.action = CaptureRequest::Action::kStatus;
    else throw CommandError(error_code::kBadRequest, "\"action\" must be start, stop or status, not '" + a + "'");
  }
  if (r.action != CaptureRequest::Action::kStart) return r;
  const auto file = args.find("file");
  if (file == args.end() || !file->is_string() || file->get_ref<const std::string&>().empty())
    throw CommandError(error_code::kBadRequest, "start needs \"file\": the path of the pcapng file to create");
  r.file = file->get<std::string>();
  if (r.file.front() != '/') throw CommandError(error_code::kBadRequest, "\"file\" must be an absolute path");
  r.ports = uint_list<std::uint16_t>(args, "ports");
  r.lanes = uint_list<std::uint32_t>(args, "lanes");
  if (auto v = uint_arg(args, "snaplen")) {
    if (*v == 0 || *v > std::numeric_limits<std::uint32_t>::max())
      throw CommandError(error_code::kBadRequest, "\"snaplen\" must be at least 1");
    r.snaplen = static_cast<std::uint32_t>(*v);
  }
  if (auto v = uint_arg(args, "count")) r.count = *v;
  if (auto v = uint_arg(args, "duration_ms")) {
    if (*v == 0) throw CommandError(error_code::kBadRequest, "\"duration_ms\" must be at least 1");
    r.duration_ms = *v;
  }
  return r;
}

json capture_state_json(const CaptureState& s) {
  return json{{"active", s.active},   {"file", s.file},           {"frames", s.frames}, {"bytes", s.bytes},
              {"dropped", s.dropped}, {"elapsed_ms", s.elapsed_ms}, {"ended", s.ended}};
}

}  // namespace poolreg::control
