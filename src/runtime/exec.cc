// `exec`: start one more process inside a running container. It joins every namespace
// of the container's init and its cgroup, and gets the container's seccomp filter,
// capabilities, rlimits and no_new_privs unless its process spec says otherwise.
#include <sys/wait.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/scm.h"
#include "jail/cgroup.h"
#include "jail/launch.h"
#include "oci/parse.h"
#include "runtime/container_cgroup.h"
#include "runtime/exec_process.h"
#include "runtime/pid_file.h"
#include "runtime/process.h"
#include "runtime/seccomp_listener.h"
#include "runtime/verbs.h"
#include "runtime/vm.h"
#include "seccomp/cache.h"

namespace bulkhead::runtime {

namespace {

// What exec needs from the container, read under its lock.
struct Target {
  ContainerState state;
  oci::Config config;
  jail::NamespacePlan ns;
};

Result<Target> OpenTarget(const StateStore& store, const ExecOptions& o) {
  BH_ASSIGN(UniqueFd lock, store.Lock(o.id));
  Target t;
  BH_ASSIGN(t.state, store.Load(o.id));
  ContainerStatus status = store.StatusOf(t.state);
  if (status == ContainerStatus::kStopped) {
    return Error("cannot exec in container \"" + o.id + "\": it is stopped", EINVAL);
  }
  if (status == ContainerStatus::kPaused && !o.ignore_paused) {
    return Error("cannot exec in container \"" + o.id +
                     "\": it is paused (resume it, or pass --ignore-paused)",
                 EINVAL);
  }
  BH_ASSIGN(std::string text, ReadFile(store.ConfigPath(o.id)));
  BH_ASSIGN(t.config, oci::ParseConfig(text).Context("container \"" + o.id + "\" config"));
  if (t.state.vm) return t;  // the guest joins the container's namespaces itself
  BH_ASSIGN(t.ns, jail::PlanJoinProcess(t.state.pid));
  // The namespaces were opened by pid: make sure it was still the init then.
  if (ProcessStartTime(t.state.pid) != t.state.pid_start_time) {
    return Error("cannot exec in container \"" + o.id + "\": its init has exited", ESRCH);
  }
  return t;
}

Result<std::string> ReadProcessFile(const std::string& path) {
  if (path.empty()) return std::string();
  if (path == "-") return ReadFd(STDIN_FILENO, 16u << 20).Context("--process -");
  return ReadFile(path).Context("--process " + path);
}

}  // namespace

Result<int> Exec(const GlobalOptions& g, const ExecOptions& o) {
  StateStore store(g.root);
  BH_TRY(ValidateId(o.id));
  BH_ASSIGN(std::string process_json, ReadProcessFile(o.process_file));
  BH_ASSIGN(Target t, OpenTarget(store, o));
  BH_ASSIGN(t.config.process, BuildExecProcess(t.config.process, process_json, o));
  if (t.state.vm) return ExecVm(store, t.state, t.config.process, o);
  const oci::Config& config = t.config;

  BH_ASSIGN(jail::InitSpec spec, jail::PrepareInitSpec(config, o.id, t.state.rootfs));
  spec.ns = std::move(t.ns);
  spec.join_existing = true;
  spec.wait_for_start = false;
  if (config.linux.seccomp) {
    BH_ASSIGN(spec.seccomp, seccomp::CompileCached(*config.linux.seccomp,
                                                   JoinPath(g.root, "@cache/seccomp")));
  }
  if (config.process.terminal) {
    if (o.console_socket.empty()) {
      return Error("exec: a terminal was asked for but no --console-socket was given", EINVAL);
    }
    BH_ASSIGN(spec.console_socket, ConnectUnix(o.console_socket).Context("--console-socket"));
  }
  spec.preserve_fds = o.preserve_fds;

  std::optional<jail::Cgroup> cgroup;
  if (t.state.cgroups_enabled) {
    BH_ASSIGN(cgroup, ContainerCgroup(t.state, "exec"));
  }
  jail::LaunchHooks hooks;
  pid_t child = 0;
  hooks.on_child = [&](pid_t pid) -> Status {
    child = pid;
    if (cgroup) return cgroup->AddProcess(pid).Context("joining the container's cgroup");
    return Ok();
  };
  hooks.on_seccomp_fd = [&](UniqueFd fd) {
    return SendSeccompListener(config, o.id, t.state.bundle, "running", child, std::move(fd));
  };
  BH_ASSIGN(jail::Launched launched, jail::LaunchInit(spec, hooks).Context("exec"));
  Status written = WritePidFile(o.pid_file, launched.pid);
  if (!written.ok()) {
    kill(launched.pid, SIGKILL);
    waitpid(launched.pid, nullptr, 0);
    return std::move(written).error();
  }
  if (o.detach) return 0;
  return WaitForwardingSignals(launched.pid);
}

}  // namespace bulkhead::runtime
