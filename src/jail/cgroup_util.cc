#include "jail/cgroup_util.h"

#include <algorithm>
#include <vector>

#include "base/fs.h"

namespace bulkhead::jail {

Result<std::string> NormalizeCgroupsPath(const std::string& cgroups_path, const std::string& id) {
  if (cgroups_path.empty()) {
    if (id.empty() || id == "." || id == ".." || id.find('/') != std::string::npos) {
      return Error("container id \"" + id + "\" cannot name a cgroup", EINVAL);
    }
    return "/bulkhead/" + id;
  }
  const std::string field = "linux.cgroupsPath \"" + cgroups_path + "\"";
  if (cgroups_path.find(':') != std::string::npos) {
    return Error(field + ": systemd cgroups (slice:prefix:name) are not supported; give a "
                 "cgroupfs path such as /bulkhead/<id>", EINVAL);
  }
  bool absolute = cgroups_path.front() == '/';
  std::vector<std::string> parts;
  size_t pos = 0;
  while (pos <= cgroups_path.size()) {
    size_t next = cgroups_path.find('/', pos);
    if (next == std::string::npos) next = cgroups_path.size();
    std::string part = cgroups_path.substr(pos, next - pos);
    pos = next + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") return Error(field + ": \"..\" components are not allowed", EINVAL);
    parts.push_back(std::move(part));
  }
  // The root cgroup can be neither configured nor removed.
  if (parts.empty()) return Error(field + ": names the root cgroup", EINVAL);
  std::string out;
  for (const std::string& p : parts) {
    if (!out.empty() || absolute) out += '/';
    out += p;
  }
  return out;
}

std::string CgroupDirIn(const CgroupHierarchy& h, const std::string& normalized) {
  if (!normalized.empty() && normalized.front() == '/') return JoinPath(h.mount_point, normalized);
  return JoinPath(JoinPath(h.mount_point, h.self), normalized);
}

uint64_t CpuSharesToWeight(uint64_t shares) {
  shares = std::clamp<uint64_t>(shares, 2, 262144);
  return 1 + ((shares - 2) * 9999) / 262142;
}

std::string FormatCpuMax(std::optional<int64_t> quota, std::optional<uint64_t> period) {
  std::string out = quota && *quota > 0 ? std::to_string(*quota) : "max";
  out += ' ';
  out += std::to_string(period && *period > 0 ? *period : 100000);
  return out;
}

uint64_t BlkioWeightToIoWeight(uint64_t weight) {
  weight = std::clamp<uint64_t>(weight, 10, 1000);
  return 1 + ((weight - 10) * 9999) / 990;
}

std::string FormatV2Limit(int64_t value) { return value < 0 ? "max" : std::to_string(value); }

std::string FormatPidsMax(int64_t limit) { return limit <= 0 ? "max" : std::to_string(limit); }

}  // namespace bulkhead::jail
