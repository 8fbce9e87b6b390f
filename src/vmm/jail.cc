#include "vmm/jail.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <linux/magic.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/syscall.h"
#include "jail/caps.h"

namespace bulkhead::vmm {
namespace {

constexpr int kForwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT};

// The empty root is mounted over /proc: a directory every Linux system has, and
// hiding the host's process list behind it costs nothing in our own namespace.
constexpr const char* kRootMountpoint = "/proc";

// The initial ramfs is the one root pivot_root refuses; it is a ramfs or tmpfs
// mount whose root is its own mount (no parent mount above "/").
bool RootIsInitramfs() {
  struct statfs fs;
  if (statfs("/", &fs) != 0) return false;
  return fs.f_type == RAMFS_MAGIC || fs.f_type == TMPFS_MAGIC;
}

}  // namespace

Status EnterNamespaces() {
  if (unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET) != 0) {
    int err = errno;
    if (err == EPERM) {
      return Error::Errno(err, "entering the jail's namespaces (needs CAP_SYS_ADMIN: run as root, or --no-jail)");
    }
    return Error::Errno(err, "entering the jail's namespaces");
  }
  return Ok();
}

Result<int> ForkAndWait(const std::function<int()>& child) {
  sigset_t set, old;
  sigemptyset(&set);
  for (int s : kForwarded) sigaddset(&set, s);
  sigaddset(&set, SIGCHLD);
  sigprocmask(SIG_BLOCK, &set, &old);
  pid_t pid = fork();
  if (pid < 0) {
    sigprocmask(SIG_SETMASK, &old, nullptr);
    return Error::FromErrno("forking the monitor");
  }
  if (pid == 0) {
    // The VM must not outlive the monitor process that callers know and wait for (a
    // runtime's state holds that pid); SIGKILL to it takes the VM down too.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    // The child is pid 1 of its namespace; it decides itself what signals mean.
    sigprocmask(SIG_SETMASK, &old, nullptr);
    _exit(child());
  }
  // The parent holds nothing the VM needs: close every fd but stdio.
  syscall(SYS_close_range, 3U, ~0U, 0U);
  for (;;) {
    int sig = sigwaitinfo(&set, nullptr);
    if (sig < 0) continue;
    if (sig != SIGCHLD) {
      kill(pid, sig);
      continue;
    }
    int status = 0;
    pid_t r = RetryEintr([&] { return waitpid(pid, &status, WNOHANG); });
    if (r == pid) return status;
  }
}

void ExitLike(int wait_status) {
  if (WIFEXITED(wait_status)) _exit(WEXITSTATUS(wait_status));
  int sig = WIFSIGNALED(wait_status) ? WTERMSIG(wait_status) : SIGKILL;
  rlimit none{0, 0};
  setrlimit(RLIMIT_CORE, &none);
  signal(sig, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  sigprocmask(SIG_UNBLOCK, &set, nullptr);
  raise(sig);
  _exit(128 + sig);
}

Status PivotToEmptyRoot() {
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return Error::FromErrno("making the jail's mounts private");
  }
  if (mount("bulkhead-vmm", kRootMountpoint, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
            "size=4k,nr_inodes=4,mode=0555") != 0) {
    return Error::FromErrno("mounting the jail's empty root");
  }
  if (chdir(kRootMountpoint) != 0) return Error::FromErrno("entering the jail's root");
  // pivot_root(".", "."): the old root ends up stacked on the new one, then detached.
  if (syscall(SYS_pivot_root, ".", ".") == 0) {
    if (umount2(".", MNT_DETACH) != 0) return Error::FromErrno("detaching the host's root");
  } else if (errno == EINVAL && RootIsInitramfs()) {
    // A host running from its initramfs (rootfs) cannot pivot_root away from
    // it; move the empty root over "/" and chroot into it instead. The host's
    // tree stays mounted underneath, out of reach: leaving a chroot takes
    // CAP_SYS_CHROOT and the chroot call, and the monitor keeps neither.
    if (mount(".", "/", nullptr, MS_MOVE, nullptr) != 0) return Error::FromErrno("moving the jail's root over /");
    if (chroot(".") != 0) return Error::FromErrno("chroot into the jail");
  } else {
    return Error::FromErrno("pivot_root into the jail");
  }
  if (chdir("/") != 0) return Error::FromErrno("chdir / in the jail");
  if (mount(nullptr, "/", nullptr, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
    return Error::FromErrno("making the jail's root read-only");
  }
  return Ok();
}

Result<JailFacts> ReadJailFacts() {
  JailFacts f;
  f.last_cap = jail::LastCap();
  if (f.last_cap <= 0) return Error("reading /proc/sys/kernel/cap_last_cap");
  return f;
}

Status DropPrivileges(const JailFacts& facts) {
  jail::CapSets none;
  BH_TRY(jail::DropBounding(none, facts.last_cap).Context("dropping the bounding set"));
  BH_TRY(jail::ApplyCaps(none, facts.last_cap).Context("dropping capabilities"));
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return Error::FromErrno("setting no_new_privs");
  return Ok();
}

Status ApplyRlimits(int spare_fds) {
  // The highest fd open now bounds every fd the monitor will ever hold.
  // (The jail has no /proc to list them, so probe.)
  int highest = 2;
  for (int fd = 3; fd < 4096; ++fd) {
    if (fcntl(fd, F_GETFD) >= 0) highest = fd;
  }
  struct {
    int resource;
    rlim_t value;
    const char* name;
  } const limits[] = {
      {RLIMIT_NOFILE, static_cast<rlim_t>(highest + 1 + spare_fds), "RLIMIT_NOFILE"},
      {RLIMIT_NPROC, 0, "RLIMIT_NPROC"},
      {RLIMIT_CORE, 0, "RLIMIT_CORE"},
  };
  for (const auto& l : limits) {
    rlimit r{l.value, l.value};
    if (setrlimit(l.resource, &r) != 0) return Error::FromErrno(std::string("setting ") + l.name);
  }
  return Ok();
}

}  // namespace bulkhead::vmm
