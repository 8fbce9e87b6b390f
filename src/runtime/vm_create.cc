// `create` in the vm tier: the rootfs becomes a held erofs image, bulkhead-vmm boots the
// guest in agent mode inside the container's cgroup, and create returns once the guest's
// bulkhead-init has said hello. Anything that fails on the way is undone.
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <optional>

#include "base/clock.h"
#include "base/defer.h"
#include "base/fs.h"
#include "base/log.h"
#include "jail/cgroup.h"
#include "runtime/console_pty.h"
#include "runtime/pid_file.h"
#include "runtime/vm.h"
#include "runtime/vm_monitor.h"
#include "runtime/vm_volumes.h"
#include "vmimage/image_cache.h"
#include "vmtier/vm_plan.h"

namespace bulkhead::runtime {

namespace {

// The monitor's own memory beside the guest's RAM (its heap, queues, page tables): the
// cgroup's limit is the guest's memory plus this.
constexpr uint64_t kMonitorOverheadMib = 64;
constexpr uint64_t kMiB = 1024 * 1024;

const char* OriginName(vmimage::ImageOrigin o) {
  switch (o) {
    case vmimage::ImageOrigin::kBuilt: return "built";
    case vmimage::ImageOrigin::kSameContent: return "reused (same content)";
    case vmimage::ImageOrigin::kSameIdentity: return "reused (same tree)";
  }
  return "?";
}

// bulkhead-init's first console line says how far into the guest's boot it started: the
// kernel's share of the boot, for the debug log (and the vm-tier benchmark).
std::string GuestBootNote(const std::string& dir) {
  Result<std::string> console = ReadFile(JoinPath(dir, kVmConsoleLog), 1 << 20);
  if (!console.ok()) return "";
  const std::string marker = "bulkhead-init: up ";
  size_t at = console->find(marker);
  if (at == std::string::npos) return "";
  size_t end = console->find_first_of("\r\n", at);
  return "; " + console->substr(at, end == std::string::npos ? end : end - at);
}

}  // namespace

Result<vmtier::RuntimeConfig> LoadVmRuntimeConfig(const GlobalOptions& g) {
  BH_ASSIGN(std::string bin_dir, vmtier::BinaryDir(g.invoked_as, getenv("PATH")));
  return vmtier::LoadRuntimeConfig(g.runtime_config, getenv(vmtier::kRuntimeConfigEnv), bin_dir);
}

Result<vmtier::Isolation> ResolveIsolation(const GlobalOptions& g, const oci::Config& config) {
  // Decided without the configuration file unless only its default can decide.
  BH_ASSIGN(vmtier::Isolation without_file,
            vmtier::SelectIsolation(config.annotations, g.invoked_as, vmtier::Isolation::kVm));
  BH_ASSIGN(vmtier::Isolation with_container_default,
            vmtier::SelectIsolation(config.annotations, g.invoked_as,
                                    vmtier::Isolation::kContainer));
  if (without_file == with_container_default) return without_file;
  BH_ASSIGN(vmtier::RuntimeConfig rc, LoadVmRuntimeConfig(g));
  return rc.isolation;
}

Result<CreatedContainer> CreateVm(const GlobalOptions& g, const CreateOptions& o,
                                  const VmBundle& b) {
  StateStore store(g.root);
  LogDebug("vm tier: creating \"" + o.id + "\"");
  BH_TRY(vmtier::CheckVmSupport(b.config, o.preserve_fds));
  if (b.config.process.terminal && o.console_socket.empty()) {
    return Error("process.terminal is true but no --console-socket was given", EINVAL);
  }
  BH_ASSIGN(vmtier::RuntimeConfig rc, LoadVmRuntimeConfig(g));
  BH_TRY(vmtier::CheckVmAssets(rc));
  BH_ASSIGN(vmtier::VmSize size, vmtier::SizeFromResources(b.config.linux.resources, rc));
  BH_ASSIGN(std::vector<vmtier::Volume> volumes, vmtier::PlanVolumes(b.config, b.bundle));
  BH_ASSIGN(std::string start_spec,
            vmtier::BuildStartSpec(b.config_text, o.id, rc.upper_size_mib, volumes, rc.volume_size_mib));

  // From here on everything made is undone if a later step fails.
  BH_ASSIGN(UniqueFd lock, store.CreateDir(o.id));
  Defer remove_dir([&] { (void)store.Remove(o.id); });
  std::string dir = store.Dir(o.id);
  BH_TRY(WriteFileAtomic(store.ConfigPath(o.id), b.config_text, 0600));
  BH_TRY(WriteFileAtomic(JoinPath(dir, kVmStartSpec), start_spec, 0600));

  vmimage::ImageCache cache;
  cache.dir = rc.image_cache;
  BH_ASSIGN(vmimage::HeldImage image,
            vmimage::EnsureImage(b.rootfs, cache).Context("imaging the rootfs " + b.rootfs));
  LogDebug("vm tier: rootfs image " + image.key + " " + OriginName(image.origin));
  BH_ASSIGN(std::vector<vmimage::HeldImage> volume_images, ImageVolumes(volumes, cache, dir));
  std::vector<int> keep_fds = {image.fd.get()};
  std::vector<vmtier::VolumeDisk> volume_disks;
  for (size_t i = 0; i < volumes.size(); ++i) {
    LogDebug("vm tier: volume " + volumes[i].source + " image " + volume_images[i].key + " " +
             OriginName(volume_images[i].origin));
    keep_fds.push_back(volume_images[i].fd.get());
    volume_disks.push_back({volumes[i], volume_images[i].fd.get()});
  }

  std::optional<jail::Cgroup> cgroup;
  std::optional<Defer<std::function<void()>>> destroy_cgroup;
  if (g.cgroups) {
    BH_ASSIGN(jail::CgroupMounts mounts, jail::DetectCgroups());
    BH_ASSIGN(jail::Cgroup cg, jail::Cgroup::Create(mounts, b.config.linux.cgroups_path, o.id));
    cgroup.emplace(std::move(cg));
    destroy_cgroup.emplace([&] { (void)cgroup->Destroy(); });
    // The VM's limits are the guest's own (its RAM and vCPUs); the host cgroup bounds the
    // monitor as a whole. No device rules: the monitor needs /dev/kvm.
    oci::Resources limits;
    limits.memory.emplace();
    limits.memory->limit = static_cast<int64_t>((size.memory_mib + kMonitorOverheadMib) * kMiB);
    BH_TRY(cgroup->ApplyLimits(limits).Context("the monitor's cgroup"));
  }

  // With a terminal the monitor's stdio is the host end of it (and its controlling
  // terminal); the console socket gets the master, as from runc.
  UniqueFd tty;
  if (b.config.process.terminal) {
    BH_ASSIGN(tty, HandOverRawPty(o.console_socket, b.config.process.console_size, "create"));
  }
  vmtier::MonitorPlan plan{rc.vmm,     rc.kernel,     rc.initrd, image.fd.get(),
                           kVmAgentSocket, kVmConsoleLog, size,    tty.valid(),
                           std::move(volume_disks), rc.volume_size_mib};
  BH_ASSIGN(pid_t monitor,
            SpawnMonitor(vmtier::MonitorArgs(plan), dir, keep_fds,
                         tty.valid() ? tty.get() : -1, [&](pid_t pid) -> Status {
                           if (cgroup) {
                             return cgroup->AddProcess(pid).Context("the monitor's cgroup");
                           }
                           return Ok();
                         }));
  LogDebug("vm tier: monitor started, pid " + std::to_string(monitor));
  Defer kill_monitor([&] {
    if (cgroup) (void)cgroup->KillAll(SIGKILL);
    pid_t child = MonitorChild(monitor);
    if (child > 0) (void)KillAndAwait(child, ProcessStartTime(child), 10000);
    kill(monitor, SIGKILL);
    waitpid(monitor, nullptr, 0);
  });
  BH_ASSIGN(vmproto::Hello hello,
            AwaitGuest(monitor, dir, std::chrono::seconds(rc.boot_timeout_s))
                .Context("booting the VM of \"" + o.id + "\""));

  if (LogEnabled(LogLevel::kDebug)) {
    LogDebug("vm tier: guest up, kernel " + hello.kernel_release + GuestBootNote(dir));
  }
  if (cgroup) {
    // KVM's per-VM kernel worker joined the monitor's cgroup: left there, it would keep
    // `pause` from ever seeing the cgroup frozen.
    Result<int> moved = cgroup->EvictKernelThreads();
    if (!moved.ok()) LogWarning("vm tier: " + moved.error().message() + " (pause may fail)");
  }

  ContainerState state;
  state.id = o.id;
  state.bundle = b.bundle;
  state.rootfs = b.rootfs;
  state.pid = monitor;
  state.pid_start_time = ProcessStartTime(monitor);
  state.created = NowRfc3339();
  state.cgroups_enabled = g.cgroups;
  state.cgroups_path = b.config.linux.cgroups_path;
  state.annotations = b.config.annotations;
  state.vm = true;
  state.vm_inner_pid = MonitorChild(monitor);
  if (state.vm_inner_pid > 0) state.vm_inner_start_time = ProcessStartTime(state.vm_inner_pid);
  state.vm_image = image.key;
  state.vm_guest_kernel = hello.kernel_release;
  BH_TRY(store.Save(state));
  BH_TRY(WritePidFile(o.pid_file, monitor));

  kill_monitor.Cancel();
  if (destroy_cgroup) destroy_cgroup->Cancel();
  remove_dir.Cancel();
  return CreatedContainer{monitor};
}

}  // namespace bulkhead::runtime
