// FunctionRef: a non-owning, non-allocating reference to a callable (visitors on the read path).
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

namespace poolreg {

template <typename Signature>
class FunctionRef;

// Valid only while the referenced callable lives: pass lambdas directly as arguments, never
// store a FunctionRef beyond the call it was given to.
template <typename R, typename... Args>
class FunctionRef<R(Args...)> {
 public:
  template <typename F, typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, FunctionRef> &&
                                                    std::is_invocable_r_v<R, F&, Args...>>>
  FunctionRef(F&& f) noexcept  // NOLINT(google-explicit-constructor): used like a function parameter
      : object_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
        call_([](void* o, Args... args) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(o))(std::forward<Args>(args)...);
        }) {}

  R operator()(Args... args) const { return call_(object_, std::forward<Args>(args)...); }

 private:
  void* object_;
  R (*call_)(void*, Args...);
};

}  // namespace poolreg
