// linux.resources -> cgroup files: block I/O, hugetlb, the unified map and devices.
#include <fcntl.h>

#include <map>

#include "base/syscall.h"
#include "base/unique_fd.h"
#include "jail/cgroup.h"
#include "jail/cgroup_knobs.h"
#include "jail/cgroup_util.h"
#include "jail/device_filter.h"

namespace bulkhead::jail {

namespace {

std::string Field(std::string_view name) { return "linux.resources." + std::string(name); }

std::string DevNum(const oci::BlockIoDevice& d) {
  return std::to_string(d.major) + ":" + std::to_string(d.minor);
}

// The first of the files that exists, else the first (so the error names it).
std::string FirstExisting(const std::string& dir, std::initializer_list<const char*> files) {
  for (const char* f : files) {
    if (KnobExists(dir, f)) return f;
  }
  return *files.begin();
}

Status BlockIoV1(const std::string& dir, const oci::BlockIoResources& io) {
  // CFQ's blkio.weight is gone from current kernels; BFQ offers the same knob.
  std::string weight_file = FirstExisting(dir, {"blkio.weight", "blkio.bfq.weight"});
  std::string weight_device_file =
      FirstExisting(dir, {"blkio.weight_device", "blkio.bfq.weight_device"});
  if (io.weight) {
    BH_TRY(WriteKnob(dir, weight_file, std::to_string(*io.weight), Field("blockIO.weight")));
  }
  if (io.leaf_weight) {
    BH_TRY(WriteKnob(dir, "blkio.leaf_weight", std::to_string(*io.leaf_weight),
                     Field("blockIO.leafWeight")));
  }
  for (const oci::BlockIoDevice& d : io.weight_device) {
    if (d.weight) {
      BH_TRY(WriteKnob(dir, weight_device_file, DevNum(d) + " " + std::to_string(*d.weight),
                       Field("blockIO.weightDevice")));
    }
    if (d.leaf_weight) {
      BH_TRY(WriteKnob(dir, "blkio.leaf_weight_device",
                       DevNum(d) + " " + std::to_string(*d.leaf_weight),
                       Field("blockIO.weightDevice")));
    }
  }
  const std::pair<const std::vector<oci::BlockIoDevice>*, const char*> throttles[] = {
      {&io.throttle_read_bps, "blkio.throttle.read_bps_device"},
      {&io.throttle_write_bps, "blkio.throttle.write_bps_device"},
      {&io.throttle_read_iops, "blkio.throttle.read_iops_device"},
      {&io.throttle_write_iops, "blkio.throttle.write_iops_device"},
  };
  for (const auto& [list, file] : throttles) {
    for (const oci::BlockIoDevice& d : *list) {
      // A rate of 0 removes the device's limit.
      BH_TRY(WriteKnob(dir, file, DevNum(d) + " " + std::to_string(d.rate),
                       Field("blockIO.") + file));
    }
  }
  return Ok();
}

Status BlockIoV2(const std::string& dir, const oci::BlockIoResources& io) {
  // io.bfq.weight takes blkio's 10..1000 scale as is; io.weight has its own 1..10000.
  bool bfq = KnobExists(dir, "io.bfq.weight");
  auto weight = [&](uint64_t w) { return std::to_string(bfq ? w : BlkioWeightToIoWeight(w)); };
  const char* weight_file = bfq ? "io.bfq.weight" : "io.weight";
  if (io.weight) {
    BH_TRY(WriteKnob(dir, weight_file, "default " + weight(*io.weight), Field("blockIO.weight")));
  }
  for (const oci::BlockIoDevice& d : io.weight_device) {
    if (d.weight) {
      BH_TRY(WriteKnob(dir, weight_file, DevNum(d) + " " + weight(*d.weight),
                       Field("blockIO.weightDevice")));
    }
  }
  // leafWeight has no v2 counterpart and is not applied.
  std::map<std::string, std::string> max;  // "maj:min" -> "rbps=.. wbps=.."
  const std::pair<const std::vector<oci::BlockIoDevice>*, const char*> throttles[] = {
      {&io.throttle_read_bps, "rbps"},
      {&io.throttle_write_bps, "wbps"},
      {&io.throttle_read_iops, "riops"},
      {&io.throttle_write_iops, "wiops"},
  };
  for (const auto& [list, key] : throttles) {
    for (const oci::BlockIoDevice& d : *list) {
      std::string& line = max[DevNum(d)];
      line += std::string(" ") + key + "=" + (d.rate == 0 ? "max" : std::to_string(d.rate));
    }
  }
  for (const auto& [dev, limits] : max) {
    BH_TRY(WriteKnob(dir, "io.max", dev + limits, Field("blockIO.throttle")));
  }
  return Ok();
}

// "2MB", "1GB", "64KB": digits then a unit, so it can only name a hugetlb file.
bool ValidPageSize(const std::string& s) {
  size_t digits = s.find_first_not_of("0123456789");
  if (digits == 0 || digits == std::string::npos) return false;
  std::string unit = s.substr(digits);
  return unit == "KB" || unit == "MB" || unit == "GB";
}

}  // namespace

Status Cgroup::ApplyBlockIo(const oci::BlockIoResources& io) {
  const Dir* d = DirFor("blkio");
  if (d == nullptr) d = DirFor("io");
  if (d == nullptr) {
    return Error(Field("blockIO") + ": no blkio/io controller is available for " + Describe(),
                 ENOTSUP);
  }
  return d->hierarchy.v2 ? BlockIoV2(d->path, io) : BlockIoV1(d->path, io);
}

Status Cgroup::ApplyHugepages(const std::vector<oci::HugepageLimit>& limits) {
  if (limits.empty()) return Ok();
  const Dir* d = DirFor("hugetlb");
  if (d == nullptr) {
    return Error(Field("hugepageLimits") + ": no hugetlb controller is available for " + Describe(),
                 ENOTSUP);
  }
  for (size_t i = 0; i < limits.size(); ++i) {
    const oci::HugepageLimit& l = limits[i];
    std::string field = Field("hugepageLimits[" + std::to_string(i) + "]");
    if (!ValidPageSize(l.page_size)) {
      return Error(field + ": page size \"" + l.page_size + "\" is not like 2MB or 1GB", EINVAL);
    }
    std::string base = "hugetlb." + l.page_size;
    std::string value = std::to_string(l.limit);
    const char* suffix = d->hierarchy.v2 ? ".max" : ".limit_in_bytes";
    BH_TRY(WriteKnob(d->path, base + suffix, value, field));
    // Reservations are limited separately where the kernel has them (5.7+); keep them
    // in step so a reservation cannot exceed the limit.
    std::string rsvd = base + ".rsvd" + suffix;
    if (KnobExists(d->path, rsvd)) BH_TRY(WriteKnob(d->path, rsvd, value, field));
  }
  return Ok();
}

Status Cgroup::ApplyUnified(const std::map<std::string, std::string>& unified) {
  if (unified.empty()) return Ok();
  const Dir* v2 = nullptr;
  for (const Dir& d : dirs_) {
    if (d.hierarchy.v2) v2 = &d;
  }
  if (v2 == nullptr) {
    return Error(Field("unified") + ": needs cgroup v2, and this host has only v1", ENOTSUP);
  }
  for (const auto& [key, value] : unified) {
    std::string field = Field("unified[\"" + key + "\"]");
    if (key.empty() || key == "." || key == ".." || key.find('/') != std::string::npos) {
      return Error(field + ": not a cgroup file name", EINVAL);
    }
    if (!KnobExists(v2->path, key)) {
      return Error(field + ": " + v2->path + "/" + key +
                       " does not exist (unknown file or controller not enabled)", ENOENT);
    }
    BH_TRY(WriteKnob(v2->path, key, value, field));
  }
  return Ok();
}

Status Cgroup::ApplyDevices(const std::vector<oci::DeviceRule>& config_rules) {
  const std::string field = Field("devices");
  for (size_t i = 0; i < config_rules.size(); ++i) {
    BH_TRY(ValidateDeviceRule(config_rules[i]).Context(field + "[" + std::to_string(i) + "]"));
  }
  std::vector<oci::DeviceRule> rules = EffectiveDeviceRules(config_rules);
  const Dir* d = DirFor("devices");
  // Running without device restrictions would be a silent hole: refuse instead.
  if (d == nullptr) {
    return Error(field + ": no devices controller is available for " + Describe(), ENOTSUP);
  }
  if (d->hierarchy.v2) {
    BH_ASSIGN(std::vector<bpf_insn> prog, CompileDeviceFilter(rules));
    int fd = RetryEintr(
        [&] { return ::open(d->path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
    if (fd < 0) return Error::FromErrno(field + ": opening " + d->path);
    UniqueFd dir(fd);
    return AttachDeviceFilter(dir.get(), prog).Context(field + ": " + d->path);
  }
  BH_TRY(WriteKnob(d->path, "devices.deny", "a", field));
  for (const oci::DeviceRule& r : rules) {
    BH_TRY(WriteKnob(d->path, r.allow ? "devices.allow" : "devices.deny", FormatV1DeviceRule(r),
                     field));
  }
  return Ok();
}

}  // namespace bulkhead::jail
