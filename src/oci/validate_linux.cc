// linux.* checks: namespaces and what depends on them (id mappings, time offsets,
// hostname, sysctls), devices and paths.
#include <algorithm>
#include <set>

#include "oci/names.h"
#include "oci/validate.h"
#include "oci/validate_internal.h"

namespace bulkhead::oci::internal {

namespace {

constexpr size_t kMaxIdMappings = 340;    // the kernel's limit per map file
constexpr size_t kMaxHostnameBytes = 64;  // HOST_NAME_MAX and the uts field size

bool NewNamespace(const Linux& linux, const char* type) {
  const Namespace* ns = FindNamespace(linux, type);
  return ns != nullptr && ns->path.empty();
}

Status ValidateNamespaces(const Linux& linux) {
  std::set<std::string> seen;
  for (size_t i = 0; i < linux.namespaces.size(); ++i) {
    const Namespace& ns = linux.namespaces[i];
    const std::string field = Indexed("linux.namespaces", i);
    if (!Contains(NamespaceTypes(), ns.type)) {
      return FieldError(field + ".type", "unknown namespace type \"" + ns.type + "\"");
    }
    if (!seen.insert(ns.type).second) {
      return FieldError(field + ".type", "duplicate namespace type \"" + ns.type + "\"");
    }
    if (!ns.path.empty()) BH_TRY(CheckAbsolutePath(field + ".path", ns.path));
  }
  return Ok();
}

// Each range must fit in 32 bits, and ranges must not overlap on either side (the
// kernel refuses overlapping maps).
Status ValidateIdMap(std::string_view field, const std::vector<IdMapping>& maps) {
  if (maps.size() > kMaxIdMappings) return FieldError(field, "more than 340 entries");
  using Range = std::pair<uint64_t, uint64_t>;  // [first, end)
  std::vector<Range> inside, outside;
  for (size_t i = 0; i < maps.size(); ++i) {
    const IdMapping& m = maps[i];
    if (m.size == 0) return FieldError(Indexed(field, i) + ".size", "must be positive");
    const uint64_t in_end = uint64_t{m.container_id} + m.size;
    const uint64_t out_end = uint64_t{m.host_id} + m.size;
    if (in_end > (uint64_t{1} << 32) || out_end > (uint64_t{1} << 32)) {
      return FieldError(Indexed(field, i), "range exceeds 32-bit ids");
    }
    inside.emplace_back(m.container_id, in_end);
    outside.emplace_back(m.host_id, out_end);
  }
  for (std::vector<Range>* ranges : {&inside, &outside}) {
    std::sort(ranges->begin(), ranges->end());
    for (size_t i = 1; i < ranges->size(); ++i) {
      if ((*ranges)[i].first < (*ranges)[i - 1].second) {
        return FieldError(field, "ranges overlap");
      }
    }
  }
  return Ok();
}

Status ValidateUserNamespace(const Linux& linux) {
  if (NewNamespace(linux, "user")) {
    if (linux.uid_mappings.empty()) {
      return FieldError("linux.uidMappings", "required when a new user namespace is created");
    }
    if (linux.gid_mappings.empty()) {
      return FieldError("linux.gidMappings", "required when a new user namespace is created");
    }
  } else {
    if (!linux.uid_mappings.empty()) {
      return FieldError("linux.uidMappings", "given without a new user namespace");
    }
    if (!linux.gid_mappings.empty()) {
      return FieldError("linux.gidMappings", "given without a new user namespace");
    }
  }
  BH_TRY(ValidateIdMap("linux.uidMappings", linux.uid_mappings));
  return ValidateIdMap("linux.gidMappings", linux.gid_mappings);
}

Status ValidateTimeOffsets(const Linux& linux) {
  if (linux.time_offsets_secs.empty() && linux.time_offsets_nanosecs.empty()) return Ok();
  if (!NewNamespace(linux, "time")) {
    return FieldError("linux.timeOffsets", "requires a new time namespace");
  }
  auto check_clock = [](const std::string& clock) -> Status {
    if (clock == "monotonic" || clock == "boottime") return Ok();
    return FieldError("linux.timeOffsets." + clock,
                      "unknown clock (expected monotonic or boottime)");
  };
  for (const auto& [clock, secs] : linux.time_offsets_secs) {
    Status st = check_clock(clock);
    if (!st.ok()) return st;
  }
  for (const auto& [clock, nanosecs] : linux.time_offsets_nanosecs) {
    Status st = check_clock(clock);
    if (!st.ok()) return st;
    if (nanosecs >= 1000000000u) {
      return FieldError("linux.timeOffsets." + clock + ".nanosecs", "must be below 1e9");
    }
  }
  return Ok();
}

Status ValidateNames(const Config& c) {
  if (!c.hostname.empty()) {
    if (!NewNamespace(c.linux, "uts")) {
      return FieldError("hostname", "requires a new uts namespace");
    }
    if (c.hostname.size() > kMaxHostnameBytes)
      return FieldError("hostname", "longer than 64 bytes");
    BH_TRY(CheckNoNul("hostname", c.hostname));
  }
  if (!c.domainname.empty()) {
    if (!NewNamespace(c.linux, "uts")) {
      return FieldError("domainname", "requires a new uts namespace");
    }
    if (c.domainname.size() > kMaxHostnameBytes) {
      return FieldError("domainname", "longer than 64 bytes");
    }
    BH_TRY(CheckNoNul("domainname", c.domainname));
  }
  return Ok();
}

// A sysctl name becomes a path under /proc/sys: every component must be a plain name.
// '/' may separate components too (then '.' is literal, as in "eth0.100").
bool WellFormedSysctlName(const std::string& name) {
  if (name.empty()) return false;
  size_t start = 0;
  for (size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '.' || name[i] == '/') {
      if (i == start) return false;  // empty component, or "." / ".."
      start = i + 1;
      continue;
    }
    const char ch = name[i];
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '@' || ch == ':';
    if (!ok) return false;
  }
  return true;
}

// runc's rules: a sysctl may be set only where a namespace of the container's own
// confines it; anything else would change the host.
Status ValidateSysctl(const Config& c) {
  static const std::set<std::string> kIpc = {
      "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
      "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};
  for (const auto& [name, value] : c.linux.sysctl) {
    const std::string field = "linux.sysctl[\"" + name + "\"]";
    if (!WellFormedSysctlName(name)) return FieldError(field, "malformed sysctl name");
    BH_TRY(CheckNoNul(field, value));
    std::string dotted = name;
    std::replace(dotted.begin(), dotted.end(), '/', '.');
    if (kIpc.count(dotted) != 0 || dotted.starts_with("fs.mqueue.")) {
      if (!NewNamespace(c.linux, "ipc")) return FieldError(field, "requires a new ipc namespace");
    } else if (dotted.starts_with("net.")) {
      if (!NewNamespace(c.linux, "network")) {
        return FieldError(field, "requires a new network namespace");
      }
    } else if (dotted == "kernel.hostname" || dotted == "kernel.domainname") {
      if (!NewNamespace(c.linux, "uts")) return FieldError(field, "requires a new uts namespace");
      const bool host = dotted == "kernel.hostname";
      if (host ? !c.hostname.empty() : !c.domainname.empty()) {
        return FieldError(field,
                          host ? "conflicts with \"hostname\"" : "conflicts with \"domainname\"");
      }
    } else {
      return FieldError(field, "not confined by a namespace of the container");
    }
  }
  return Ok();
}

Status ValidateDevices(const std::vector<Device>& devices) {
  std::set<std::string> seen;
  for (size_t i = 0; i < devices.size(); ++i) {
    const Device& d = devices[i];
    const std::string field = Indexed("linux.devices", i);
    BH_TRY(CheckAbsolutePath(field + ".path", d.path));
    if (!seen.insert(d.path).second) {
      return FieldError(field + ".path", "duplicate device \"" + d.path + "\"");
    }
    if (d.type != "c" && d.type != "b" && d.type != "u" && d.type != "p") {
      return FieldError(field + ".type", "must be one of c, b, u, p; got \"" + d.type + "\"");
    }
    // Linux device numbers: 12-bit major, 20-bit minor.
    if (d.type != "p" && (d.major < 0 || d.major > 0xfff)) {
      return FieldError(field + ".major", "out of range");
    }
    if (d.type != "p" && (d.minor < 0 || d.minor > 0xfffff)) {
      return FieldError(field + ".minor", "out of range");
    }
    if (d.file_mode && *d.file_mode > 07777) {
      return FieldError(field + ".fileMode", "has bits beyond 07777");
    }
  }
  return Ok();
}

Status ValidatePaths(std::string_view field, const std::vector<std::string>& paths) {
  for (size_t i = 0; i < paths.size(); ++i) BH_TRY(CheckAbsolutePath(Indexed(field, i), paths[i]));
  return Ok();
}

Status ValidateCgroupsPath(const std::string& path) {
  BH_TRY(CheckNoNul("linux.cgroupsPath", path));
  // No ".." component: the path must stay inside the cgroup hierarchy.
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (path.compare(start, end - start, "..") == 0) {
      return FieldError("linux.cgroupsPath", "must not contain \"..\"");
    }
    start = end + 1;
  }
  return Ok();
}

}  // namespace

