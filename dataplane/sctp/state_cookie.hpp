// The conn address a state cookie of our usrsctp copy names (AF_CONN), read from a COOKIE ECHO
// before usrsctp gets it. usrsctp's COOKIE ECHO handling takes the peer address stored in the
// cookie as the new association's address; usrsctp 0.9.5 stores none for AF_CONN (a zero
// address: sctp_engine_test checks real cookies) and the association is built on the endpoint the
// COOKIE ECHO came in on. Should a usrsctp store the conn address (the endpoint the INIT came in
// on), the engine lets a COOKIE ECHO through only when that is the endpoint it came in on, so a
// cookie naming an endpoint that was evicted (its memory perhaps holding another peer now) never
// reaches usrsctp (remote_endpoint_table.hpp "Eviction").
//
// Layout (usrsctp 0.9.5, struct sctp_state_cookie, packed, host byte order): identification
// (16 bytes), time_entered (struct timeval), cookie_life, two tie tags, peers_vtag, my_vtag
// (4 bytes each), address[4] (for AF_CONN: the conn address pointer, memcpy'd), addr_type
// (SCTP_CONN_ADDRESS = 4), ... The cookie is signed by usrsctp, not encrypted: reading it is safe;
// a forged one still fails usrsctp's signature check after this one. Pure code.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace poolreg::sctp {

inline constexpr std::uint8_t kSctpChunkCookieEcho = 10;

// The conn address named by the state cookie of the COOKIE ECHO that starts `packet` (common
// header + chunks). nullopt: not a COOKIE ECHO, too short to hold a cookie, or a cookie of
// another address type (then the caller leaves the decision to usrsctp).
std::optional<const void*> cookie_conn_address(std::span<const std::uint8_t> packet) noexcept;

}  // namespace poolreg::sctp
