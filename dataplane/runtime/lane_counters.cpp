#include "dataplane/runtime/lane_counters.hpp"

namespace poolreg::runtime {

const char* asap_type_name(std::size_t type) noexcept {
  static constexpr const char* kNames[kAsapTypeSlots] = {"other",
                                                         "registration",
                                                         "deregistration",
                                                         "registration_response",
                                                         "deregistration_response",
                                                         "handle_resolution",
                                                         "handle_resolution_response",
                                                         "endpoint_keep_alive",
                                                         "endpoint_keep_alive_ack",
                                                         "endpoint_unreachable",
                                                         "server_announce",
                                                         "cookie",
                                                         "cookie_echo",
                                                         "business_card",
                                                         "error"};
  return type < kAsapTypeSlots ? kNames[type] : "other";
}

}  // namespace poolreg::runtime
