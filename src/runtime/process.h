// The container's init as seen from later verbs: pidfd-based, so a recycled pid is
// never signalled by mistake.
#pragma once

#include <signal.h>

#include "base/result.h"
#include "base/unique_fd.h"
#include "runtime/state_store.h"

namespace bulkhead::runtime {

// A pidfd for the init if it is still the process recorded at create; invalid if gone.
Result<UniqueFd> OpenInit(const ContainerState& state);
Status SignalInit(const ContainerState& state, int sig);
// Waits until the init has exited (zombie or reaped), at most timeout_ms.
Status WaitInitGone(const ContainerState& state, int timeout_ms);

// The signals a terminal or supervisor sends us that belong to the process we stand for.
inline constexpr int kForwardedSignals[] = {SIGHUP,  SIGINT,  SIGQUIT,  SIGTERM,
                                            SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT};

// Waits for a child of ours, passing on kForwardedSignals. Returns its exit status,
// 128+signal if killed.
Result<int> WaitForwardingSignals(pid_t pid);

}  // namespace bulkhead::runtime
