#include "dataplane/runtime/listener_pause.hpp"

#include <sys/epoll.h>

#include <cerrno>

namespace poolreg::runtime {

ListenerPause::~ListenerPause() {
  for (const auto& [fd, timer] : resume_) loop_.cancel(timer);
}

bool ListenerPause::is_resource_shortage(int error) noexcept {
  return error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM;
}

bool ListenerPause::pause(int fd) {
  if (paused(fd)) return false;
  if (!loop_.modify_fd(fd, 0)) return false;
  resume_[fd] = loop_.schedule_after(backoff_, [this, fd] {
    resume_.erase(fd);
    loop_.modify_fd(fd, EPOLLIN);
  });
  return true;
}

void ListenerPause::forget(int fd) {
  auto it = resume_.find(fd);
  if (it == resume_.end()) return;
  loop_.cancel(it->second);
  resume_.erase(it);
}

}  // namespace poolreg::runtime
