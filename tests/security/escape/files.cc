// Paths that lead to the host: device nodes, /proc and /sys knobs, the cgroup file system
// (release_agent, CVE-2022-0492), /proc/<pid>/root and cwd, and symlinks in the image aimed
// at mount destinations. Opens for writing never write: a successful open is the escape.
#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cctype>
#include <string>
#include <vector>

#include "attempt.h"

namespace bulkhead::escape {
namespace {

std::string OpenFor(const std::string& path, int flags) {
  int fd = open(path.c_str(), flags | O_CLOEXEC | O_NOCTTY);
  std::string seen = Outcome(fd);
  if (fd >= 0) close(fd);
  return seen;
}

// Reads a file: "ok" would mean its bytes reached us; an empty read is "empty".
std::string ReadOf(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return ErrnoName(errno);
  char buf[64];
  ssize_t n = read(fd, buf, sizeof buf);
  std::string seen = n > 0 ? "ok" : n == 0 ? "empty" : ErrnoName(errno);
  close(fd);
  return seen;
}

std::vector<std::string> Pids() {
  std::vector<std::string> pids;
  if (DIR* d = opendir("/proc")) {
    while (dirent* e = readdir(d)) {
      if (isdigit(static_cast<unsigned char>(e->d_name[0]))) pids.emplace_back(e->d_name);
    }
    closedir(d);
  }
  return pids;
}

std::string Mknod(mode_t type, const char* path, unsigned major, unsigned minor) {
  return Outcome(mknod(path, type | 0600, makedev(major, minor)));
}

std::string MknodBlock() { return Mknod(S_IFBLK, "/tmp/sda", 8, 0); }
std::string MknodChar() { return Mknod(S_IFCHR, "/dev/shm/mem", 1, 1); }
std::string DevKvm() { return OpenFor("/dev/kvm", O_RDWR); }
std::string DevMem() {
  Probes p;
  for (const char* d : {"/dev/mem", "/dev/kmem", "/dev/port"}) p.Add(d, OpenFor(d, O_RDWR));
  return p.Result();
}
std::string DevKmsg() { return OpenFor("/dev/kmsg", O_RDWR); }

std::string ReadMaskedProc() {
  Probes p;
  for (const char* m : {"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug"}) {
    p.Add(m, ReadOf(m));
  }
  return p.found() > 0 ? p.Result() : Setup("no masked path exists");
}

std::string WriteAny(std::initializer_list<const char*> paths) {
  Probes p;
  for (const char* path : paths) p.Add(path, OpenFor(path, O_WRONLY));
  return p.found() > 0 ? p.Result() : Setup("none of the files exists");
}

std::string WriteProcSys() {
  return WriteAny(
      {"/proc/sys/vm/drop_caches", "/proc/sys/kernel/modprobe", "/proc/sys/net/ipv4/ip_forward"});
}
std::string WriteCorePattern() { return WriteAny({"/proc/sys/kernel/core_pattern"}); }
std::string WriteSysrq() { return OpenFor("/proc/sysrq-trigger", O_WRONLY); }
std::string WriteSys() {
  // rcu_expedited is there in every SMP kernel, the VM's small guest kernel too.
  return WriteAny({"/sys/kernel/uevent_helper", "/sys/kernel/mm/transparent_hugepage/enabled",
                   "/sys/power/state", "/sys/kernel/rcu_expedited"});
}

// /sys/fs/cgroup and every directory in it (one per v1 hierarchy; under v2 the root's
// child groups, beside its files).
std::vector<std::string> CgroupDirs() {
  std::vector<std::string> dirs = {"/sys/fs/cgroup"};
  if (DIR* d = opendir("/sys/fs/cgroup")) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] != '.' && e->d_type == DT_DIR) {
        dirs.push_back(std::string("/sys/fs/cgroup/") + e->d_name);
      }
    }
    closedir(d);
  }
  return dirs;
}

std::string CgroupMountV1() {
  // CVE-2022-0492 starts by mounting a v1 hierarchy, whose root holds a writable
  // release_agent, from a new user and cgroup namespace.
  Probes p;
  p.Add("unshare", Outcome(unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWCGROUP)));
  mkdir("/tmp/cg", 0755);
  for (const char* sub : {"memory", "rdma", "none,name=bh"}) {
    p.Add(sub, Outcome(mount("cgroup", "/tmp/cg", "cgroup", 0, sub)));
  }
  return p.Result();
}

std::string WriteReleaseAgent() {
  Probes p;
  for (const auto& dir : CgroupDirs()) {
    p.Add(dir + "/release_agent", OpenFor(dir + "/release_agent", O_WRONLY));
    p.Add(dir + "/notify_on_release", OpenFor(dir + "/notify_on_release", O_WRONLY));
  }
  if (p.found() > 0) return p.Result();
  // cgroup v2 alone (the vm tier's guest) has no release_agent anywhere: nothing to write.
  struct statfs fs {};
  if (statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC) return "ENOENT";
  return Setup("no cgroup file found");
}

std::string WriteCgroupLimit() {
  Probes p;
  for (const auto& dir : CgroupDirs()) {
    for (const char* f : {"/pids.max", "/memory.limit_in_bytes", "/memory.max", "/cgroup.procs",
                          "/devices.allow"}) {
      p.Add(dir + f, OpenFor(dir + f, O_WRONLY));
    }
  }
  return p.found() > 0 ? p.Result() : Setup("no cgroup file found");
}

std::string Marker() { return Env("BH_HOST_MARKER"); }

std::string ProcRoot() {
  std::string m = Marker();
  if (m.empty()) return Setup("BH_HOST_MARKER not set");
  Probes p;
  p.Add(m, ReadOf(m));
  p.Add("/../../..", ReadOf("/../../../.." + m));
  p.Add("/proc/self/root", ReadOf("/proc/self/root" + m));
  for (const auto& pid : Pids())
    p.Add("/proc/" + pid + "/root", ReadOf("/proc/" + pid + "/root" + m));
  return p.Result();
}

