#include "jail/init_child.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "base/fs.h"
#include "base/scm.h"
#include "jail/container_hooks.h"
#include "jail/loopback.h"
#include "jail/mount.h"
#include "jail/sync.h"

namespace bulkhead::jail {

namespace {

constexpr uint64_t kUnshareLater =
    CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;

Status Fail(std::string_view what) { return Error::FromErrno(what); }

Status WaitForGo(int sync) {
  BH_ASSIGN(SyncMsg msg, RecvSync(sync));
  if (msg.kind != SyncKind::kGo) return Error("the runtime went away during setup", EPIPE);
  return Ok();
}

Status SetNames(const oci::Config& config) {
  if (!config.hostname.empty() &&
      sethostname(config.hostname.data(), config.hostname.size()) != 0) {
    return Fail("setting the hostname");
  }
  if (!config.domainname.empty() &&
      setdomainname(config.domainname.data(), config.domainname.size()) != 0) {
    return Fail("setting the domainname");
  }
  return Ok();
}

Status WriteSysctls(const oci::Config& config) {
  for (const auto& [key, value] : config.linux.sysctl) {
    std::string path = "/proc/sys/" + key;
    for (size_t i = strlen("/proc/sys/"); i < path.size(); ++i) {
      if (path[i] == '.') path[i] = '/';
    }
    BH_TRY(WriteExisting(path, value).Context("linux.sysctl." + key));
  }
  return Ok();
}

// Allocates a pty in the container's devpts, hands the master to the console socket
// (runc's protocol: the pty's name as payload, the fd as SCM_RIGHTS) and makes the
// slave our controlling terminal and stdio.
Status SetupTerminal(const InitSpec& spec) {
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) return Fail("opening /dev/ptmx");
  UniqueFd m(master);
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) != 0) return Fail("unlocking the pty");
  int ptn = 0;
  if (ioctl(master, TIOCGPTN, &ptn) != 0) return Fail("reading the pty number");
  int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) return Fail("opening the pty peer");
  UniqueFd s(slave);
  const oci::Process& p = spec.config->process;
  if (p.console_size) {
    struct winsize ws {};
    ws.ws_row = static_cast<unsigned short>(p.console_size->height);
    ws.ws_col = static_cast<unsigned short>(p.console_size->width);
    if (ioctl(slave, TIOCSWINSZ, &ws) != 0) return Fail("setting the console size");
  }
  // Best effort: the workload may run as another user than the pty owner.
  (void)!fchown(slave, p.user.uid, static_cast<gid_t>(-1));
  std::string name = "/dev/pts/" + std::to_string(ptn);
  BH_TRY(SendWithFd(spec.console_socket.get(), name, master).Context("sending the pty master to the console socket"));
  m.reset();
  if (setsid() < 0) return Fail("setsid");
  if (ioctl(slave, TIOCSCTTY, 0) != 0) return Fail("making the pty the controlling terminal");
  for (int fd = 0; fd < 3; ++fd) {
    if (dup3(slave, fd, 0) < 0) return Fail("dup of the pty to stdio");
  }
  return Ok();
}

Status ApplyRlimits(const InitSpec& spec) {
  for (const ResolvedRlimit& r : spec.rlimits) {
    if (setrlimit(static_cast<__rlimit_resource>(r.resource), &r.limit) == 0) continue;
    if (errno == EPERM) {
      struct rlimit cur {};
      getrlimit(static_cast<__rlimit_resource>(r.resource), &cur);
      if (r.limit.rlim_max > cur.rlim_max) {
        return Error("process.rlimits " + r.name + ": cannot raise the hard limit from " +
                         std::to_string(cur.rlim_max) + " to " + std::to_string(r.limit.rlim_max) +
                         ": the host denies it (raising a hard limit needs CAP_SYS_RESOURCE "
                         "in the host's user namespace)",
                     EPERM);
      }
    }
    return Fail("process.rlimits " + r.name + ": setrlimit");
  }
  return Ok();
}

Status SwitchUser(const oci::User& user) {
  // Keep the permitted set across the uid change; ApplyCaps sets what remains.
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return Fail("PR_SET_KEEPCAPS");
  std::vector<gid_t> groups(user.additional_gids.begin(), user.additional_gids.end());
  if (setgroups(groups.size(), groups.data()) != 0 && errno != EPERM) {
    return Fail("process.user.additionalGids: setgroups");
  }
  if (setresgid(user.gid, user.gid, user.gid) != 0) return Fail("process.user.gid: setresgid");
  if (setresuid(user.uid, user.uid, user.uid) != 0) return Fail("process.user.uid: setresuid");
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) return Fail("clearing PR_SET_KEEPCAPS");
  return Ok();
}

