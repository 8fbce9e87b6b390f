// linux.resources and linux.seccomp checks.
#include <cctype>
#include <set>

#include "oci/names.h"
#include "oci/validate_internal.h"

namespace bulkhead::oci::internal {

namespace {

// -1 (unlimited) or a byte count.
Status CheckMemoryValue(std::string_view name, const std::optional<int64_t>& v) {
  if (v && *v < -1) {
    return FieldError("linux.resources.memory." + std::string(name), "must be -1 or non-negative");
  }
  return Ok();
}

Status ValidateMemory(const MemoryResources& m) {
  BH_TRY(CheckMemoryValue("limit", m.limit));
  BH_TRY(CheckMemoryValue("reservation", m.reservation));
  BH_TRY(CheckMemoryValue("swap", m.swap));
  BH_TRY(CheckMemoryValue("kernel", m.kernel));
  // swap is memory+swap, so it cannot be below the memory limit.
  if (m.swap && m.limit && *m.swap > 0 && *m.limit > 0 && *m.swap < *m.limit) {
    return FieldError("linux.resources.memory.swap", "must not be below memory.limit");
  }
  if (m.swappiness && *m.swappiness > 100) {
    return FieldError("linux.resources.memory.swappiness", "must be at most 100");
  }
  return Ok();
}

// A cpuset list: "0-3,5,7".
bool WellFormedCpuList(const std::string& list) {
  size_t pos = 0;
  auto number = [&](uint64_t* out) {
    size_t start = pos;
    *out = 0;
    while (pos < list.size() && std::isdigit(static_cast<unsigned char>(list[pos]))) {
      if (pos - start >= 9) return false;  // far beyond any cpu count
      *out = *out * 10 + static_cast<uint64_t>(list[pos++] - '0');
    }
    return pos > start;
  };
  for (;;) {
    uint64_t lo = 0, hi = 0;
    if (!number(&lo)) return false;
    if (pos < list.size() && list[pos] == '-') {
      ++pos;
      if (!number(&hi) || hi < lo) return false;
    }
    if (pos == list.size()) return true;
    if (list[pos++] != ',') return false;
  }
}

Status ValidateCpu(const CpuResources& c) {
  // The kernel's CFS limits: period 1ms..1s, quota at least 1ms (or -1 for none).
  if (c.period && *c.period != 0 && (*c.period < 1000 || *c.period > 1000000)) {
    return FieldError("linux.resources.cpu.period", "must be within [1000, 1000000] us");
  }
  if (c.quota && *c.quota != 0 && *c.quota != -1 && *c.quota < 1000) {
    return FieldError("linux.resources.cpu.quota", "must be -1 or at least 1000 us");
  }
  if (c.shares && *c.shares != 0 && (*c.shares < 2 || *c.shares > 262144)) {
    return FieldError("linux.resources.cpu.shares", "must be within [2, 262144]");
  }
  if (c.realtime_runtime && *c.realtime_runtime < -1) {
    return FieldError("linux.resources.cpu.realtimeRuntime", "must be -1 or non-negative");
  }
  if (c.idle && *c.idle != 0 && *c.idle != 1) {
    return FieldError("linux.resources.cpu.idle", "must be 0 or 1");
  }
  if (!c.cpus.empty() && !WellFormedCpuList(c.cpus)) {
    return FieldError("linux.resources.cpu.cpus", "malformed list \"" + c.cpus + "\"");
  }
  if (!c.mems.empty() && !WellFormedCpuList(c.mems)) {
    return FieldError("linux.resources.cpu.mems", "malformed list \"" + c.mems + "\"");
  }
  return Ok();
}

Status CheckWeight(const std::string& field, const std::optional<uint16_t>& w) {
  // 0 leaves the kernel default; otherwise blkio/io weights span 10..1000.
  if (w && *w != 0 && (*w < 10 || *w > 1000)) return FieldError(field, "must be within [10, 1000]");
  return Ok();
}

Status CheckBlockDevices(const std::string& field, const std::vector<BlockIoDevice>& devices) {
  for (size_t i = 0; i < devices.size(); ++i) {
    const BlockIoDevice& d = devices[i];
    if (d.major < 0 || d.minor < 0) return FieldError(Indexed(field, i), "negative device number");
    BH_TRY(CheckWeight(Indexed(field, i) + ".weight", d.weight));
    BH_TRY(CheckWeight(Indexed(field, i) + ".leafWeight", d.leaf_weight));
  }
  return Ok();
}

Status ValidateBlockIo(const BlockIoResources& b) {
  const std::string base = "linux.resources.blockIO.";
  BH_TRY(CheckWeight(base + "weight", b.weight));
  BH_TRY(CheckWeight(base + "leafWeight", b.leaf_weight));
  BH_TRY(CheckBlockDevices(base + "weightDevice", b.weight_device));
  BH_TRY(CheckBlockDevices(base + "throttleReadBpsDevice", b.throttle_read_bps));
  BH_TRY(CheckBlockDevices(base + "throttleWriteBpsDevice", b.throttle_write_bps));
  BH_TRY(CheckBlockDevices(base + "throttleReadIOPSDevice", b.throttle_read_iops));
  return CheckBlockDevices(base + "throttleWriteIOPSDevice", b.throttle_write_iops);
}

Status ValidateDeviceRules(const std::vector<DeviceRule>& rules) {
  for (size_t i = 0; i < rules.size(); ++i) {
    const DeviceRule& r = rules[i];
    const std::string field = Indexed("linux.resources.devices", i);
    if (r.type != "a" && r.type != "c" && r.type != "b") {
      return FieldError(field + ".type", "must be a, c or b; got \"" + r.type + "\"");
    }
    if (r.major && *r.major < 0) return FieldError(field + ".major", "must be non-negative");
    if (r.minor && *r.minor < 0) return FieldError(field + ".minor", "must be non-negative");
    if (r.access.empty() || r.access.find_first_not_of("rwm") != std::string::npos) {
      return FieldError(field + ".access", "must be letters of \"rwm\"; got \"" + r.access + "\"");
    }
  }
  return Ok();
}

// "2MB", "1GB", "64KB": the hugetlb controller's file suffixes.
bool WellFormedPageSize(const std::string& s) {
  if (s.size() < 3) return false;
  const std::string unit = s.substr(s.size() - 2);
  if (unit != "KB" && unit != "MB" && unit != "GB") return false;
  for (size_t i = 0; i + 2 < s.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return s[0] != '0';
}

Status ValidateUnified(const std::map<std::string, std::string>& unified) {
  for (const auto& [key, value] : unified) {
    const std::string field = "linux.resources.unified[\"" + key + "\"]";
    // A key names a file in the container's cgroup directory, nothing else.
    if (key.empty() || key.front() == '.' || key.find('.') == std::string::npos ||
        key.find('/') != std::string::npos) {
      return FieldError(field, "not a cgroup file name");
    }
    BH_TRY(CheckNoNul(field, key));
    BH_TRY(CheckNoNul(field, value));
  }
  return Ok();
}

}  // namespace

Status ValidateResources(const Resources& r) {
  BH_TRY(ValidateDeviceRules(r.devices));
  if (r.memory) BH_TRY(ValidateMemory(*r.memory));
  if (r.cpu) BH_TRY(ValidateCpu(*r.cpu));
  if (r.pids_limit && *r.pids_limit < -1) {
    return FieldError("linux.resources.pids.limit", "must be -1 (unlimited) or a count");
  }
  if (r.block_io) BH_TRY(ValidateBlockIo(*r.block_io));
  std::set<std::string> sizes;
  for (size_t i = 0; i < r.hugepage_limits.size(); ++i) {
    const std::string& size = r.hugepage_limits[i].page_size;
    const std::string field = Indexed("linux.resources.hugepageLimits", i) + ".pageSize";
    if (!WellFormedPageSize(size)) return FieldError(field, "malformed page size \"" + size + "\"");
    if (!sizes.insert(size).second)
      return FieldError(field, "duplicate page size \"" + size + "\"");
  }
  return ValidateUnified(r.unified);
}

Status ValidateSeccomp(const Seccomp& s) {
  const std::string base = "linux.seccomp.";
  if (!Contains(SeccompActionNames(), s.default_action)) {
    return FieldError(base + "defaultAction", "unknown action \"" + s.default_action + "\"");
  }
  if (s.default_action == "SCMP_ACT_NOTIFY") {
    return FieldError(base + "defaultAction", "SCMP_ACT_NOTIFY cannot be the default");
  }
  auto takes_errno = [](const std::string& action) {
    return action == "SCMP_ACT_ERRNO" || action == "SCMP_ACT_TRACE";
  };
  if (s.default_errno_ret && !takes_errno(s.default_action)) {
    return FieldError(base + "defaultErrnoRet", "only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE");
  }
  for (size_t i = 0; i < s.architectures.size(); ++i) {
    if (!Contains(SeccompArchNames(), s.architectures[i])) {
      return FieldError(Indexed(base + "architectures", i),
                        "unknown architecture \"" + s.architectures[i] + "\"");
    }
  }
  for (size_t i = 0; i < s.flags.size(); ++i) {
    if (!Contains(SeccompFlagNames(), s.flags[i])) {
      return FieldError(Indexed(base + "flags", i), "unknown flag \"" + s.flags[i] + "\"");
    }
  }
  if (!s.listener_path.empty()) BH_TRY(CheckAbsolutePath(base + "listenerPath", s.listener_path));
  for (size_t i = 0; i < s.syscalls.size(); ++i) {
    const SeccompSyscall& sc = s.syscalls[i];
    const std::string field = Indexed(base + "syscalls", i);
    if (sc.names.empty()) return FieldError(field + ".names", "required and must not be empty");
    for (size_t j = 0; j < sc.names.size(); ++j) {
      const std::string& n = sc.names[j];
      if (n.empty() ||
          n.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos) {
        return FieldError(Indexed(field + ".names", j), "malformed syscall name \"" + n + "\"");
      }
    }
    if (!Contains(SeccompActionNames(), sc.action)) {
      return FieldError(field + ".action", "unknown action \"" + sc.action + "\"");
    }
    if (sc.action == "SCMP_ACT_NOTIFY" && s.listener_path.empty()) {
      return FieldError(field + ".action", "SCMP_ACT_NOTIFY requires linux.seccomp.listenerPath");
    }
    if (sc.errno_ret && !takes_errno(sc.action)) {
      return FieldError(field + ".errnoRet", "only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE");
    }
    if (sc.args.size() > 6) return FieldError(field + ".args", "more than 6 arguments");
    for (size_t j = 0; j < sc.args.size(); ++j) {
      const SeccompArg& a = sc.args[j];
      const std::string arg = Indexed(field + ".args", j);
      if (a.index > 5) return FieldError(arg + ".index", "must be within [0, 5]");
      if (!Contains(SeccompOperatorNames(), a.op)) {
        return FieldError(arg + ".op", "unknown operator \"" + a.op + "\"");
      }
    }
  }
  return Ok();
}

}  // namespace bulkhead::oci::internal

namespace bulkhead::oci {

Status ValidateResources(const Resources& resources) {
  return internal::ValidateResources(resources);
}

}  // namespace bulkhead::oci
