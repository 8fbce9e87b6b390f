// The monitor's built-in jail. Before the guest runs, the monitor sits in new
// mount, pid, ipc, uts and network namespaces, on an empty read-only root, with
// no capabilities, no_new_privs and tight rlimits; each thread then installs its
// seccomp allow-list (seccomp_policy.h). Every file the VM needs is opened
// before the jail, so its root holds nothing at all.
#pragma once

#include <sys/types.h>

#include <functional>

#include "base/result.h"

namespace bulkhead::vmm {

// Unshares the namespaces (the pid namespace applies to the next child).
Status EnterNamespaces();

// Forks. The child runs `child` and exits with its return value. The parent
// forwards SIGTERM, SIGINT, SIGHUP and SIGQUIT to the child, waits for it, and
// returns its wait status. A KVM VM belongs to the process that created it, so
// everything KVM happens in the child.
Result<int> ForkAndWait(const std::function<int()>& child);

// Ends the calling process the way `wait_status` says the child ended: the same
// exit code, or the same fatal signal (so a seccomp kill reads as SIGSYS).
[[noreturn]] void ExitLike(int wait_status);

// In the child: a private, empty, read-only tmpfs becomes the root.
Status PivotToEmptyRoot();

// Reads what must be read from /proc before the root disappears.
struct JailFacts {
  int last_cap = 0;
};
Result<JailFacts> ReadJailFacts();

// In the child, after PivotToEmptyRoot: every capability dropped (bounding,
// ambient, effective, permitted, inheritable) and no_new_privs set.
Status DropPrivileges(const JailFacts& facts);

// In the child, once every thread exists: no fds beyond those open now (and
// `spare_fds` more: the agent's clients), no core dumps, no processes
// (RLIMIT_NPROC 0; root is exempt from it, which is why clone is on no seccomp
// list).
Status ApplyRlimits(int spare_fds = 0);

}  // namespace bulkhead::vmm
