// Expected<T, E>: the one shape of a fallible function's result in poolreg: a value of T or an
// error of E. It is shaped like C++23 std::expected (has_value, value, error, operator*, ->,
// value_or, Unexpected / unexpected()), so moving to C++23 is a rename to std::expected.
//
// Where each error shape belongs (see the style notes):
// - data path and protocol logic: Expected<T, SomeError> with a small error struct (a cause code
//   plus a static reason), never an exception;
// - start-up steps that only report to a person: Expected<T, std::string> (the message);
// - exceptions only at the configuration and command-line parsing boundary (TOML files, the
//   command line, operator commands on the control socket).
// Exception boundary: configuration and command parsing only; everything else returns Expected.
// One derived shape: wire::DecodeResult<T> is an Expected<T, DecodeError> plus a side channel
// (the unknown-parameter reports, valid on success and on failure).
//
// Accessing value() of an error (or error() of a value) is a programming error: asserted, never
// thrown. Expected<void, E> holds only the error or nothing.
#pragma once

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

namespace poolreg {

// The error half, as std::unexpected: `return Unexpected(Error{...});` or `return unexpected(e);`.
template <typename E>
class Unexpected {
 public:
  explicit Unexpected(E error) : error_(std::move(error)) {}
  const E& error() const& noexcept { return error_; }
  E& error() & noexcept { return error_; }
  E&& error() && noexcept { return std::move(error_); }

 private:
  E error_;
};

template <typename E>
Unexpected<std::decay_t<E>> unexpected(E&& error) {
  return Unexpected<std::decay_t<E>>(std::forward<E>(error));
}

template <typename T, typename E>
class [[nodiscard]] Expected {
 public:
  using value_type = T;
  using error_type = E;

  Expected() requires std::is_default_constructible_v<T> : v_(std::in_place_index<0>) {}
  Expected(const T& value) : v_(std::in_place_index<0>, value) {}             // NOLINT: implicit as std::expected
  Expected(T&& value) : v_(std::in_place_index<0>, std::move(value)) {}       // NOLINT
  template <typename G>
  Expected(const Unexpected<G>& e) : v_(std::in_place_index<1>, e.error()) {}  // NOLINT
  template <typename G>
  Expected(Unexpected<G>&& e) : v_(std::in_place_index<1>, std::move(e).error()) {}  // NOLINT

  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & noexcept { assert(has_value()); return *std::get_if<0>(&v_); }
  const T& value() const& noexcept { assert(has_value()); return *std::get_if<0>(&v_); }
  T&& value() && noexcept { assert(has_value()); return std::move(*std::get_if<0>(&v_)); }
  T& operator*() & noexcept { return value(); }
  const T& operator*() const& noexcept { return value(); }
  T* operator->() noexcept { return &value(); }
  const T* operator->() const noexcept { return &value(); }
  template <typename U>
  T value_or(U&& fallback) const& {
    return has_value() ? value() : static_cast<T>(std::forward<U>(fallback));
  }

  E& error() & noexcept { assert(!has_value()); return *std::get_if<1>(&v_); }
  const E& error() const& noexcept { assert(!has_value()); return *std::get_if<1>(&v_); }
  E&& error() && noexcept { assert(!has_value()); return std::move(*std::get_if<1>(&v_)); }

 private:
  std::variant<T, E> v_;
};

template <typename E>
class [[nodiscard]] Expected<void, E> {
 public:
  using value_type = void;
  using error_type = E;

  Expected() = default;
  template <typename G>
  Expected(const Unexpected<G>& e) : error_(e.error()), ok_(false) {}  // NOLINT
  template <typename G>
  Expected(Unexpected<G>&& e) : error_(std::move(e).error()), ok_(false) {}  // NOLINT

  bool has_value() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  void value() const noexcept { assert(ok_); }
  const E& error() const& noexcept { assert(!ok_); return error_; }
  E& error() & noexcept { assert(!ok_); return error_; }

 private:
  E error_{};
  bool ok_ = true;
};

}  // namespace poolreg
