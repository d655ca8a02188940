// parse_proc_stat(): the fields counted after the command name's last ')' (which may itself hold
// spaces and parentheses); read_process_stats() on this test process.
#include "dataplane/control/process_stats.hpp"

#include <gtest/gtest.h>

namespace poolreg::control {
namespace {

TEST(ProcessStats, ParsesProcStatAfterTheCommandName) {
  // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
  // cutime cstime priority nice num_threads itrealvalue starttime vsize rss ...
  const char* text =
      "4242 (pool (reg) d) S 1 4242 4242 0 -1 4194560 500 0 0 0 120 30 0 0 20 0 5 0 98765 123456789 2048 "
      "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
  const auto s = parse_proc_stat(text);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->utime_ticks, 120u);
  EXPECT_EQ(s->stime_ticks, 30u);
  EXPECT_EQ(s->threads, 5u);
  EXPECT_EQ(s->starttime_ticks, 98765u);
  EXPECT_EQ(s->vsize_bytes, 123456789u);
  EXPECT_EQ(s->rss_pages, 2048u);
}

TEST(ProcessStats, RejectsTruncatedOrMalformedText) {
  EXPECT_FALSE(parse_proc_stat("").has_value());
  EXPECT_FALSE(parse_proc_stat("4242 (x) S 1 2 3").has_value());
  EXPECT_FALSE(parse_proc_stat("4242 no-parenthesis S").has_value());
  EXPECT_FALSE(parse_proc_stat("1 (x) S 1 1 1 0 -1 0 0 0 0 0 1x 2 0 0 20 0 1 0 5 6 7").has_value());
}

TEST(ProcessStats, ReadsThisProcess) {
  const auto p = read_process_stats();
  ASSERT_TRUE(p.has_value());
  EXPECT_GT(p->resident_bytes, 0);
  EXPECT_GT(p->virtual_bytes, p->resident_bytes);
  EXPECT_GE(p->threads, 1u);
  EXPECT_GE(p->open_fds, 3u);  // stdin, stdout, stderr
  EXPECT_GE(p->max_fds, p->open_fds);
  EXPECT_GT(p->start_time_seconds, 1.6e9);
}

}  // namespace
}  // namespace poolreg::control
