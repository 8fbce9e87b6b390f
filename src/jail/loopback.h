// A new network namespace starts with `lo` down; containers expect it up (as
// runc leaves it), with nothing else: the sandbox still reaches no address
// beyond itself.
#pragma once

#include "base/result.h"

namespace bulkhead::jail {

// Sets IFF_UP on `lo` in the caller's network namespace (needs CAP_NET_ADMIN there).
Status BringUpLoopback();

}  // namespace bulkhead::jail
