// keep_graceful_addresses: on a move (a re-registration with another address set), the
// Graceful-Replacement addresses of the PE's previous record that the new set no longer has
// are kept, marked retiring, after the new ones (RFC 8653; registrar/wire/README.md
// "Address types"). Control thread only (AsapServer's registration path); allocates.
#pragma once

#include <cstddef>

#include "registrar/common/clock.hpp"
#include "registrar/common/pool_element.hpp"
#include "registrar/handlespace/pool_element_record.hpp"

namespace poolreg::asap {

// `next`: the PE as it will be stored (address-checked already: a kept address passed the
// check when it was registered). `previous`: the stored record. A newly retiring address gets
// retire_at = now + its lifetime; one retiring already keeps its time; due ones and those with
// lifetime 0 go. At most `max_addresses` user addresses in total. Returns how many were kept.
std::size_t keep_graceful_addresses(PoolElement& next, const handlespace::PoolElementView& previous, TimeNs now,
                                    std::size_t max_addresses);

}  // namespace poolreg::asap
