#include "registrar/wire/registration_salvage.hpp"

#include <optional>

#include "registrar/wire/parameter_codec.hpp"
#include "registrar/wire/tlv_locate.hpp"
#include "registrar/wire/tlv_reader.hpp"
#include "registrar/wire/wire_constants.hpp"

namespace poolreg::wire {

Expected<SalvagedRegistration, SalvageFailure> salvage_registration(std::span<const std::uint8_t> message,
                                                                    const WireOptions& options) noexcept {
  std::optional<PoolHandle> handle;
  std::optional<PoolElementId> id;
  TlvReader top(message_body(message), static_cast<std::uint32_t>(kMessageHeaderSize));
  while (auto t = top.next()) {
    if (t->pure_type() == param::kPoolHandle && !handle) {
      auto h = decode_pool_handle(*t, options);
      if (!h) return unexpected(SalvageFailure::kUnreadablePoolHandle);
      handle = h.value();
    } else if (t->pure_type() == param::kPoolElement && !id) {
      if (t->value.size() < 4) return unexpected(SalvageFailure::kShortPoolElement);
      id = load_u32(t->value.data());
    }
  }
  if (!handle) return unexpected(SalvageFailure::kNoPoolHandle);
  if (!id) return unexpected(SalvageFailure::kNoPoolElement);
  return SalvagedRegistration{*handle, *id};
}

}  // namespace poolreg::wire
