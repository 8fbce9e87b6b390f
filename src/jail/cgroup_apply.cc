// linux.resources -> cgroup files: memory, cpu, cpuset and pids.
#include <algorithm>

#include "jail/cgroup.h"
#include "jail/cgroup_knobs.h"
#include "jail/cgroup_util.h"

namespace bulkhead::jail {

namespace {

constexpr std::string_view kRes = "linux.resources.";

std::string Field(std::string_view name) { return std::string(kRes) + std::string(name); }

Status Missing(std::string_view field, std::string_view controller, const Cgroup& cg) {
  return Error(Field(field) + ": no " + std::string(controller) + " controller is available for " +
                   cg.Describe(),
               ENOTSUP);
}

// v1 needs limit <= memory+swap at every moment, so the order of the two writes depends on
// whether the new memory+swap value grows or shrinks the current one.
Status MemoryAndSwapV1(const std::string& dir, const oci::MemoryResources& mem) {
  const char* kLimit = "memory.limit_in_bytes";
  const char* kSwap = "memory.memsw.limit_in_bytes";
  auto write_limit = [&] {
    return WriteKnob(dir, kLimit, std::to_string(*mem.limit), Field("memory.limit"));
  };
  if (!mem.swap) return mem.limit ? write_limit() : Ok();
  if (!KnobExists(dir, kSwap)) {
    if (*mem.swap != -1) {
      return Error(Field("memory.swap") + ": the kernel has no swap accounting (" + dir + "/" +
                       kSwap + " is missing); boot it with swapaccount=1 or leave swap unset",
                   ENOTSUP);
    }
    return mem.limit ? write_limit() : Ok();  // unlimited swap is what we get anyway
  }
  auto write_swap = [&] {
    return WriteKnob(dir, kSwap, std::to_string(*mem.swap), Field("memory.swap"));
  };
  if (!mem.limit) return write_swap();
  BH_ASSIGN(std::string cur_text, ReadKnob(dir, kSwap));
  BH_ASSIGN(uint64_t current, ParseKnobU64(cur_text));
  uint64_t wanted = *mem.swap < 0 ? UINT64_MAX : static_cast<uint64_t>(*mem.swap);
  if (wanted > current) {
    BH_TRY(write_swap());
    return write_limit();
  }
  BH_TRY(write_limit());
  return write_swap();
}

Status MemoryV1(const std::string& dir, const oci::MemoryResources& mem) {
  BH_TRY(MemoryAndSwapV1(dir, mem));
  if (mem.reservation) {
    BH_TRY(WriteKnob(dir, "memory.soft_limit_in_bytes", std::to_string(*mem.reservation),
                     Field("memory.reservation")));
  }
  if (mem.swappiness) {
    if (*mem.swappiness > 100) {
      return Error(Field("memory.swappiness") + ": " + std::to_string(*mem.swappiness) +
                       " is above 100", EINVAL);
    }
    BH_TRY(WriteKnob(dir, "memory.swappiness", std::to_string(*mem.swappiness),
                     Field("memory.swappiness")));
  }
  if (mem.disable_oom_killer) {
    BH_TRY(WriteKnob(dir, "memory.oom_control", *mem.disable_oom_killer ? "1" : "0",
                     Field("memory.disableOOMKiller")));
  }
  // memory.kernel is ignored: kernel memory limits are gone from current kernels.
  return Ok();
}

Status MemoryV2(const std::string& dir, const oci::MemoryResources& mem) {
  if (mem.limit) {
    BH_TRY(WriteKnob(dir, "memory.max", FormatV2Limit(*mem.limit), Field("memory.limit")));
  }
  if (mem.reservation) {
    BH_TRY(WriteKnob(dir, "memory.low", FormatV2Limit(*mem.reservation),
                     Field("memory.reservation")));
  }
  if (mem.swap) {
    // The spec's swap is memory+swap; v2 limits swap alone.
    std::string value = "max";
    if (*mem.swap >= 0) {
      if (!mem.limit || *mem.limit < 0) {
        return Error(Field("memory.swap") + ": needs memory.limit on cgroup v2", EINVAL);
      }
      if (*mem.swap < *mem.limit) {
        return Error(Field("memory.swap") + ": " + std::to_string(*mem.swap) +
                         " is below memory.limit " + std::to_string(*mem.limit), EINVAL);
      }
      value = std::to_string(*mem.swap - *mem.limit);
    }
    if (!KnobExists(dir, "memory.swap.max")) {
      if (value == "max") return Ok();
      return Error(Field("memory.swap") + ": the kernel has no swap accounting (" + dir +
                       "/memory.swap.max is missing)", ENOTSUP);
    }
    BH_TRY(WriteKnob(dir, "memory.swap.max", value, Field("memory.swap")));
  }
  // swappiness and disableOOMKiller have no v2 knob; like runc, they are not applied.
  return Ok();
}

Status CpuV1(const std::string& dir, const oci::CpuResources& cpu) {
  if (cpu.shares) {
    BH_TRY(WriteKnob(dir, "cpu.shares", std::to_string(*cpu.shares), Field("cpu.shares")));
  }
  if (cpu.period) {
    BH_TRY(WriteKnob(dir, "cpu.cfs_period_us", std::to_string(*cpu.period), Field("cpu.period")));
  }
  if (cpu.quota) {
    int64_t quota = *cpu.quota > 0 ? *cpu.quota : -1;
    BH_TRY(WriteKnob(dir, "cpu.cfs_quota_us", std::to_string(quota), Field("cpu.quota")));
  }
  if (cpu.realtime_period) {
    BH_TRY(WriteKnob(dir, "cpu.rt_period_us", std::to_string(*cpu.realtime_period),
                     Field("cpu.realtimePeriod")));
  }
  if (cpu.realtime_runtime) {
    BH_TRY(WriteKnob(dir, "cpu.rt_runtime_us", std::to_string(*cpu.realtime_runtime),
                     Field("cpu.realtimeRuntime")));
  }
  if (cpu.idle) BH_TRY(WriteKnob(dir, "cpu.idle", std::to_string(*cpu.idle), Field("cpu.idle")));
  return Ok();
}

Status CpuV2(const std::string& dir, const oci::CpuResources& cpu) {
  if ((cpu.realtime_runtime && *cpu.realtime_runtime != 0) ||
      (cpu.realtime_period && *cpu.realtime_period != 0)) {
    return Error(Field("cpu.realtimeRuntime") + ": realtime scheduling is not supported on cgroup v2",
                 ENOTSUP);
  }
  if (cpu.shares && *cpu.shares != 0) {
    BH_TRY(WriteKnob(dir, "cpu.weight", std::to_string(CpuSharesToWeight(*cpu.shares)),
                     Field("cpu.shares")));
  }
  if (cpu.quota || cpu.period) {
    BH_TRY(WriteKnob(dir, "cpu.max", FormatCpuMax(cpu.quota, cpu.period),
                     Field(cpu.quota ? "cpu.quota" : "cpu.period")));
  }
  if (cpu.idle) BH_TRY(WriteKnob(dir, "cpu.idle", std::to_string(*cpu.idle), Field("cpu.idle")));
  return Ok();
}

}  // namespace

Status Cgroup::ApplyMemory(const oci::MemoryResources& mem) {
  bool any = mem.limit || mem.reservation || mem.swap || mem.swappiness || mem.disable_oom_killer;
  if (!any) return Ok();
  const Dir* d = DirFor("memory");
  if (d == nullptr) return Missing("memory", "memory", *this);
  return d->hierarchy.v2 ? MemoryV2(d->path, mem) : MemoryV1(d->path, mem);
}

Status Cgroup::ApplyCpu(const oci::CpuResources& cpu) {
  bool any = cpu.shares || cpu.quota || cpu.period || cpu.realtime_runtime ||
             cpu.realtime_period || cpu.idle;
  if (any) {
    const Dir* d = DirFor("cpu");
    if (d == nullptr) return Missing("cpu", "cpu", *this);
    BH_TRY(d->hierarchy.v2 ? CpuV2(d->path, cpu) : CpuV1(d->path, cpu));
  }
  if (!cpu.cpus.empty() || !cpu.mems.empty()) {
    const Dir* d = DirFor("cpuset");
    if (d == nullptr) return Missing("cpu.cpus", "cpuset", *this);
    if (!cpu.cpus.empty()) BH_TRY(WriteKnob(d->path, "cpuset.cpus", cpu.cpus, Field("cpu.cpus")));
    if (!cpu.mems.empty()) BH_TRY(WriteKnob(d->path, "cpuset.mems", cpu.mems, Field("cpu.mems")));
  }
  return Ok();
}

Status Cgroup::Apply(const oci::Resources& r) {
  BH_TRY(ApplyLimits(r));
  return ApplyDevices(r.devices);
}

Status Cgroup::ApplyLimits(const oci::Resources& r) {
  if (r.memory) BH_TRY(ApplyMemory(*r.memory));
  if (r.cpu) BH_TRY(ApplyCpu(*r.cpu));
  if (r.pids_limit) {
    const Dir* d = DirFor("pids");
    if (d == nullptr) return Missing("pids.limit", "pids", *this);
    BH_TRY(WriteKnob(d->path, "pids.max", FormatPidsMax(*r.pids_limit), Field("pids.limit")));
  }
  if (r.block_io) BH_TRY(ApplyBlockIo(*r.block_io));
  BH_TRY(ApplyHugepages(r.hugepage_limits));
  return ApplyUnified(r.unified);
}

}  // namespace bulkhead::jail
