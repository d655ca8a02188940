// PoolElementRecord: the immutable, compactly packed reader-visible state of one PE, and
// PoolElementView, the read-only face visitors see.
//
// Why immutable: a record is never modified after it is published. A re-registration, an
// ownership change or any other change builds a new record, swaps the slot pointer and
// retires the old one through QSBR. Readers therefore always see a complete PE (never a
// half-written one) without retry loops. Writer-only bookkeeping (expiry, owner links,
// unreachable counter) lives in the pool's writer-side slot metadata, not here.
//
// Layout: 32-byte header (static_assert in the .cpp), then only what the PE has: its
// association (8 bytes when non-zero), its non-zero policy values and DCCP service code (4
// bytes each, a presence bit each in the header), then the packed addresses of the user
// transport and of the ASAP transport. A transport whose addresses are all IPv4 stores 4
// bytes per address; a mixed one stores one family byte per address followed by 4 or 16
// bytes each. (Typical IPv4 PE with one user and one ASAP address: 48..64 bytes, one
// jemalloc size class of 48 or 64.)
//
// RFC 8653 address types (next-gen 0x8045) cost nothing to a PE without them: a typed PE's
// user block always uses the mixed layout, whose family byte keeps the family in its low 4
// bits and the type (bits 4..6) and the retiring flag (bit 7) above it; after the ASAP block
// follows one u64 per Graceful-Replacement address (its lifetime in ms, or for a retiring one
// its absolute retire time). User addresses are stored in stability order
// (stability_rank(), address_type.hpp), so resolutions copy them as they are.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <optional>
#include <span>

#include "registrar/common/address_type.hpp"
#include "registrar/common/clock.hpp"
#include "registrar/common/ids.hpp"
#include "registrar/common/ip_address.hpp"
#include "registrar/common/policy.hpp"
#include "registrar/common/pool_element.hpp"
#include "registrar/common/transport.hpp"

namespace poolreg::handlespace {

// Family byte of a mixed address block: family (4/6) in the low bits, address type above.
inline constexpr std::uint8_t kFamilyMask = 0x0f;
inline constexpr unsigned kTypeShift = 4;
inline constexpr std::uint8_t kTypeMask = 0x07;
inline constexpr std::uint8_t kRetiringBit = 0x80;

// A packed, read-only list of addresses inside a record. Iterating yields IpAddress values.
class AddressList {
 public:
  class Iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = IpAddress;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = IpAddress;

    Iterator() = default;
    IpAddress operator*() const noexcept {
      const bool v6 = families_ != nullptr && (families_[index_] & kFamilyMask) == 6;
      if (!v6) {
        std::array<std::uint8_t, 4> b;
        std::memcpy(b.data(), bytes_, 4);
        return IpAddress::v4(b);
      }
      std::array<std::uint8_t, 16> b;
      std::memcpy(b.data(), bytes_, 16);
      return IpAddress::v6(b);
    }
    Iterator& operator++() noexcept {
      bytes_ += (families_ != nullptr && (families_[index_] & kFamilyMask) == 6) ? 16 : 4;
      ++index_;
      return *this;
    }
    Iterator operator++(int) noexcept {
      Iterator old = *this;
      ++*this;
      return old;
    }
    friend bool operator==(const Iterator& a, const Iterator& b) noexcept { return a.index_ == b.index_; }

   private:
    friend class AddressList;
    Iterator(const std::uint8_t* families, const std::uint8_t* bytes, std::size_t index) noexcept
        : families_(families), bytes_(bytes), index_(index) {}
    const std::uint8_t* families_ = nullptr;
    const std::uint8_t* bytes_ = nullptr;
    std::size_t index_ = 0;
  };

  AddressList() = default;
  AddressList(const std::uint8_t* families, const std::uint8_t* bytes, std::size_t count) noexcept
      : families_(families), bytes_(bytes), count_(count) {}

  std::size_t size() const noexcept { return count_; }
  bool empty() const noexcept { return count_ == 0; }
  Iterator begin() const noexcept { return {families_, bytes_, 0}; }
  Iterator end() const noexcept { return {families_, bytes_, count_}; }
  // O(index): walks the packed list.
  IpAddress operator[](std::size_t index) const noexcept {
    auto it = begin();
    for (std::size_t i = 0; i < index; ++i) ++it;
    return *it;
  }

 private:
  const std::uint8_t* families_ = nullptr;  // nullptr: all IPv4
  const std::uint8_t* bytes_ = nullptr;
  std::size_t count_ = 0;
};

