// Wall-clock timestamps as runc prints them.
#pragma once

#include <string>

namespace bulkhead {

// Current UTC time in RFC 3339 with nanoseconds: 2026-01-02T03:04:05.123456789Z.
std::string NowRfc3339();

}  // namespace bulkhead
