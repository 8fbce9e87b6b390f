#include "base/result.h"

#include <cstring>

namespace bulkhead {

namespace {

// strerrordesc_np is not async-signal-safe-sensitive here; we only want the name.
const char* ErrnoName(int err) {
  const char* name = strerrorname_np(err);
  return name != nullptr ? name : "unknown error";
}

}  // namespace

Error Error::Errno(int err, std::string_view what) {
  std::string msg(what);
  msg += ": ";
  msg += strerror(err);
  msg += " (";
  msg += ErrnoName(err);
  msg += ")";
  return Error(std::move(msg), err);
}

Error Error::Context(std::string_view context) && {
  std::string msg(context);
  msg += ": ";
  msg += message_;
  message_ = std::move(msg);
  return std::move(*this);
}

}  // namespace bulkhead