// Finds args[0] along the container's PATH, as execvp would, before we report ready.
Result<std::string> FindExecutable(const InitSpec& spec) {
  const std::string& arg0 = spec.config->process.args[0];
  auto usable = [](const std::string& p) {
    struct stat st;
    return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(p.c_str(), X_OK) == 0;
  };
  if (arg0.find('/') != std::string::npos) {
    if (usable(arg0)) return arg0;
    return Error("process.args[0]: " + arg0 + " is not an executable file in the container",
                 ENOENT);
  }
  std::string path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (const std::string& e : spec.env) {
    if (e.rfind("PATH=", 0) == 0) path = e.substr(5);
  }
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t end = path.find(':', pos);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(pos, end - pos);
    pos = end + 1;
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + arg0;
    if (usable(candidate)) return candidate;
  }
  return Error("process.args[0]: executable \"" + arg0 + "\" not found in the container's PATH",
               ENOENT);
}

bool HasCgroupMount(const oci::Config& config) {
  for (const auto& m : config.mounts) {
    if (m.type == "cgroup" || m.type == "cgroup2") return true;
  }
  return false;
}

Status InstallSeccomp(const InitSpec& spec, int sync) {
  BH_ASSIGN(UniqueFd listener, seccomp::Install(*spec.seccomp).Context("installing seccomp"));
  if (listener.valid()) {
    BH_TRY(SendSync(sync, SyncKind::kSeccompFd, {}, 0, listener.get()));
  }
  return Ok();
}

Status WaitForStart(const InitSpec& spec) {
  char byte;
  ssize_t n;
  do {
    n = read(spec.exec_fifo.get(), &byte, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) return Fail("waiting for start");
  return Ok();
}

// Namespaces, names and the root file system of a new container.
Status BuildContainer(InitSpec& spec, int sync) {
  const oci::Config& config = *spec.config;
  RootfsSpec rootfs{&config, spec.rootfs, spec.ns.in_user, spec.no_pivot, std::nullopt};
  if (StopsForHooks(config)) {
    rootfs.before_pivot = [&spec, sync]() -> Status {
      BH_ASSIGN(spec.hook_state, RunCreateHooks(*spec.config, spec.rootfs, sync));
      return Ok();
    };
  }
  if (HasCgroupMount(config)) {
    BH_ASSIGN(rootfs.cgroups, DetectCgroups().Context("finding the container's cgroups"));
  }
  uint64_t later = spec.ns.clone_flags & kUnshareLater;
  if (later != 0 && unshare(static_cast<int>(later)) != 0) {
    return Fail("creating namespaces");
  }
  if (spec.ns.new_uts) BH_TRY(SetNames(config));
  if ((later & CLONE_NEWNET) != 0) BH_TRY(BringUpLoopback());
  if (!spec.no_new_keyring) {
    // A fresh session keyring keeps the host's keys out; absent keyctl is no reason to fail.
    (void)syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, nullptr);
  }
  BH_TRY(PrepareRootfs(rootfs));
  BH_TRY(WriteSysctls(config));
  BH_TRY(FinalizeRootfs(config));
  return Ok();
}

