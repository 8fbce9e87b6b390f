// `create`: prepare everything and leave the container's init waiting for `start`.
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "base/clock.h"
#include "base/defer.h"
#include "base/fs.h"
#include "base/scm.h"
#include "jail/cgroup.h"
#include "jail/device_filter.h"
#include "jail/launch.h"
#include "oci/parse.h"
#include "oci/state.h"
#include "oci/validate.h"
#include "runtime/hooks.h"
#include "runtime/pid_file.h"
#include "runtime/seccomp_listener.h"
#include "runtime/verbs.h"
#include "runtime/vm.h"
#include "seccomp/cache.h"
#include "seccomp/compile.h"

namespace bulkhead::runtime {

namespace {

Result<std::string> AbsoluteDir(const std::string& path, const std::string& what) {
  char buf[PATH_MAX];
  if (realpath(path.c_str(), buf) == nullptr) {
    if (errno == ENOENT) return Error(what + " " + path + " does not exist", ENOENT);
    return Error::FromErrno(what + " " + path);
  }
  struct stat st;
  if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Error(what + " " + path + " is not a directory", ENOTDIR);
  }
  return std::string(buf);
}

Result<std::string> ResolveRootfs(const std::string& bundle, const oci::Config& config) {
  std::string path = config.root.path;
  if (path.empty() || path[0] != '/') path = JoinPath(bundle, path);
  return AbsoluteDir(path, "root.path:");
}

// RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF.
bool IsUtf8(std::string_view s) {
  static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t extra = c < 0x80                ? 0
                   : (c & 0xE0) == 0xC0 ? 1
                   : (c & 0xF0) == 0xE0 ? 2
                   : (c & 0xF8) == 0xF0 ? 3
                                        : 4;  // a stray continuation byte or 0xF8..0xFF
    if (extra == 4 || s.size() - i <= extra) return false;
    uint32_t cp = c & (0x7Fu >> extra);
    for (size_t k = 1; k <= extra; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

// state.json and the state the hooks read are JSON, which holds only UTF-8: a path that is
// not would be stored altered (or not at all), so later verbs would act on another path.
Status CheckUtf8Path(const std::string& path, const std::string& what) {
  if (IsUtf8(path)) return Ok();
  return Error(what + " path " + path +
                   " is not valid UTF-8, which the container's state (JSON) cannot hold",
               EINVAL);
}


}  // namespace

Result<CreatedContainer> Create(const GlobalOptions& g, const CreateOptions& o) {
  StateStore store(g.root);
  BH_TRY(ValidateId(o.id));
  BH_ASSIGN(std::string bundle, AbsoluteDir(o.bundle.empty() ? "." : o.bundle, "bundle"));
  std::string config_text;
  BH_ASSIGN(oci::Config config, oci::LoadConfig(bundle, &config_text));
  BH_TRY(oci::Validate(config));
  if (!config.has_process || config.process.args.empty()) {
    return Error("process.args: the container needs a process to run", EINVAL);
  }
  BH_ASSIGN(std::string rootfs, ResolveRootfs(bundle, config));
  BH_TRY(CheckUtf8Path(bundle, "bundle"));
  BH_TRY(CheckUtf8Path(rootfs, "root.path: the rootfs"));
  BH_ASSIGN(vmtier::Isolation tier, ResolveIsolation(g, config));
  if (tier == vmtier::Isolation::kVm) {
    return CreateVm(g, o, VmBundle{bundle, rootfs, std::move(config), std::move(config_text)});
  }
  BH_ASSIGN(jail::InitSpec spec, jail::PrepareInitSpec(config, o.id, rootfs));
  if (config.linux.seccomp) {
    BH_ASSIGN(spec.seccomp, seccomp::CompileCached(*config.linux.seccomp, JoinPath(g.root, "@cache/seccomp")));
  }
  if (config.process.terminal) {
    if (o.console_socket.empty()) {
      return Error("process.terminal is true but no --console-socket was given", EINVAL);
    }
    BH_ASSIGN(spec.console_socket, ConnectUnix(o.console_socket).Context("--console-socket"));
  }
  spec.no_pivot = o.no_pivot;
  spec.no_new_keyring = o.no_new_keyring;
  spec.preserve_fds = o.preserve_fds;
  if (o.preserve_fds > 0) {
    spec.env.push_back("LISTEN_FDS=" + std::to_string(o.preserve_fds));
    spec.env.push_back("LISTEN_PID=1");
  }

  // From here on everything made is undone if a later step fails.
  BH_ASSIGN(UniqueFd lock, store.CreateDir(o.id));
  // A create that fails once the container exists still ends its lifecycle (runtime.md
  // steps 12 and 13): after everything below is undone, poststop runs.
  Defer poststop([&] { RunPoststopHooks(config.hooks.poststop, o.id, bundle, config.annotations); });
  Defer remove_dir([&] { (void)store.Remove(o.id); });
  BH_TRY(WriteFileAtomic(store.ConfigPath(o.id), config_text, 0600));
  std::string fifo = store.FifoPath(o.id);
  if (mkfifo(fifo.c_str(), 0600) != 0) return Error::FromErrno("creating " + fifo);
  BH_ASSIGN(spec.exec_fifo, OpenFile(fifo, O_RDWR));

  std::optional<jail::Cgroup> cgroup;
  std::optional<Defer<std::function<void()>>> destroy_cgroup;
  if (g.cgroups) {
    BH_ASSIGN(jail::CgroupMounts mounts, jail::DetectCgroups());
    BH_ASSIGN(jail::Cgroup cg, jail::Cgroup::Create(mounts, config.linux.cgroups_path, o.id));
    cgroup.emplace(std::move(cg));
    destroy_cgroup.emplace([&] { (void)cgroup->Destroy(); });
    // Always applied, so the device rules (deny all, then the defaults and the config's
    // own devices) hold even for a config without linux.resources.
    oci::Resources resources = config.linux.resources.value_or(oci::Resources{});
    for (auto& rule : jail::AllowRulesForDevices(config.linux.devices)) {
      resources.devices.push_back(std::move(rule));
    }
    BH_TRY(cgroup->Apply(resources));
  }

  jail::LaunchHooks hooks;
  pid_t child_pid = 0;
  hooks.on_child = [&](pid_t pid) -> Status {
    child_pid = pid;
    if (cgroup) return cgroup->AddProcess(pid);
    return Ok();
  };
  hooks.on_seccomp_fd = [&](UniqueFd fd) {
    return SendSeccompListener(config, o.id, bundle, "creating", child_pid, std::move(fd));
  };
  hooks.on_create_runtime = [&](pid_t pid) -> Result<std::string> {
    std::string st = HookState(o.id, bundle, config.annotations, "creating", pid);
    BH_TRY(RunCreateRuntimeHooks(config.hooks, bundle, st));
    return st;
  };
  BH_ASSIGN(jail::Launched launched, jail::LaunchInit(spec, hooks));
  Defer kill_child([&] {
    kill(launched.pid, SIGKILL);
    waitpid(launched.pid, nullptr, 0);
  });

  ContainerState state;
  state.id = o.id;
  state.bundle = bundle;
  state.rootfs = rootfs;
  state.pid = launched.pid;
  state.pid_start_time = ProcessStartTime(launched.pid);
  state.created = NowRfc3339();
  state.cgroups_enabled = g.cgroups;
  state.cgroups_path = config.linux.cgroups_path;
  state.annotations = config.annotations;
  state.hooks = config.hooks;
  BH_TRY(store.Save(state));
  BH_TRY(WritePidFile(o.pid_file, launched.pid));

  kill_child.Cancel();
  if (destroy_cgroup) destroy_cgroup->Cancel();
  remove_dir.Cancel();
  poststop.Cancel();
  return CreatedContainer{launched.pid};
}

}  // namespace bulkhead::runtime
