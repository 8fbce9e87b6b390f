// Where the cgroup controllers live on this host: cgroup v1 (one mount per controller
// set), pure v2 (one cgroup2 mount), or hybrid (v1 controllers plus a cgroup2 mount that
// holds whatever controllers v1 does not, and tracks every process).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace bulkhead::jail {

enum class CgroupLayout { kV1, kV2, kHybrid };

// One mounted hierarchy.
struct CgroupHierarchy {
  bool v2 = false;
  std::string mount_point;  // "/sys/fs/cgroup/memory"
  // The cgroup the mount shows as its root ("/" unless a subtree was bind-mounted).
  std::string mount_root = "/";
  // v1: the controllers bound to this mount ("cpu", "cpuacct", "name=systemd").
  // v2: the controllers this runtime uses here; "freezer" and "devices" stand for the
  // core cgroup.freeze and the eBPF device filter, which need no controller.
  std::vector<std::string> controllers;
  // The caller's own cgroup in this hierarchy relative to the mount ("/" when at the
  // mount root); relative cgroupsPath values start from here.
  std::string self = "/";

  bool Has(std::string_view controller) const;
};

struct CgroupMounts {
  CgroupLayout layout = CgroupLayout::kV2;
  // The hierarchies a container joins: every v1 hierarchy with a known controller or
  // name=systemd, and the cgroup2 mount if there is one.
  std::vector<CgroupHierarchy> hierarchies;

  // The hierarchy that owns a controller ("memory", "freezer", ...); nullptr if none.
  const CgroupHierarchy* Find(std::string_view controller) const;
  // The cgroup2 hierarchy, or nullptr on a v1-only host.
  const CgroupHierarchy* Unified() const;
};

// Reads /proc/self/mountinfo, /proc/self/cgroup and the cgroup2 root's cgroup.controllers.
Result<CgroupMounts> DetectCgroups();

// The same from texts: mountinfo and self_cgroup as /proc/self/{mountinfo,cgroup} read,
// v2_controllers as the cgroup2 mount's cgroup.controllers (ignored without one).
Result<CgroupMounts> DetectCgroupsFrom(std::string_view mountinfo, std::string_view self_cgroup,
                                       std::string_view v2_controllers);

// The first cgroup2 mount point in a mountinfo text, or "" when none.
std::string FindCgroup2Mount(std::string_view mountinfo);

std::string_view LayoutName(CgroupLayout layout);

}  // namespace bulkhead::jail
