// The container's init as seen from later verbs: pidfd-based, so a recycled pid is
// never signalled by mistake.
#pragma once

#include "base/result.h"
#include "base/unique_fd.h"
#include "runtime/state_store.h"

namespace bulkhead::runtime {

// A pidfd for the init if it is still the process recorded at create; invalid if gone.
Result<UniqueFd> OpenInit(const ContainerState& state);
Status SignalInit(const ContainerState& state, int sig);
// Waits until the init has exited (zombie or reaped), at most timeout_ms.
Status WaitInitGone(const ContainerState& state, int timeout_ms);

// Waits for a child of ours, passing on the signals a terminal or supervisor sends us
// (HUP INT QUIT TERM USR1 USR2 WINCH CONT). Returns its exit status, 128+signal if killed.
Result<int> WaitForwardingSignals(pid_t pid);

}  // namespace bulkhead::runtime
