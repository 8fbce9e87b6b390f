// Compiles an OCI seccomp profile (linux.seccomp) to classic BPF with libseccomp, and installs
// the result. Compiling happens in the parent, before clone; installing is the child's last step
// before execve, so Install does no work beyond the seccomp(2) call.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "oci/config.h"

namespace bulkhead::seccomp {

// What a filter returns for a syscall made under an architecture the profile does not list.
// Killing the whole process (not just the thread) leaves nothing half-running behind.
inline constexpr uint32_t kBadArchAction = 0x80000000U;  // SECCOMP_RET_KILL_PROCESS

struct Program {
  std::vector<struct sock_filter> filter;  // classic BPF as exported by libseccomp
  unsigned int flags = 0;                  // SECCOMP_FILTER_FLAG_* for seccomp(2)
  bool has_notify = false;                 // some rule uses SCMP_ACT_NOTIFY
};

// Compiles a profile. Unknown syscall names are skipped (as runc does: kernels and libseccomp
// versions differ); unknown actions, operators, architectures and flags are errors naming the
// field ("linux.seccomp.syscalls[3].action: unknown action SCMP_ACT_FOO"). Rules whose action
// equals the default action are dropped. A rule with several conditions on one argument becomes
// one rule per condition (runc's semantics; libseccomp refuses them in one rule).
Result<Program> Compile(const oci::Seccomp& profile);

// Installs the program on the calling thread (with SECCOMP_FILTER_FLAG_TSYNC: all threads).
// Setting PR_SET_NO_NEW_PRIVS (or holding CAP_SYS_ADMIN) is the caller's business. Returns the
// notification listener fd when program.has_notify, else an invalid UniqueFd. Safe in a forked
// child: the success path allocates nothing.
Result<UniqueFd> Install(const Program& program);

}  // namespace bulkhead::seccomp
