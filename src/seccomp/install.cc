// Install runs in a forked child right before execve: no allocation on the success path, no
// output, nothing but the one system call.
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "seccomp/compile.h"

namespace bulkhead::seccomp {

Result<UniqueFd> Install(const Program& program) {
  if (program.filter.empty() || program.filter.size() > BPF_MAXINSNS) {
    return Error("seccomp: program has " + std::to_string(program.filter.size()) +
                     " instructions (want 1 to " + std::to_string(BPF_MAXINSNS) + ")",
                 EINVAL);
  }
  sock_fprog prog{};
  prog.len = static_cast<unsigned short>(program.filter.size());
  // The kernel copies the program and never writes through this pointer.
  prog.filter = const_cast<sock_filter*>(program.filter.data());

  unsigned int flags = program.flags;
  if (program.has_notify) {
    flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    // TSYNC reports a failing thread by its id, which would be ambiguous with the listener fd;
    // TSYNC_ESRCH makes that failure an ESRCH instead (the kernel requires it here).
    if ((flags & SECCOMP_FILTER_FLAG_TSYNC) != 0) flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
  }

  long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
  if (rc < 0) return Error::FromErrno("seccomp(SECCOMP_SET_MODE_FILTER)");
  if (program.has_notify) return UniqueFd(static_cast<int>(rc));  // the kernel sets CLOEXEC
  if (rc > 0) {
    // Only TSYNC returns a positive value: the thread that could not be synchronized.
    return Error("seccomp: thread " + std::to_string(rc) + " could not take the filter", ESRCH);
  }
  return UniqueFd();
}

}  // namespace bulkhead::seccomp