Status ValidateLinux(const Config& c) {
  const Linux& linux = c.linux;
  BH_TRY(ValidateNamespaces(linux));
  BH_TRY(ValidateUserNamespace(linux));
  BH_TRY(ValidateTimeOffsets(linux));
  BH_TRY(ValidateNames(c));
  BH_TRY(ValidateSysctl(c));
  BH_TRY(ValidateDevices(linux.devices));
  BH_TRY(ValidateCgroupsPath(linux.cgroups_path));
  static const std::vector<std::string> kPropagation = {
      "shared", "slave", "private", "unbindable", "rshared", "rslave", "rprivate", "runbindable"};
  if (!linux.rootfs_propagation.empty() && !Contains(kPropagation, linux.rootfs_propagation)) {
    return FieldError("linux.rootfsPropagation",
                      "unknown propagation \"" + linux.rootfs_propagation + "\"");
  }
  BH_TRY(ValidatePaths("linux.maskedPaths", linux.masked_paths));
  BH_TRY(ValidatePaths("linux.readonlyPaths", linux.readonly_paths));
  if (linux.resources) BH_TRY(internal::ValidateResources(*linux.resources));
  if (linux.seccomp) BH_TRY(ValidateSeccomp(*linux.seccomp));
  return Ok();
}

}  // namespace bulkhead::oci::internal
