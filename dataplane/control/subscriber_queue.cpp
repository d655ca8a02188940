#include "dataplane/control/subscriber_queue.hpp"

namespace poolreg::control {

std::string SubscriberQueue::dropped_record(std::uint64_t count) {
  return "{\"kind\":\"dropped\",\"count\":" + std::to_string(count) + "}";
}

bool SubscriberQueue::offer(std::string& out, std::size_t unsent, std::string_view line) {
  std::string record;
  if (dropped_pending_ > 0) record = dropped_record(dropped_pending_);
  const std::size_t need = line.size() + 1 + (record.empty() ? 0 : record.size() + 1);
  if (unsent > max_unsent_ || need > max_unsent_ - unsent) {
    ++dropped_pending_;
    ++dropped_total_;
    return false;
  }
  if (!record.empty()) {
    out += record;
    out += '\n';
    dropped_pending_ = 0;
  }
  out += line;
  out += '\n';
  ++queued_total_;
  return true;
}

bool SubscriberQueue::on_drained(std::string& out, std::size_t unsent) {
  if (dropped_pending_ == 0) return false;
  const std::string record = dropped_record(dropped_pending_);
  if (unsent > max_unsent_ || record.size() + 1 > max_unsent_ - unsent) return false;
  out += record;
  out += '\n';
  dropped_pending_ = 0;
  return true;
}

}  // namespace poolreg::control
