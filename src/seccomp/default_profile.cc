#include "seccomp/default_profile.h"

#include <sys/ioctl.h>

#include <cerrno>
#include <initializer_list>

namespace bulkhead::seccomp {
namespace {

void Allow(oci::Seccomp& p, std::initializer_list<const char*> names) {
  oci::SeccompSyscall sc;
  for (const char* n : names) sc.names.emplace_back(n);
  sc.action = "SCMP_ACT_ALLOW";
  p.syscalls.push_back(std::move(sc));
}

void AllowIf(oci::Seccomp& p, const char* name, uint32_t index, const char* op, uint64_t value,
             uint64_t value_two = 0) {
  oci::SeccompSyscall sc;
  sc.names.emplace_back(name);
  sc.action = "SCMP_ACT_ALLOW";
  sc.args.push_back(oci::SeccompArg{index, value, value_two, op});
  p.syscalls.push_back(std::move(sc));
}

// Allows `name` unless the low 32 bits of argument `index` equal one of `denied`. The kernel
// reads such arguments (ioctl's cmd) as 32-bit, so the upper half must not matter: a plain
// 64-bit SCMP_CMP_NE would let 0x1_00005412 through as TIOCSTI. libseccomp cannot express
// "not equal under a mask", so this is spelled as a union of masked equalities: a value differs
// from every denied one if it differs in a bit they all share, or if, with those bits equal, the
// bits where they differ form a pattern none of them has. Meant for a few close values.
void AllowUnlessLow32In(oci::Seccomp& p, const char* name, uint32_t index,
                        std::initializer_list<uint32_t> denied) {
  const uint32_t first = *denied.begin();
  uint32_t shared = 0xffffffffu;
  for (uint32_t d : denied) shared &= ~(d ^ first);
  for (uint32_t bit = 1; bit != 0; bit <<= 1) {
    if ((shared & bit) != 0) AllowIf(p, name, index, "SCMP_CMP_MASKED_EQ", bit, ~first & bit);
  }
  const uint32_t differ = ~shared;
  if (differ == 0) return;
  // Every pattern over the differing bits (submask enumeration), except the denied ones.
  for (uint32_t s = differ;; s = (s - 1) & differ) {
    bool is_denied = false;
    for (uint32_t d : denied) is_denied = is_denied || (d & differ) == s;
    if (!is_denied) AllowIf(p, name, index, "SCMP_CMP_MASKED_EQ", differ, s);
    if (s == 0) break;
  }
}

}  // namespace

oci::Seccomp DefaultProfile() {
  oci::Seccomp p;
  p.default_action = "SCMP_ACT_ERRNO";
  p.default_errno_ret = EPERM;
  // The native ABI and its compat ABIs; libseccomp adds the native one anyway.
#if defined(__x86_64__) || defined(__i386__)
  p.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
#elif defined(__aarch64__) || defined(__arm__)
  p.architectures = {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"};
#endif

  // File I/O on descriptors the process already holds or opens by path.
  Allow(p, {"read", "readv", "pread64", "preadv", "preadv2", "write", "writev", "pwrite64",
            "pwritev", "pwritev2", "open", "openat", "openat2", "creat", "close", "close_range",
            "dup", "dup2", "dup3", "lseek", "_llseek", "fcntl", "fcntl64", "flock", "fsync",
            "fdatasync", "sync", "syncfs", "sync_file_range", "truncate", "truncate64",
            "ftruncate", "ftruncate64", "fallocate", "fadvise64", "fadvise64_64", "readahead",
            "sendfile", "sendfile64", "splice", "tee", "vmsplice", "copy_file_range", "pipe",
            "pipe2"});
  // Paths and metadata: permission checks, not seccomp, decide what may be touched. mknod is
  // in: device nodes need CAP_MKNOD (dropped) and the device cgroup; fifos and sockets are fine.
  Allow(p, {"stat", "lstat", "fstat", "stat64", "lstat64", "fstat64", "fstatat64", "newfstatat",
            "statx", "statfs", "statfs64", "fstatfs", "fstatfs64", "access", "faccessat",
            "faccessat2", "chdir", "fchdir", "getcwd", "mkdir", "mkdirat", "rmdir", "rename",
            "renameat", "renameat2", "link", "linkat", "symlink", "symlinkat", "unlink",
            "unlinkat", "readlink", "readlinkat", "getdents", "getdents64", "chmod", "fchmod",
            "fchmodat", "fchmodat2", "chown", "fchown", "lchown", "fchownat", "chown32",
            "fchown32", "lchown32", "umask", "utime", "utimes", "futimesat", "utimensat",
            "utimensat_time64", "mknod", "mknodat", "getxattr", "lgetxattr", "fgetxattr",
            "setxattr", "lsetxattr", "fsetxattr", "listxattr", "llistxattr", "flistxattr",
            "removexattr", "lremovexattr", "fremovexattr", "inotify_init", "inotify_init1",
            "inotify_add_watch", "inotify_rm_watch"});
  // Memory of the process itself; NUMA policy calls are in for numactl and ML runtimes
  // (moving another process's pages, migrate_pages/move_pages, is out).
  Allow(p, {"brk", "mmap", "mmap2", "munmap", "mremap", "mprotect", "madvise", "mincore",
            "msync", "mlock", "mlock2", "munlock", "mlockall", "munlockall", "remap_file_pages",
            "memfd_create", "membarrier", "pkey_alloc", "pkey_free", "pkey_mprotect",
            "get_mempolicy", "set_mempolicy", "mbind", "set_mempolicy_home_node",
            "map_shadow_stack"});
  // Processes and threads. clone is below with a flag check; clone3 gets ENOSYS.
  Allow(p, {"fork", "vfork", "execve", "execveat", "exit", "exit_group", "wait4", "waitid",
            "waitpid", "set_tid_address", "set_robust_list", "get_robust_list", "futex",
            "futex_time64", "futex_waitv", "rseq", "restart_syscall", "getpid", "getppid",
            "gettid", "getpgid", "setpgid", "getpgrp", "getsid", "setsid", "kill", "tkill",
            "tgkill", "pidfd_open", "pidfd_send_signal", "prctl", "capget", "capset", "seccomp",
            "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self"});
  // Scheduling and limits of the process itself (raising them needs capabilities we drop).
  Allow(p, {"sched_yield", "sched_getaffinity", "sched_setaffinity", "sched_getparam",
            "sched_setparam", "sched_getscheduler", "sched_setscheduler",
            "sched_get_priority_max", "sched_get_priority_min", "sched_rr_get_interval",
            "sched_rr_get_interval_time64", "sched_getattr", "sched_setattr", "getpriority",
            "setpriority", "ioprio_get", "ioprio_set", "getrlimit", "ugetrlimit", "setrlimit",
            "prlimit64", "getrusage", "times", "getcpu", "uname", "sysinfo", "getrandom"});
  // Credentials: changing ids is governed by the user namespace and dropped capabilities.
  Allow(p, {"getuid", "geteuid", "getgid", "getegid", "getuid32", "geteuid32", "getgid32",
            "getegid32", "getresuid", "getresgid", "getresuid32", "getresgid32", "getgroups",
            "getgroups32", "setuid", "setuid32", "setgid", "setgid32", "setreuid", "setreuid32",
            "setregid", "setregid32", "setresuid", "setresuid32", "setresgid", "setresgid32",
            "setgroups", "setgroups32", "setfsuid", "setfsuid32", "setfsgid", "setfsgid32"});
  // Signals.
  Allow(p, {"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending",
            "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_sigqueueinfo",
            "rt_tgsigqueueinfo", "sigaction", "sigprocmask", "sigreturn", "signal",
            "sigpending", "sigsuspend", "sigaltstack", "signalfd", "signalfd4", "pause",
            "alarm"});
  // Reading clocks and timers. Setting the system clock is out (not namespaced).
  Allow(p, {"clock_gettime", "clock_gettime64", "clock_getres", "clock_getres_time64",
            "clock_nanosleep", "clock_nanosleep_time64", "gettimeofday", "time", "nanosleep",
            "getitimer", "setitimer", "timer_create", "timer_delete", "timer_gettime",
            "timer_gettime64", "timer_settime", "timer_settime64", "timer_getoverrun",
            "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime",
            "timerfd_settime64"});
  // Waiting for events.
  Allow(p, {"poll", "ppoll", "ppoll_time64", "select", "_newselect", "pselect6",
            "pselect6_time64", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait",
            "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2"});
  // Sockets: the network namespace scopes them; raw and packet sockets need CAP_NET_RAW.
  Allow(p, {"socket", "socketpair", "bind", "listen", "accept", "accept4", "connect",
            "getsockname", "getpeername", "getsockopt", "setsockopt", "sendto", "recvfrom",
            "send", "recv", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "recvmmsg_time64",
            "shutdown", "socketcall"});
  // SysV and POSIX IPC: scoped by the IPC namespace.
  Allow(p, {"shmget", "shmat", "shmdt", "shmctl", "semget", "semop", "semtimedop",
            "semtimedop_time64", "semctl", "msgget", "msgsnd", "msgrcv", "msgctl", "ipc",
            "mq_open", "mq_unlink", "mq_timedsend", "mq_timedsend_time64", "mq_timedreceive",
            "mq_timedreceive_time64", "mq_notify", "mq_getsetattr"});
  // Linux AIO (databases use it). io_uring is out: a large, bug-prone surface seccomp
  // cannot see into.
  Allow(p, {"io_setup", "io_destroy", "io_submit", "io_cancel", "io_getevents",
            "io_pgetevents", "io_pgetevents_time64"});
  // Host and domain name: scoped by the UTS namespace.
  Allow(p, {"sethostname", "setdomainname"});
  // Architecture helpers for thread-local storage and cache maintenance.
  Allow(p, {"arch_prctl", "set_thread_area", "get_thread_area", "cacheflush", "set_tls",
            "arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint"});

  // clone without namespace flags: fork and pthread_create work, new namespaces do not.
  AllowIf(p, "clone", 0, "SCMP_CMP_MASKED_EQ", kCloneNamespaceFlags, 0);
  // clone3 passes its flags in memory seccomp cannot read; ENOSYS makes libc fall back to clone.
  oci::SeccompSyscall clone3;
  clone3.names = {"clone3"};
  clone3.action = "SCMP_ACT_ERRNO";
  clone3.errno_ret = ENOSYS;
  p.syscalls.push_back(std::move(clone3));
  // ioctl, except TIOCSTI and TIOCLINUX: both push input into a terminal the container may
  // share with the host (keystroke injection into the caller's shell).
  AllowUnlessLow32In(p, "ioctl", 1, {TIOCSTI, TIOCLINUX});
  // personality: PER_LINUX and PER_LINUX32, each with or without UNAME26, and 0xffffffff,
  // which only reads the current value. Not ADDR_NO_RANDOMIZE or READ_IMPLIES_EXEC.
  for (uint64_t v : {0x0ULL, 0x8ULL, 0x20000ULL, 0x20008ULL, 0xffffffffULL}) {
    AllowIf(p, "personality", 0, "SCMP_CMP_EQ", v);
  }
  return p;
}

}  // namespace bulkhead::seccomp
