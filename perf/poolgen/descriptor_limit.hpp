// Descriptor limit: how many file descriptors a poolgen run needs and raising RLIMIT_NOFILE for
// it. Over SCTP an association is no descriptor (usrsctp AF_CONN inside the process, one UDP
// socket per lane); over TCP every association is one socket.
#pragma once

#include <cstdint>
#include <string>

#include "perf/poolgen/poolgen_config.hpp"
#include "registrar/common/expected.hpp"

namespace poolreg::poolgen {

// Descriptors a run holds at most: per lane an EventLoop (epoll, eventfd, timer, signalfd) and a
// UDP socket (+ raw sockets with --sctp-native), the PE and PU associations when they are TCP
// sockets, and a margin for stdio, report, pcap and timeseries files.
std::uint64_t descriptors_needed(const PoolgenConfig& config) noexcept;

// Raises the soft RLIMIT_NOFILE to the hard limit when it is below `needed`. The line to log when
// it was raised (empty when nothing had to change); the error when even the hard limit is too low.
Expected<std::string, std::string> ensure_descriptors(std::uint64_t needed);

}  // namespace poolreg::poolgen
