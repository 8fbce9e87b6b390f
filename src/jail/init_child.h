// The container's init process, child side: runs in the new namespaces, sets the
// container up step by step, reports to the parent, waits for `start`, and execs.
#pragma once

#include "jail/init_spec.h"

namespace bulkhead::jail {

// Never returns: ends in execve or _exit. Failures go to the parent over `sync`.
[[noreturn]] void InitChildMain(InitSpec& spec, int sync);

}  // namespace bulkhead::jail
