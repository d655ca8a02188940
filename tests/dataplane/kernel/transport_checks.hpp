// Behaviour checks that SCTP and TCP connections of KernelTransport must both pass, written once
// and called from sctp_transport_test.cpp and tcp_transport_test.cpp with the transport's own
// message size and bounds.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "dataplane/kernel/kernel_transport.hpp"
#include "tests/dataplane/runtime/recording_handler.hpp"

namespace poolreg::kernel::testing {

// Graceful close: with numbered messages of `size` bytes waiting in the sender's queue for `id`
// (at most max_sends sent to get there), close() still delivers every message, in order, and
// the peer then sees the connection closed, not reset. Both sides must already be connected.
inline void expect_close_flushes_queue(runtime::EventLoop& loop, KernelTransport& sender, runtime::testing::RecordingHandler& sender_handler,
                                       runtime::testing::RecordingHandler& peer, ConnectionId id, std::uint32_t max_sends,
                                       std::size_t size) {
  std::uint32_t sent = 0;
  while (sent < max_sends && sender.queued_messages(id) < 3) {  // until something waits in the queue
    ASSERT_TRUE(runtime::send_ok(sender.send(id, WireProtocol::kAsap, runtime::testing::make_message(0x05, size, sent))));
    ++sent;
  }
  ASSERT_GE(sender.queued_messages(id), 3u);
  sender.close(id);
  EXPECT_EQ(sender.send(id, WireProtocol::kAsap, runtime::testing::make_message(0x05, 8)), runtime::SendResult::kNoConnection);
  ASSERT_FALSE(peer.connected.empty());
  const ConnectionId peer_id = peer.connected[0];
  ASSERT_TRUE(runtime::testing::run_until(loop, [&] { return peer.is_closed(peer_id); }, std::chrono::seconds(20)));
  EXPECT_EQ(peer.close_reason(peer_id), runtime::CloseReason::kPeerClosed);
  ASSERT_EQ(peer.messages.size(), sent);
  for (std::uint32_t i = 0; i < sent; ++i) EXPECT_EQ(runtime::testing::seq_of(peer.messages[i].bytes), i);
  EXPECT_EQ(sender_handler.close_reason(id), runtime::CloseReason::kLocalClose);
}

}  // namespace poolreg::kernel::testing
