// WireOptions: how the ASAP/ENRP codec encodes (RFC or next-gen mode) and the limits it enforces
// while decoding. A plain value; callers keep one per peer/association (next_gen is negotiated).
#pragma once

#include <cstddef>

#include "registrar/common/pool_handle.hpp"
#include "registrar/common/transport.hpp"

namespace poolreg::wire {

struct WireOptions {
  // Encoding: false = RFC mode (byte-exact RFC 5351-5356/RSPLIB layouts, 32-bit IDs, no
  // extension TLVs); true = next-gen mode (registrar/wire/README.md: 0x8040..0x8044 added).
  // Decoding accepts both forms regardless of this flag; it only additionally allows a PE
  // Checksum parameter with a 4-byte value (Length 8), which only next-gen peers may send.
  bool next_gen = false;
  // Pool handles longer than this are rejected with cause 0x3 (WIRE-07); at most
  // kPoolHandleCapacity (64) is honoured.
  std::size_t max_pool_handle = kDefaultMaxPoolHandleBytes;
  // Largest message accepted or produced (the 16-bit Length field caps it at 65535 anyway).
  std::size_t max_message = 65535;
  // Addresses per transport parameter (RSPLIB limit 64); more → cause 0x3.
  std::size_t max_addresses = kMaxAddressesPerTransport;
};

}  // namespace poolreg::wire
