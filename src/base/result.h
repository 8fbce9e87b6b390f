// Errors are values: every fallible operation returns Result<T>, and the error
// collects context as it travels up ("mounting proc on /proc: EPERM").
#pragma once

#include <cerrno>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace bulkhead {

class [[nodiscard]] Error {
 public:
  Error() = default;
  explicit Error(std::string message, int err = 0) : message_(std::move(message)), errno_(err) {}

  // "what: strerror(err)"; keeps err so callers can branch on it.
  static Error Errno(int err, std::string_view what);
  // Same, reading errno right now.
  static Error FromErrno(std::string_view what) { return Errno(errno, what); }

  const std::string& message() const { return message_; }
  int errno_value() const { return errno_; }

  // Prepends "context: " to the message.
  Error Context(std::string_view context) &&;

 private:
  std::string message_;
  int errno_ = 0;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

  Result Context(std::string_view context) && {
    if (ok()) return std::move(*this);
    return std::get<1>(std::move(v_)).Context(context);
  }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : err_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const& { return err_; }
  Error&& error() && { return std::move(err_); }

  Result Context(std::string_view context) && {
    if (ok_) return {};
    return std::move(err_).Context(context);
  }

 private:
  Error err_;
  bool ok_ = true;
};

using Status = Result<void>;

inline Status Ok() { return {}; }

}  // namespace bulkhead

#define BH_CONCAT_INNER(a, b) a##b
#define BH_CONCAT(a, b) BH_CONCAT_INNER(a, b)

// Returns the error of a Result<void>/Result<T> expression from the enclosing function.
#define BH_TRY(expr) BH_TRY_IMPL(BH_CONCAT(bh_try_, __COUNTER__), expr)
#define BH_TRY_IMPL(tmp, expr)                          \
  do {                                                  \
    auto tmp = (expr);                                  \
    if (!tmp.ok()) return std::move(tmp).error();       \
  } while (0)

// `BH_ASSIGN(auto x, Foo())` declares x from a Result<T> or returns its error.
#define BH_ASSIGN(lhs, expr) BH_ASSIGN_IMPL(BH_CONCAT(bh_assign_, __COUNTER__), lhs, expr)
#define BH_ASSIGN_IMPL(tmp, lhs, expr)                 \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) return std::move(tmp).error();        \
  lhs = std::move(tmp).value()
