// Namespaces of a container: which to create (clone flags) and which to join (setns).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "oci/config.h"

namespace bulkhead::jail {

// CLONE_NEW* for a runtime-spec namespace type ("pid", "network", ...), or 0.
uint64_t CloneFlagOf(const std::string& type);

struct NamespacePlan {
  uint64_t clone_flags = 0;  // namespaces to create
  struct Join {
    std::string type;
    uint64_t flag = 0;
    UniqueFd fd;
  };
  std::vector<Join> joins;  // opened before clone, user namespace first
  bool new_user = false;
  bool in_user = false;  // new or joined user namespace
  bool new_mount = false;
  bool new_uts = false;
};

// Opens every namespace path now, so a bad path fails before anything is created.
Result<NamespacePlan> PlanNamespaces(const oci::Linux& linux);

// For `exec`: every namespace of a running container's init (`pid`) that differs from
// ours, opened from /proc/<pid>/ns, user namespace first. The caller checks afterwards
// that `pid` is still the container's init, so a recycled pid cannot slip in.
Result<NamespacePlan> PlanJoinProcess(pid_t pid);

// In the child: setns() into each joined namespace except pid (joined by the parent).
Status JoinNamespaces(const NamespacePlan& plan);

// In the parent before clone: a joined pid namespace applies to the children we create.
Status JoinPidNamespaceForChildren(const NamespacePlan& plan);

// Writes /proc/<pid>/{uid_map,gid_map} for a new user namespace.
Status WriteIdMappings(pid_t pid, const oci::Linux& linux);

// Formats mappings as the kernel's map file expects ("0 100000 65536\n").
std::string FormatIdMap(const std::vector<oci::IdMapping>& maps);

}  // namespace bulkhead::jail
