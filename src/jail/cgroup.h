// A container's cgroup: one directory in every mounted hierarchy (v1, v2 or both), the
// resource knobs from linux.resources, membership, freezing, killing and statistics.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "jail/cgroup_mounts.h"
#include "oci/config.h"

namespace bulkhead::jail {

class Cgroup {
 public:
  // One directory of this cgroup, in one hierarchy.
  struct Dir {
    CgroupHierarchy hierarchy;
    std::string path;  // "/sys/fs/cgroup/memory/bulkhead/<id>"
  };

  // Numbers for `events --stats`; a counter the host does not offer reads 0.
  struct Stats {
    static constexpr uint64_t kUnlimited = UINT64_MAX;  // a v2 "max"
    struct Memory {
      uint64_t usage = 0, max_usage = 0, limit = 0, failcnt = 0;
      uint64_t swap_usage = 0, swap_limit = 0;  // v1: memory+swap; v2: swap alone
      uint64_t oom_kill = 0;                    // processes the OOM killer took
      uint64_t cache = 0;                       // page cache: v1 "cache", v2 "file"
      std::map<std::string, uint64_t> raw;      // memory.stat as the kernel names it
    } memory;
    struct Cpu {
      uint64_t usage_ns = 0, user_ns = 0, system_ns = 0;
      uint64_t periods = 0, throttled_periods = 0, throttled_ns = 0;
      std::vector<uint64_t> percpu_ns;  // v1 cpuacct.usage_percpu; v2 has no per-cpu counts
    } cpu;
    struct Pids {
      uint64_t current = 0, limit = 0;  // limit 0: unlimited
    } pids;
    struct BlkioEntry {
      uint32_t major = 0, minor = 0;
      std::string op;  // "Read", "Write" (v1 also "Sync", "Async", "Discard", "Total")
      uint64_t value = 0;
    };
    std::vector<BlkioEntry> blkio_service_bytes;
  };

  // cgroups_path is linux.cgroupsPath ("" -> "/bulkhead/<id>"; relative paths start at the
  // caller's own cgroup; systemd "slice:prefix:name" and ".." are refused). Makes the
  // directory in every hierarchy; on failure removes what it made.
  static Result<Cgroup> Create(const CgroupMounts& m, const std::string& cgroups_path,
                               const std::string& id);
  // The same cgroup for later verbs; creates nothing and checks nothing.
  static Result<Cgroup> Open(const CgroupMounts& m, const std::string& cgroups_path,
                             const std::string& id);

  // Writes every knob of r plus the device rules (deny all, r.devices, then the defaults;
  // the caller appends AllowRulesForDevices(linux.devices) to r.devices). Errors name the
  // config field and the file.
  Status Apply(const oci::Resources& r);
  // Every knob of r except the device rules, which stay as they are: what `update`
  // changes (runc's update ignores linux.resources.devices as well).
  Status ApplyLimits(const oci::Resources& r);
  // Writes pid to cgroup.procs in every hierarchy.
  Status AddProcess(pid_t pid);
  // Every process in the cgroup or below it, in any hierarchy, sorted.
  Result<std::vector<pid_t>> Pids() const;

  // v1 freezer.state or v2 cgroup.freeze; returns once the kernel reports frozen.
  Status Freeze();
  Status Thaw();
  Result<bool> IsFrozen() const;
  // Moves the kernel threads in this cgroup to the root of their hierarchy. KVM attaches a
  // per-VM worker (kvm-nx-lpage-recovery) to the cgroup of the process that made the VM;
  // the v2 freezer cannot freeze a kernel thread, so with one inside the cgroup would never
  // report frozen. Returns how many were moved.
  Result<int> EvictKernelThreads();
  // Signals every process; freezes first so none can fork past the signal.
  Status KillAll(int sig);
  // Removes the directory (and any the container made below it) everywhere; retries
  // while exiting processes leave; a missing directory is fine.
  Status Destroy();

  Result<Stats> ReadStats() const;
  // Processes the OOM killer took in this cgroup so far (v1 memory.oom_control, v2
  // memory.events); 0 without a memory controller. One file read: cheap to poll.
  uint64_t OomKills() const;

  std::string Describe() const;
  // True when the directory exists in at least one hierarchy.
  bool Exists() const;
  CgroupLayout layout() const { return layout_; }
  // The normalized linux.cgroupsPath ("/bulkhead/<id>", or relative without a leading /).
  const std::string& path() const { return path_; }
  const std::vector<Dir>& dirs() const { return dirs_; }
  // The directory that holds a controller's files; nullptr when no hierarchy has it.
  const Dir* DirFor(std::string_view controller) const;

 private:
  static Result<Cgroup> Make(const CgroupMounts& m, const std::string& cgroups_path,
                             const std::string& id);
  Status ApplyMemory(const oci::MemoryResources& mem);
  Status ApplyCpu(const oci::CpuResources& cpu);
  Status ApplyBlockIo(const oci::BlockIoResources& io);
  Status ApplyHugepages(const std::vector<oci::HugepageLimit>& limits);
  Status ApplyUnified(const std::map<std::string, std::string>& unified);
  Status ApplyDevices(const std::vector<oci::DeviceRule>& rules);

  CgroupLayout layout_ = CgroupLayout::kV2;
  std::string path_;
  std::vector<Dir> dirs_;
};

}  // namespace bulkhead::jail
