#include "vminit/container.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "base/fs.h"
#include "base/scm.h"
#include "jail/cgroup_mounts.h"
#include "jail/device_filter.h"
#include "jail/launch.h"
#include "vmproto/wire.h"

namespace bulkhead::vminit {

namespace {

// While a process is launched, init's 0, 1 and 2 are the process's stdio (the jail's child
// inherits them, as `bulkhead create` hands on its own); put back afterwards.
class StdioSwap {
 public:
  static Result<StdioSwap> Make(const ProcessIo& io) {
    StdioSwap s;
    BH_ASSIGN(s.null_, OpenFile("/dev/null", O_RDWR));
    for (int fd = 0; fd < 3; ++fd) {
      int saved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
      if (saved < 0) return Error::FromErrno("saving init's stdio");
      s.saved_[fd].reset(saved);
    }
    int want[3] = {io.in, io.out, io.err};
    for (int fd = 0; fd < 3; ++fd) {
      int from = want[fd] >= 0 ? want[fd] : s.null_.get();
      if (dup2(from, fd) < 0) return Error::FromErrno("handing stdio to the new process");
    }
    return s;
  }
  StdioSwap(StdioSwap&&) = default;
  ~StdioSwap() {
    for (int fd = 0; fd < 3; ++fd) {
      if (saved_[fd].valid()) dup2(saved_[fd].get(), fd);
    }
  }

 private:
  StdioSwap() = default;
  UniqueFd null_;
  UniqueFd saved_[3];
};

// init blocks SIGCHLD (it reads it from a signalfd); a blocked mask survives fork and
// execve, so the new process starts with none blocked.
class UnblockedSignals {
 public:
  UnblockedSignals() {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, &saved_);
  }
  ~UnblockedSignals() { sigprocmask(SIG_SETMASK, &saved_, nullptr); }

 private:
  sigset_t saved_;
};

bool JoinsPidNamespace(const jail::NamespacePlan& ns) {
  return std::any_of(ns.joins.begin(), ns.joins.end(),
                     [](const jail::NamespacePlan::Join& j) { return j.flag == CLONE_NEWPID; });
}

}  // namespace

Result<Container> Container::Prepare(StartSpec spec) {
  Container c;
  c.spec_ = std::move(spec);
  const oci::Config& config = c.spec_.config;
  BH_ASSIGN(c.own_pid_ns_, OpenFile("/proc/self/ns/pid", O_RDONLY));
  if (config.linux.seccomp) {
    BH_ASSIGN(c.seccomp_, seccomp::Compile(*config.linux.seccomp));
    if (c.seccomp_->has_notify) {
      // The listener would go to a process on the host, which the guest cannot reach.
      return Error("linux.seccomp: SCMP_ACT_NOTIFY is not supported in a VM", ENOTSUP);
    }
  }
  BH_ASSIGN(jail::CgroupMounts mounts, jail::DetectCgroups().Context("the guest's cgroups"));
  BH_ASSIGN(jail::Cgroup cg, jail::Cgroup::Create(mounts, config.linux.cgroups_path, c.spec_.id));
  c.cgroup_.emplace(std::move(cg));
  oci::Resources resources = config.linux.resources.value_or(oci::Resources{});
  for (auto& rule : jail::AllowRulesForDevices(config.linux.devices)) {
    resources.devices.push_back(std::move(rule));
  }
  BH_TRY(c.cgroup_->Apply(resources).Context("linux.resources in the guest"));
  return c;
}

Result<Spawned> Container::Launch(jail::InitSpec& spec, const ProcessIo& io) {
  spec.seccomp = seccomp_;
  spec.wait_for_start = false;
  UniqueFd console;
  if (spec.config->process.terminal) {
    // The jail sends the pty master over this socket, as to runc's --console-socket.
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
      return Error::FromErrno("socketpair for the terminal");
    }
    console.reset(pair[0]);
    spec.console_socket.reset(pair[1]);
  }
  jail::LaunchHooks hooks;
  hooks.on_child = [this](pid_t pid) -> Status {
    if (cgroup_) return cgroup_->AddProcess(pid).Context("joining the container's cgroup");
    return Ok();
  };
  bool joined_pid_ns = JoinsPidNamespace(spec.ns);
  Result<jail::Launched> launched = [&]() -> Result<jail::Launched> {
    BH_ASSIGN(StdioSwap swap, StdioSwap::Make(io));
    UnblockedSignals unblocked;
    return jail::LaunchInit(spec, hooks);
  }();
  // LaunchInit left init's children in the container's pid namespace; later ones must not be.
  if (joined_pid_ns && setns(own_pid_ns_.get(), CLONE_NEWPID) != 0) {
    return Error::FromErrno("returning to the guest's pid namespace");
  }
  if (!launched.ok()) return std::move(launched).error();
  Spawned s;
  s.pid = launched->pid;
  if (console.valid()) {
    spec.console_socket.reset();
    BH_ASSIGN(Received r, RecvWithFd(console.get(), 4096).Context("receiving the pty"));
    if (!r.fd.valid()) return Error("the jail sent no pty", EPROTO);
    s.tty_master = std::move(r.fd);
  }
  return s;
}

Result<Spawned> Container::Start(const ProcessIo& io) {
  BH_ASSIGN(jail::InitSpec spec,
            jail::PrepareInitSpec(spec_.config, spec_.id, spec_.config.root.path));
  BH_ASSIGN(Spawned s, Launch(spec, io));
  main_pid_ = s.pid;
  return s;
}

Result<Spawned> Container::Exec(const oci::Process& process, const ProcessIo& io) {
  if (main_pid_ == 0) return Error("exec before the container started", ESRCH);
  oci::Config config = spec_.config;
  config.process = process;
  BH_ASSIGN(jail::InitSpec spec, jail::PrepareInitSpec(config, spec_.id, config.root.path));
  BH_ASSIGN(spec.ns, jail::PlanJoinProcess(main_pid_).Context("the container's namespaces"));
  spec.join_existing = true;
  return Launch(spec, io);
}

Result<vmproto::StatsReply> Container::Stats(uint32_t id) const {
  vmproto::StatsReply r;
  r.id = id;
  if (!cgroup_) return r;
  BH_ASSIGN(jail::Cgroup::Stats st, cgroup_->ReadStats());
  r.cpu_ns = st.cpu.usage_ns;
  r.memory_bytes = st.memory.usage;
  r.pids = std::min<uint64_t>(st.pids.current, vmproto::kMaxPid);
  return r;
}

}  // namespace bulkhead::vminit
