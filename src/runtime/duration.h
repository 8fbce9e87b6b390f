// Go duration strings ("5s", "500ms", "1m30s", "1.5h"), as runc's --interval takes them.
#pragma once

#include <chrono>
#include <string_view>

#include "base/result.h"

namespace bulkhead::runtime {

// Parses what Go's time.ParseDuration accepts: an optional sign, then one or more
// numbers (with an optional fraction), each followed by a unit of ns, us (or µs), ms, s,
// m or h; a lone "0" needs no unit.
Result<std::chrono::nanoseconds> ParseGoDuration(std::string_view text);

// The timeout poll(2) takes for a wait of d: rounded up to whole milliseconds, 0 for a wait
// already over, at most INT_MAX.
int PollTimeoutMs(std::chrono::nanoseconds d);

}  // namespace bulkhead::runtime
