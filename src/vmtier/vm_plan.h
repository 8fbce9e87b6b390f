// What a vm-tier container becomes on the host: the VM's size from linux.resources, the
// monitor's command line, and the start spec the guest's bulkhead-init receives
// (docs/vm-tier.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "oci/config.h"
#include "vmtier/runtime_config.h"
#include "vmtier/volumes.h"

namespace bulkhead::vmtier {

struct VmSize {
  uint32_t vcpus = 1;
  uint64_t memory_mib = 0;
};

// vCPUs: the CPU quota over its period rounded up (period 100000 us when only a quota is
// given), at most 32; else config.vcpus. Memory: the memory limit in MiB rounded up plus
// config.memory_overhead_mib (the guest kernel and init live in the same RAM); else
// config.memory_mib. A limit the monitor cannot give is an error naming the field.
Result<VmSize> SizeFromResources(const std::optional<oci::Resources>& resources,
                                 const RuntimeConfig& config);

// Features the vm tier does not carry into the guest yet: each is refused at create with an
// error naming it rather than silently dropped: --preserve-fds, hooks, and namespaces to
// join by path (bind mounts: PlanVolumes).
Status CheckVmSupport(const oci::Config& config, int preserve_fds);

// A volume and its image as the monitor gets it, an inherited fd: a disk named by the
// volume's serial, and for a writable one a write-back target (its number and source).
struct VolumeDisk {
  Volume volume;
  int fd = -1;
};

struct MonitorPlan {
  std::string vmm;
  std::string kernel;
  std::string initrd;
  int image_fd = -1;         // the held rootfs image, inherited by the monitor
  std::string agent_socket;
  std::string serial_log;    // the guest kernel's console
  VmSize size;
  bool tty = false;          // the monitor's stdio is the workload's terminal
  std::vector<VolumeDisk> volumes;  // read-only disks after the rootfs
  uint64_t volume_size_mib = 0;     // what the monitor writes back to a writable volume, at most
};

// argv for bulkhead-vmm in agent mode; the rootfs image is the read-only disk "rootfs" and
// each volume's a read-only disk named by its serial, all opened through /proc/self/fd so
// the monitor uses exactly the images that are held; each writable volume adds
// --writeback volume=<n>,max_mib=<size>,path=<source>.
std::vector<std::string> MonitorArgs(const MonitorPlan& plan);

// The start frame's JSON: {"id", "config", "guest": {"upper_size_mib", "volumes"}}, where
// config is the bundle's config.json with root.path set to the guest's overlay, each
// volume's mount source set to where the guest mounts its image, and hooks left out (they
// run on the host); guest.volumes lists the disks ({"serial", "path"}, and "writable" and
// "size_mib" (volume_size_mib) for a writable one) to mount. The id is made to fit the
// guest's rules for a cgroup name.
Result<std::string> BuildStartSpec(std::string_view config_json, const std::string& id,
                                   uint64_t upper_size_mib,
                                   const std::vector<Volume>& volumes = {},
                                   uint64_t volume_size_mib = 0);

// The guest's name for the container: [A-Za-z0-9_.-], 1..64 characters.
std::string GuestId(const std::string& id);

}  // namespace bulkhead::vmtier
