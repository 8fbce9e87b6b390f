# Bundles for bench/run.sh (sourced). Every OCI runtime gets the same
# config.json, written field by field here, so no runtime's defaults leak in.

# bench_seccomp BULKHEAD: the seccomp section bulkhead ships (from `bulkhead
# spec`), or, when that is unavailable, a stand-in allow-list of similar shape
# (default errno, a few hundred allowed names) so every runtime still compiles
# and loads a realistic filter. Prints JSON and, on fd 3, where it came from.
bench_seccomp() {
  local bh=$1 d s=""
  d=$(mktemp -d)
  if [ -x "$bh" ] && (cd "$d" && timeout 10 "$bh" spec >/dev/null 2>&1); then
    s=$(python3 -c 'import json,sys
s = json.load(open(sys.argv[1])).get("linux", {}).get("seccomp")
print(json.dumps(s) if s else "")' "$d/config.json" 2>/dev/null)
  fi
  rm -rf "$d"
  if [ -n "$s" ]; then
    echo "bulkhead's default profile (from \`bulkhead spec\`)" >&3
    echo "$s"
    return
  fi
  echo "a stand-in allow-list (\`bulkhead spec\` gave no profile)" >&3
  python3 - <<'PY'
import json
names = """read write open close stat fstat lstat poll lseek mmap mprotect munmap brk
rt_sigaction rt_sigprocmask rt_sigreturn ioctl pread64 pwrite64 readv writev access pipe
select sched_yield mremap msync mincore madvise dup dup2 pause nanosleep getitimer alarm
setitimer getpid sendfile socket connect accept sendto recvfrom sendmsg recvmsg shutdown
bind listen getsockname getpeername socketpair setsockopt getsockopt clone fork vfork
execve exit wait4 kill uname fcntl flock fsync fdatasync truncate ftruncate getdents
getcwd chdir fchdir rename mkdir rmdir creat link unlink symlink readlink chmod fchmod
chown fchown lchown umask gettimeofday getrlimit getrusage sysinfo times getuid getgid
setuid setgid geteuid getegid setpgid getppid getpgrp setsid setreuid setregid getgroups
setgroups setresuid getresuid setresgid getresgid getpgid setfsuid setfsgid getsid capget
capset rt_sigpending rt_sigtimedwait rt_sigqueueinfo rt_sigsuspend sigaltstack utime
mknod statfs fstatfs getpriority setpriority sched_getparam sched_getscheduler
sched_get_priority_max sched_get_priority_min mlock munlock prctl arch_prctl setrlimit
sync gettid readahead tkill time futex sched_getaffinity set_tid_address fadvise64
timer_create timer_settime timer_gettime timer_getoverrun timer_delete clock_gettime
clock_getres clock_nanosleep exit_group epoll_wait epoll_ctl tgkill utimes waitid openat
mkdirat fchownat futimesat newfstatat unlinkat renameat linkat symlinkat readlinkat
fchmodat faccessat pselect6 ppoll set_robust_list get_robust_list splice tee
sync_file_range utimensat epoll_pwait signalfd timerfd_create eventfd fallocate
timerfd_settime timerfd_gettime accept4 signalfd4 eventfd2 epoll_create1 dup3 pipe2
preadv pwritev recvmmsg prlimit64 sendmmsg getcpu renameat2 getrandom memfd_create
execveat copy_file_range preadv2 pwritev2 statx rseq close_range openat2 faccessat2
epoll_create getdents64 membarrier""".split()
print(json.dumps({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
                  "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
                  "syscalls": [{"names": names, "action": "SCMP_ACT_ALLOW"}]}))
PY
}

# bench_bundle DIR ROOTFS MODE SECCOMP_JSON: a bundle running /bin/true in
# every namespace (user included, root mapped to 100000), no capabilities,
# no_new_privs, read-only root, pivot_root, the given seccomp profile.
# MODE host: a cgroup with memory and pids limits at /bh-bench-<dir name>.
# MODE nocgroup: no cgroupsPath and no resources (for the private cgroup2 mount).
bench_bundle() {
  local dir=$1 rootfs=$2 mode=$3 seccomp=$4
  mkdir -p "$dir"
  chmod 755 "$dir"
  cp -a "$rootfs" "$dir/rootfs"
  python3 - "$dir" "$mode" "$seccomp" <<'PY'
import json, os, sys
d, mode, seccomp = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
ids = [{"containerID": 0, "hostID": 100000, "size": 65536}]
linux = {
    "namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount", "cgroup", "user")],
    "uidMappings": ids, "gidMappings": ids,
    "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
    "readonlyPaths": ["/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus"],
    "seccomp": seccomp,
}
if mode == "host":
    linux["cgroupsPath"] = "/bh-bench-" + os.path.basename(d)
    linux["resources"] = {"devices": [{"allow": False, "access": "rwm"}],
                          "memory": {"limit": 268435456}, "pids": {"limit": 128}}
caps = {k: [] for k in ("bounding", "effective", "inheritable", "permitted", "ambient")}
config = {
    "ociVersion": "1.0.2",
    "process": {"terminal": False, "user": {"uid": 0, "gid": 0}, "args": ["/bin/true"],
                "env": ["PATH=/bin"], "cwd": "/", "capabilities": caps,
                "noNewPrivileges": True},
    "root": {"path": "rootfs", "readonly": True},
    "hostname": "bench",
    "mounts": [
        {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755", "size=65536k"]},
        {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777"]},
    ],
    "linux": linux,
}
with open(os.path.join(d, "config.json"), "w") as f:
    json.dump(config, f, indent=1)
PY
}