// Immutable PE record (see file comment). Created by the shard writer only.
class PoolElementRecord {
 public:
  // Allocates a record; addresses beyond 255 per transport must be refused by the caller.
  static PoolElementRecord* create(const PoolElement& pe, std::uint64_t association,
                                   std::uint32_t registration_seq);
  // A copy of `from` with another home PR (ownership change).
  static PoolElementRecord* clone_with_home(const PoolElementRecord& from, RegistrarId home);
  static void destroy(void* record) noexcept;
  // Bytes create() allocates for `pe` registered without an association (header + non-zero
  // values + packed addresses); the second form for a given association.
  static std::size_t allocation_size(const PoolElement& pe) noexcept { return allocation_size(pe, 0); }
  static std::size_t allocation_size(const PoolElement& pe, std::uint64_t association) noexcept;

  PoolElementId id() const noexcept { return id_; }
  RegistrarId home() const noexcept { return home_; }
  std::uint64_t association() const noexcept {
    if (!(flags_ & kHasAssociation)) return 0;
    std::uint64_t a;
    std::memcpy(&a, tail(), sizeof a);
    return a;
  }
  std::uint32_t registration_life_ms() const noexcept { return life_ms_; }
  std::uint32_t registration_seq() const noexcept { return seq_; }
  // Policy values (type filled in from the pool).
  PolicyParams policy(PolicyType type) const noexcept {
    PolicyParams p;
    p.type = type;
    if (values_ == 0) return p;
    const std::uint8_t* v = values_base();
    p.weight = value(v, kWeight);
    p.priority = value(v, kPriority);
    p.load = value(v, kLoad);
    p.load_degradation = value(v, kLoadDegradation);
    p.weight_dpf = value(v, kWeightDpf);
    p.load_dpf = value(v, kLoadDpf);
    p.distance_ms = value(v, kDistance);
    return p;
  }
  std::uint16_t user_port() const noexcept { return user_port_; }
  std::uint32_t dccp_service_code() const noexcept { return value(values_base(), kDccpServiceCode); }
  AddressList user_addresses() const noexcept;
  bool has_asap_transport() const noexcept { return (flags_ & kHasAsap) != 0; }
  std::uint16_t asap_port() const noexcept { return asap_port_; }
  TransportProtocol asap_protocol() const noexcept {
    return static_cast<TransportProtocol>((flags_ >> kAsapProtocolShift) & kAsapProtocolMask);
  }
  TransportUse asap_use() const noexcept {
    return (flags_ & kAsapControl) ? TransportUse::kDataPlusControl : TransportUse::kDataOnly;
  }
  AddressList asap_addresses() const noexcept;
  // RFC 8653 types (address_type.hpp): false for a PE registered without them.
  bool has_address_types() const noexcept;
  // Fills out[i] for the i-th user address (out.size() >= user count); retiring entries get
  // retire_at, graceful ones their lifetime_ms. Returns the count written (0: untyped).
  std::size_t address_types(std::span<AddressTypeEntry> out) const noexcept;
  // Earliest retire time of a retiring address, 0 when there is none.
  TimeNs earliest_retirement() const noexcept;
  std::size_t allocated_bytes() const noexcept;

 private:
  // flags_ bits. The ASAP transport protocol (RFC 5354 TLV code 3..7) takes the top 3 bits.
  static constexpr std::uint8_t kHasAsap = 1;
  static constexpr std::uint8_t kUserMixed = 2;
  static constexpr std::uint8_t kAsapMixed = 4;
  static constexpr std::uint8_t kAsapControl = 8;  // ASAP transport use = data+control
  static constexpr std::uint8_t kHasAssociation = 16;
  static constexpr unsigned kAsapProtocolShift = 5;
  static constexpr std::uint8_t kAsapProtocolMask = 7;
  // Optional 32-bit values: bit i of values_ set = value i stored (non-zero), in this order.
  enum ValueIndex : unsigned {
    kWeight, kPriority, kLoad, kLoadDegradation, kWeightDpf, kLoadDpf, kDistance, kDccpServiceCode
  };