std::string ProcCwd() {
  std::string m = Marker();
  if (m.empty()) return Setup("BH_HOST_MARKER not set");
  const std::string up = "/../../../../../../../..";
  Probes p;
  p.Add("/proc/self/cwd", ReadOf("/proc/self/cwd" + up + m));
  for (const auto& pid : Pids()) {
    p.Add("/proc/" + pid + "/cwd", ReadOf("/proc/" + pid + "/cwd" + up + m));
  }
  return p.Result();
}

std::string SymlinkMountDest() {
  // The runner puts /escape-abs -> <host dir> and /escape-rel -> ../../../<host dir> in the
  // image and mounts a tmpfs on /escape-abs/mnt and /escape-rel/mnt; the host dir holds
  // "secret". Mounts follow the links inside the rootfs, so the secret is not here.
  struct stat st {};
  if (lstat("/escape-abs", &st) != 0 || !S_ISLNK(st.st_mode)) return Setup("no /escape-abs link");
  Probes p;
  p.Add("/escape-abs/secret", ReadOf("/escape-abs/secret"));
  p.Add("/escape-rel/secret", ReadOf("/escape-rel/secret"));
  return p.Result();
}

}  // namespace

void AddFileAttempts(Attempts& out) {
  const char* mknod_why =
      "capabilities: device nodes need CAP_MKNOD in the host namespace (EPERM); the device "
      "cgroup denies them too";
  out.push_back(
      {"mknod_block", "mknod a block device (sda, 8:0) in /tmp", "EPERM", mknod_why, MknodBlock});
  out.push_back(
      {"mknod_char", "mknod a char device (mem, 1:1) in /dev/shm", "EPERM", mknod_why, MknodChar});
  const char* dev_why =
      "/dev is a tmpfs with only null, zero, full, random, urandom, tty, ptmx and pts (ENOENT); "
      "the device cgroup denies the rest";
  out.push_back({"open_dev_kvm", "open /dev/kvm read-write", "ENOENT", dev_why, DevKvm});
  out.push_back({"open_dev_mem", "open /dev/mem, /dev/kmem, /dev/port read-write", "ENOENT",
                 dev_why, DevMem});
  out.push_back({"open_dev_kmsg", "open /dev/kmsg read-write", "ENOENT", dev_why, DevKmsg});
  out.push_back({"read_masked_proc", "read /proc/kcore, keys, timer_list, sched_debug",
                 "empty|ENOENT", "maskedPaths: /dev/null is bound over the files (empty read)",
                 ReadMaskedProc});
  // O_WRONLY without O_TRUNC: the permission check comes before the read-only mount's.
  const char* ro_why =
      "user namespace: the files belong to the host's root, unmapped here (EACCES); "
      "readonlyPaths and the read-only sysfs refuse the rest (EROFS)";
  out.push_back({"write_proc_sys",
                 "open /proc/sys/vm/drop_caches, kernel/modprobe, net/ipv4/ip_forward for writing",
                 "EACCES|EROFS|ENOENT", ro_why, WriteProcSys});
  out.push_back({"write_core_pattern", "open /proc/sys/kernel/core_pattern for writing",
                 "EACCES|EROFS", ro_why, WriteCorePattern});
  out.push_back(
      {"write_sysrq_trigger", "open /proc/sysrq-trigger for writing", "EACCES|EROFS|ENOENT",
       "as write_proc_sys; ENOENT where the kernel has no sysrq (CONFIG_MAGIC_SYSRQ)", WriteSysrq});
  out.push_back(
      {"write_sys",
       "open /sys/kernel/uevent_helper, transparent_hugepage/enabled, /sys/power/state, "
       "/sys/kernel/rcu_expedited for writing",
       "EACCES|EROFS|ENOENT", ro_why, WriteSys});
  out.push_back({"cgroup_mount_v1",
                 "unshare user+mount+cgroup namespaces, mount cgroup v1 (memory, rdma, named)",
                 "EPERM", "seccomp: unshare and mount refused (EPERM) (CVE-2022-0492)",
                 CgroupMountV1});
  out.push_back({"write_release_agent",
                 "open release_agent and notify_on_release of every visible hierarchy for writing",
                 "EACCES|EROFS|ENOENT",
                 "cgroup namespace: release_agent exists only at a hierarchy's root, which is not "
                 "visible (ENOENT); the cgroup mount is read-only (EROFS) (CVE-2022-0492)",
                 WriteReleaseAgent});
  out.push_back({"write_cgroup_limit",
                 "open pids.max, memory limits, cgroup.procs, devices.allow for writing",
                 "EACCES|EROFS|ENOENT",
                 "user namespace: the container's own cgroup files belong to the host's root "
                 "(EACCES); the cgroup mount is read-only (EROFS)",
                 WriteCgroupLimit});
  out.push_back(
      {"proc_pid_root",
       "read a host-only file through /proc/<every pid>/root, /proc/self/root and /../..", "ENOENT",
       "PID and mount namespaces: every /proc/<pid>/root here is the container's root", ProcRoot});
  out.push_back({"proc_self_cwd", "read a host-only file through /proc/<every pid>/cwd/../..",
                 "ENOENT", "pivot_root: '..' stops at the container's root for every visible cwd",
                 ProcCwd});
  out.push_back(
      {"symlink_mount_dest",
       "read through image symlinks aimed at a host directory, with tmpfs mounts below them",
       "ENOENT", "mount destinations resolve inside the rootfs: the links reach no host path",
       SymlinkMountDest});
}

}  // namespace bulkhead::escape
