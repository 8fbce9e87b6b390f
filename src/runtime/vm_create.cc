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
#include "runtime/pid_file.h"
#include "runtime/vm.h"
#include "runtime/vm_monitor.h"
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
  BH_TRY(vmtier::CheckVmSupport(b.config, !o.console_socket.empty(), o.preserve_fds));
  BH_ASSIGN(vmtier::RuntimeConfig rc, LoadVmRuntimeConfig(g));
  BH_TRY(vmtier::CheckVmAssets(rc));
  BH_ASSIGN(vmtier::VmSize size, vmtier::SizeFromResources(b.config.linux.resources, rc));
  BH_ASSIGN(std::string start_spec,
            vmtier::BuildStartSpec(b.config_text, o.id, rc.upper_size_mib));

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

  vmtier::MonitorPlan plan{rc.vmm,     rc.kernel,     rc.initrd, image.fd.get(),
                           kVmAgentSocket, kVmConsoleLog, size};
  BH_ASSIGN(pid_t monitor,
            SpawnMonitor(vmtier::MonitorArgs(plan), dir, image.fd.get(), [&](pid_t pid) -> Status {
              if (cgroup) return cgroup->AddProcess(pid).Context("the monitor's cgroup");
              return Ok();
            }));
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
