// Reclaimer: deferred freeing of memory that lock-free readers may still be reading.
#pragma once

#include <utility>
#include <vector>

namespace poolreg {

// A writer that unlinks an object readers might still hold hands it to retire(); the object is
// destroyed only after every reader has passed a quiescent state (QSBR) since the retire call.
// Implementations: the handlespace's QSBR domain (registrar/handlespace/qsbr.hpp) and, for
// single-threaded tests, DeferredReclaimer below.
class Reclaimer {
 public:
  virtual ~Reclaimer() = default;
  virtual void retire(void* object, void (*destroy)(void*)) = 0;

  template <typename T>
  void retire_object(T* object) {
    retire(object, [](void* p) { delete static_cast<T*>(p); });
  }
  template <typename T>
  void retire_array(T* array) {
    retire(array, [](void* p) { delete[] static_cast<T*>(p); });
  }
};

// Frees retired objects when drain() is called or on destruction. Only for tests and
// single-threaded tools where the caller knows no reader is active.
class DeferredReclaimer final : public Reclaimer {
 public:
  ~DeferredReclaimer() override { drain(); }
  void retire(void* object, void (*destroy)(void*)) override { pending_.emplace_back(object, destroy); }
  void drain() {
    auto items = std::move(pending_);
    pending_.clear();
    for (auto& [object, destroy] : items) destroy(object);
  }
  std::size_t pending() const noexcept { return pending_.size(); }

 private:
  std::vector<std::pair<void*, void (*)(void*)>> pending_;
};

}  // namespace poolreg
