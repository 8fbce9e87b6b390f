// Pure helpers for cgroups: path rules and the conversions between the OCI (cgroup v1
// flavoured) values and what cgroup v2 files take.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/result.h"
#include "jail/cgroup_mounts.h"

namespace bulkhead::jail {

// Normalizes linux.cgroupsPath: "" -> "/bulkhead/<id>"; "a:b:c" (systemd form) and ".."
// components are refused; "." and repeated slashes are dropped. The result keeps its
// leading '/' when absolute (from the hierarchy root) and has none when relative (from
// the caller's own cgroup, as runc does).
Result<std::string> NormalizeCgroupsPath(const std::string& cgroups_path, const std::string& id);

// The directory of a normalized cgroups path inside one hierarchy.
std::string CgroupDirIn(const CgroupHierarchy& h, const std::string& normalized);

// cpu.shares (2..262144, default 1024) to cpu.weight (1..10000, default 100), the
// mapping runc and crun use: 1 + ((shares - 2) * 9999) / 262142.
uint64_t CpuSharesToWeight(uint64_t shares);

// cpu.max: "<quota> <period>", quota "max" when absent or not positive; period defaults
// to the kernel's 100000us.
std::string FormatCpuMax(std::optional<int64_t> quota, std::optional<uint64_t> period);

// blkio.weight (10..1000) to io.weight (1..10000).
uint64_t BlkioWeightToIoWeight(uint64_t weight);

// A byte or count limit for a v2 file: negative -> "max".
std::string FormatV2Limit(int64_t value);

// pids.max for both versions: <= 0 -> "max".
std::string FormatPidsMax(int64_t limit);

}  // namespace bulkhead::jail
