// Thin helpers around raw system calls: EINTR retry and errno-to-Result conversion.
#pragma once

#include <cerrno>
#include <string_view>

#include "base/result.h"

namespace bulkhead {

// Repeats fn() while it fails with EINTR.
template <class F>
auto RetryEintr(F fn) -> decltype(fn()) {
  decltype(fn()) r;
  do {
    r = fn();
  } while (r == -1 && errno == EINTR);
  return r;
}

// Converts a -1/errno return into a Status with `what` as context.
inline Status CheckSys(long rc, std::string_view what) {
  if (rc == -1) return Error::FromErrno(what);
  return Ok();
}

}  // namespace bulkhead
