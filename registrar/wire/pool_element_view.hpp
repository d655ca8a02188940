// Zero-copy views of transport and Pool Element parameters. A view points into the decoded
// buffer: it is valid only while that buffer lives and is unchanged. Building a view never
// allocates; to_*() conversions to the owning types in registrar/common allocate (addresses).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "registrar/common/ids.hpp"
#include "registrar/common/ip_address.hpp"
#include "registrar/common/policy.hpp"
#include "registrar/common/pool_element.hpp"
#include "registrar/common/transport.hpp"

namespace poolreg::wire {

// The address TLVs of one transport parameter, already validated by the decoder, iterated
// lazily (unknown skip-TLVs between them are stepped over).
class AddressListView {
 public:
  class Iterator {
   public:
    using value_type = IpAddress;
    using difference_type = std::ptrdiff_t;
    Iterator() = default;
    Iterator(const std::uint8_t* p, const std::uint8_t* end) noexcept : p_(p), end_(end) { settle(); }
    IpAddress operator*() const noexcept;
    Iterator& operator++() noexcept;
    Iterator operator++(int) noexcept {
      Iterator t = *this;
      ++*this;
      return t;
    }
    friend bool operator==(const Iterator& a, const Iterator& b) noexcept { return a.p_ == b.p_; }

   private:
    void settle() noexcept;  // advance to the next address TLV (or end)
    const std::uint8_t* p_ = nullptr;
    const std::uint8_t* end_ = nullptr;
  };

  AddressListView() = default;
  AddressListView(std::span<const std::uint8_t> tlvs, std::size_t count) noexcept
      : tlvs_(tlvs), count_(count) {}

  std::size_t size() const noexcept { return count_; }
  bool empty() const noexcept { return count_ == 0; }
  Iterator begin() const noexcept { return {tlvs_.data(), tlvs_.data() + tlvs_.size()}; }
  Iterator end() const noexcept { return {tlvs_.data() + tlvs_.size(), tlvs_.data() + tlvs_.size()}; }
  std::span<const std::uint8_t> raw() const noexcept { return tlvs_; }

 private:
  std::span<const std::uint8_t> tlvs_{};
  std::size_t count_ = 0;
};

struct TransportView {
  TransportProtocol protocol = TransportProtocol::kSctp;
  std::uint16_t port = 0;
  TransportUse use = TransportUse::kDataOnly;  // SCTP/TCP; kDataOnly for the others
  std::uint32_t dccp_service_code = 0;
  AddressListView addresses;

  TransportEndpoint to_endpoint() const;  // allocates the address vector
};

struct PoolElementView {
  PoolElementId id = 0;               // 64-bit when Extended-PE-ID (0x8042) was present
  RegistrarId home_registrar = 0;     // idem
  std::uint32_t registration_life_ms = 0;
  TransportView user_transport;
  PolicyParams policy;
  std::optional<TransportView> asap_transport;  // ENRP only (ASAP decoders drop it)
  // Value of the 0x8045 Address-Types sub-TLV (validated: one 8-byte entry per user address),
  // empty when absent.
  std::span<const std::uint8_t> address_types{};

  PoolElement to_pool_element() const;  // allocates
};

}  // namespace poolreg::wire