// Everything up to the point where the init reports ready.
Status Setup(InitSpec& spec, int sync, std::string* exe) {
  const oci::Config& config = *spec.config;
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return Fail("PR_SET_DUMPABLE");
  BH_TRY(WaitForGo(sync));
  BH_TRY(JoinNamespaces(spec.ns));
  if (spec.ns.in_user) {
    // Until now we are the host's root, unmapped (overflow id) in the new namespace; become
    // its root so files we create belong to a mapped owner.
    if (setresgid(0, 0, 0) != 0) return Fail("linux.gidMappings: becoming gid 0 in the user namespace (is 0 mapped?)");
    if (setresuid(0, 0, 0) != 0) return Fail("linux.uidMappings: becoming uid 0 in the user namespace (is 0 mapped?)");
  }
  if (!spec.join_existing) BH_TRY(BuildContainer(spec, sync));
  if (config.process.terminal) {
    BH_TRY(SetupTerminal(spec));
  } else if (setsid() < 0) {
    return Fail("setsid");
  }
  if (chdir(config.process.cwd.c_str()) != 0) {
    return Fail("process.cwd: entering " + config.process.cwd);
  }
  BH_TRY(ApplyRlimits(spec));
  umask(config.process.user.umask.value_or(022));
  BH_ASSIGN(*exe, FindExecutable(spec));
  bool nnp = config.process.no_new_privileges;
  // Without no_new_privs the filter needs CAP_SYS_ADMIN, so it goes in before the drop.
  if (spec.seccomp && !nnp) BH_TRY(InstallSeccomp(spec, sync));
  BH_TRY(DropBounding(spec.caps, spec.last_cap));
  BH_TRY(SwitchUser(config.process.user));
  BH_TRY(ApplyCaps(spec.caps, spec.last_cap));
  if (nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return Fail("PR_SET_NO_NEW_PRIVS");
  // A notify listener must reach the runtime before it leaves.
  if (spec.seccomp && nnp && spec.seccomp->has_notify) BH_TRY(InstallSeccomp(spec, sync));
  return Ok();
}

// The runtime's own descriptors (its state-directory lock above all) must not live on in
// an init that waits for `start`; keep only stdio, the preserved fds and what init uses.
void CloseInheritedFds(const InitSpec& spec, int sync) {
  std::vector<unsigned> keep = {static_cast<unsigned>(sync)};
  if (spec.exec_fifo.valid()) keep.push_back(static_cast<unsigned>(spec.exec_fifo.get()));
  if (spec.console_socket.valid()) {
    keep.push_back(static_cast<unsigned>(spec.console_socket.get()));
  }
  for (const auto& j : spec.ns.joins) {
    if (j.fd.valid()) keep.push_back(static_cast<unsigned>(j.fd.get()));
  }
  std::sort(keep.begin(), keep.end());
  unsigned from = 3 + static_cast<unsigned>(spec.preserve_fds);
  for (unsigned fd : keep) {
    if (fd < from) continue;
    if (fd > from) syscall(SYS_close_range, from, fd - 1, 0);
    from = fd + 1;
  }
  syscall(SYS_close_range, from, ~0U, 0);
}

[[noreturn]] void Die(int sync, const Error& e) {
  (void)SendSync(sync, SyncKind::kError, e.message(), e.errno_value());
  _exit(1);
}

}  // namespace

void InitChildMain(InitSpec& spec, int sync) {
  // Die with the runtime while it still supervises setup.
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  CloseInheritedFds(spec, sync);
  std::string exe;
  Status st = Setup(spec, sync, &exe);
  if (!st.ok()) Die(sync, st.error());
  prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
  if (Status s = SendSync(sync, SyncKind::kReady); !s.ok()) _exit(1);
  bool late_seccomp = spec.seccomp && spec.config->process.no_new_privileges &&
                      !spec.seccomp->has_notify;
  if (spec.wait_for_start) {
    if (Status s = WaitForStart(spec); !s.ok()) _exit(1);
    Status s = RunStartContainerHooks(*spec.config, spec.hook_state);
    if (!s.ok()) FailStart(spec.exec_fifo.get(), s.error());
  }
  // exec_fifo stays open until execve closes it (CLOEXEC): that EOF tells a waiting
  // `start` the workload runs.
  // Only stdio and the preserved fds cross into the workload.
  for (int fd = 3; fd < 3 + spec.preserve_fds; ++fd) {
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0) fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
  }
  syscall(SYS_close_range, 3 + spec.preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC);
  std::vector<char*> argv;
  for (auto& a : const_cast<oci::Config*>(spec.config)->process.args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : spec.env) envp.push_back(e.data());
  envp.push_back(nullptr);
  if (Status lsm = ApplyLsm(spec.lsm); !lsm.ok()) {
    dprintf(2, "bulkhead: %s\n", lsm.error().message().c_str());
    _exit(127);
  }
  if (late_seccomp) {
    // As close to execve as possible, so the profile need not allow our own setup.
    Result<UniqueFd> r = seccomp::Install(*spec.seccomp);
    if (!r.ok()) {
      dprintf(2, "bulkhead: installing seccomp: %s\n", r.error().message().c_str());
      _exit(127);
    }
  }
  execve(exe.c_str(), argv.data(), envp.data());
  dprintf(2, "bulkhead: exec %s: %s\n", exe.c_str(), strerror(errno));
  _exit(127);
}

}  // namespace bulkhead::jail
