// Other processes and namespaces: ptrace, cross-process memory, stealing descriptors,
// signalling the host, and new or other namespaces through every entry point (unshare,
// setns, clone, clone3, and the i386 and x32 system call ABIs).
#include <dirent.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "attempt.h"

namespace bulkhead::escape {
namespace {

// A child to aim at: another process of the same user, the easiest target there is.
class Target {
 public:
  Target() : pid_(fork()) {
    if (pid_ == 0) {
      for (;;) pause();
    }
  }
  ~Target() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_;
};

std::string PtraceAttach() {
  Target t;
  if (t.pid() < 0) return Setup("fork: " + ErrnoName(errno));
  return Outcome(ptrace(PTRACE_ATTACH, t.pid(), nullptr, nullptr));
}

std::string PtraceTraceme() { return Outcome(ptrace(PTRACE_TRACEME, 0, nullptr, nullptr)); }

std::string ProcessVm() {
  Target t;
  if (t.pid() < 0) return Setup("fork: " + ErrnoName(errno));
  static char word[8] = "secret";
  char buf[8];
  iovec local{buf, sizeof buf};
  iovec remote{word, sizeof word};
  Probes p;
  p.Add("readv", Outcome(process_vm_readv(t.pid(), &local, 1, &remote, 1, 0)));
  p.Add("writev", Outcome(process_vm_writev(t.pid(), &local, 1, &remote, 1, 0)));
  return p.Result();
}

std::string PidfdGetfd() {
  Target t;
  if (t.pid() < 0) return Setup("fork: " + ErrnoName(errno));
  long pidfd = syscall(SYS_pidfd_open, t.pid(), 0);
  if (pidfd < 0) return Setup("pidfd_open: " + ErrnoName(errno));
  return Outcome(syscall(SYS_pidfd_getfd, pidfd, 0, 0));
}

std::string KillHost() {
  // The runner starts a host process with the same host uid as the container's root, so
  // only the PID namespace stands between this attempt and it.
  std::string host = Env("BH_HOST_PID");
  if (host.empty()) return Setup("BH_HOST_PID not set");
  Probes p;
  p.Add("kill", Outcome(kill(static_cast<pid_t>(atol(host.c_str())), SIGKILL)));
  // Every process the caller may signal, except itself and the namespace's init.
  p.Add("kill-1", Outcome(kill(-1, SIGKILL)));
  return p.Result();
}

std::string Setns() {
  Probes p;
  for (const char* ns : {"/proc/self/ns/mnt", "/proc/self/ns/user", "/proc/1/ns/pid"}) {
    int fd = open(ns, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Setup(std::string("open ") + ns + ": " + ErrnoName(errno));
    p.Add(ns, Outcome(setns(fd, 0)));
    close(fd);
  }
  return p.Result();
}

std::string UnshareUser() { return Outcome(unshare(CLONE_NEWUSER)); }

std::string UnshareOthers() {
  Probes p;
  for (int flag : {CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWNET, CLONE_NEWPID, CLONE_NEWTIME}) {
    p.Add("unshare", Outcome(unshare(flag)));
  }
  return p.Result();
}

std::string CloneNewuser() {
  long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, nullptr, nullptr, nullptr, 0);
  if (pid == 0) _exit(0);
  if (pid > 0) waitpid(static_cast<pid_t>(pid), nullptr, 0);
  return Outcome(pid);
}

std::string Clone3Newuser() {
  clone_args args{};
  args.flags = CLONE_NEWUSER;
  args.exit_signal = SIGCHLD;
  long pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid == 0) _exit(0);
  if (pid > 0) waitpid(static_cast<pid_t>(pid), nullptr, 0);
  return Outcome(pid);
}

#if defined(__x86_64__)
std::string UnshareInt80() {
  // The i386 entry point from a 64-bit process: a filter that checked only x86_64 numbers
  // would see 310 (i386 unshare) as some other call.
  long rc;
  asm volatile("int $0x80"
               : "=a"(rc)
               : "a"(310L), "b"(static_cast<long>(CLONE_NEWUSER))
               : "memory", "r8", "r9", "r10", "r11");
  if (rc < 0 && rc > -4096) errno = static_cast<int>(-rc);
  return Outcome(rc < 0 && rc > -4096 ? -1 : rc);
}

std::string UnshareX32() {
  constexpr long kX32Bit = 0x40000000;
  return Outcome(syscall(kX32Bit | SYS_unshare, CLONE_NEWUSER));
}
#endif

}  // namespace

void AddProcessAttempts(Attempts& out) {
  out.push_back({"ptrace_attach", "ptrace-attach to another process", "EPERM",
                 "seccomp: ptrace refused (EPERM)", PtraceAttach});
  out.push_back({"ptrace_traceme", "PTRACE_TRACEME", "EPERM", "seccomp: ptrace refused (EPERM)",
                 PtraceTraceme});
  out.push_back({"process_vm_readv", "read and write another process's memory", "EPERM",
                 "seccomp: process_vm_readv/writev refused (EPERM)", ProcessVm});
  out.push_back({"pidfd_getfd", "steal another process's descriptor with pidfd_getfd", "EPERM",
                 "seccomp: pidfd_getfd refused (EPERM)", PidfdGetfd});
  out.push_back({"kill_host", "SIGKILL a host pid and kill(-1)", "ESRCH",
                 "PID namespace: host pids do not exist here (ESRCH), kill(-1) reaches only the "
                 "container; the runner checks its host process (same host uid) survives",
                 KillHost});
  out.push_back({"setns", "setns into mount, user and pid namespaces", "EPERM",
                 "seccomp: setns refused (EPERM)", Setns});
  out.push_back({"unshare_user", "unshare a new user namespace", "EPERM",
                 "seccomp: unshare refused (EPERM); a new user namespace would give back every "
                 "capability over fresh kernel surface",
                 UnshareUser});
  out.push_back({"unshare_other_ns", "unshare mount, cgroup, net, pid and time namespaces", "EPERM",
                 "seccomp: unshare refused (EPERM)", UnshareOthers});
  out.push_back({"clone_newuser", "clone with CLONE_NEWUSER", "EPERM",
                 "seccomp: clone allowed only without namespace flags (EPERM)", CloneNewuser});
  out.push_back({"clone3_newuser", "clone3 with CLONE_NEWUSER", "ENOSYS",
                 "seccomp: clone3 answers ENOSYS (its flags are out of seccomp's sight; libc "
                 "falls back to clone)",
                 Clone3Newuser});
#if defined(__x86_64__)
  out.push_back({"unshare_int80", "unshare(CLONE_NEWUSER) through the i386 int 0x80 entry",
                 "EPERM|SIGSEGV",
                 "seccomp: the i386 ABI is filtered with the same list (EPERM); where the host "
                 "kernel offers no int 0x80 entry to 64-bit code it faults first (SIGSEGV)",
                 UnshareInt80});
  out.push_back({"unshare_x32", "unshare(CLONE_NEWUSER) through the x32 ABI", "EPERM",
                 "seccomp: the x32 ABI is filtered with the same list (EPERM)", UnshareX32});
#endif
}

}  // namespace bulkhead::escape