  PoolElementRecord() = default;
  // Bits set in a byte. Not __builtin_popcount: without -mpopcnt (the default x86-64 target)
  // that is a call into libgcc, made on every access to a record's addresses (resolutions).
  static constexpr unsigned popcount8(std::uint8_t x) noexcept {
    x = static_cast<std::uint8_t>(x - ((x >> 1) & 0x55u));
    x = static_cast<std::uint8_t>((x & 0x33u) + ((x >> 2) & 0x33u));
    return static_cast<unsigned>((x + (x >> 4)) & 0x0fu);
  }
  const std::uint8_t* tail() const noexcept { return reinterpret_cast<const std::uint8_t*>(this + 1); }
  std::size_t association_bytes() const noexcept { return (flags_ & kHasAssociation) ? 8 : 0; }
  const std::uint8_t* values_base() const noexcept { return tail() + association_bytes(); }
  std::size_t values_bytes() const noexcept { return 4 * static_cast<std::size_t>(popcount8(values_)); }
  const std::uint8_t* addresses_base() const noexcept { return values_base() + values_bytes(); }
  // The value with this index (0 when absent). `v` = values_base().
  std::uint32_t value(const std::uint8_t* v, ValueIndex index) const noexcept {
    const unsigned bit = 1u << index;
    if (!(values_ & bit)) return 0;
    std::uint32_t x;
    std::memcpy(&x, v + std::size_t{4} * popcount8(static_cast<std::uint8_t>(values_ & (bit - 1))), sizeof x);
    return x;
  }
  // Bytes of a packed address block (lengths are recomputed, not stored: it keeps the header
  // at 32 bytes so an IPv4 PE with one user and one ASAP address fits jemalloc's 48-byte class
  // with two policy values, 64-byte with an association too).
  static std::size_t block_length(const std::uint8_t* block, std::size_t count, bool mixed) noexcept {
    if (!mixed) return count * 4;
    std::size_t n = count;
    for (std::size_t i = 0; i < count; ++i) n += (block[i] & kFamilyMask) == 6 ? 16 : 4;
    return n;
  }
  // The u64 per Graceful-Replacement user address after the ASAP block.
  std::size_t graceful_count() const noexcept;
  const std::uint8_t* graceful_base() const noexcept;
  std::size_t user_block_length() const noexcept {
    return block_length(addresses_base(), n_user_, (flags_ & kUserMixed) != 0);
  }

  PoolElementId id_ = 0;
  RegistrarId home_ = 0;
  std::uint32_t life_ms_ = 0;
  std::uint32_t seq_ = 0;
  std::uint16_t user_port_ = 0;
  std::uint16_t asap_port_ = 0;
  std::uint8_t n_user_ = 0;
  std::uint8_t n_asap_ = 0;
  std::uint8_t flags_ = 0;
  std::uint8_t values_ = 0;  // presence bits of the optional values (ValueIndex)
  // Followed by: association (8 bytes, if kHasAssociation), the present values (4 bytes each,
  // ValueIndex order), the user address block, the ASAP address block. Unaligned: read with memcpy.
};

// What a reader (or a writer-side iteration) sees of one PE. Valid only during the visitor
// call (it points into QSBR-protected memory); copy what you need to keep.
class PoolElementView {
 public:
  PoolElementView(const PoolElementRecord& record, PolicyType policy_type, TransportProtocol protocol,
                  TransportUse use) noexcept
      : record_(&record), policy_type_(policy_type), protocol_(protocol), use_(use) {}

  PoolElementId id() const noexcept { return record_->id(); }
  RegistrarId home() const noexcept { return record_->home(); }
  std::uint32_t registration_life_ms() const noexcept { return record_->registration_life_ms(); }
  // 0 = learned from a peer (or registered without an association).
  std::uint64_t association() const noexcept { return record_->association(); }
  std::uint32_t registration_seq() const noexcept { return record_->registration_seq(); }
  PolicyParams policy() const noexcept { return record_->policy(policy_type_); }
  TransportProtocol user_protocol() const noexcept { return protocol_; }
  TransportUse user_transport_use() const noexcept { return use_; }
  std::uint16_t user_port() const noexcept { return record_->user_port(); }
  std::uint32_t dccp_service_code() const noexcept { return record_->dccp_service_code(); }
  AddressList user_addresses() const noexcept { return record_->user_addresses(); }
  bool has_asap_transport() const noexcept { return record_->has_asap_transport(); }
  std::uint16_t asap_port() const noexcept { return record_->asap_port(); }
  AddressList asap_addresses() const noexcept { return record_->asap_addresses(); }
  const PoolElementRecord& record() const noexcept { return *record_; }

  // Full copy as the shared PoolElement type (allocates: not for the resolution hot path).
  PoolElement to_pool_element() const;
  // The same copy into `out`, whose vectors keep their capacity (no allocation once they are
  // large enough): for writers that copy many PEs one after the other into reused storage.
  void copy_to(PoolElement& out) const;

 private:
  const PoolElementRecord* record_;
  PolicyType policy_type_;
  TransportProtocol protocol_;
  TransportUse use_;
};

}  // namespace poolreg::handlespace
