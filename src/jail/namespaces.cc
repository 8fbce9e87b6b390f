#include "jail/namespaces.h"

#include <fcntl.h>
#include <sched.h>

#include "base/fs.h"

namespace bulkhead::jail {

uint64_t CloneFlagOf(const std::string& type) {
  if (type == "pid") return CLONE_NEWPID;
  if (type == "network") return CLONE_NEWNET;
  if (type == "mount") return CLONE_NEWNS;
  if (type == "ipc") return CLONE_NEWIPC;
  if (type == "uts") return CLONE_NEWUTS;
  if (type == "user") return CLONE_NEWUSER;
  if (type == "cgroup") return CLONE_NEWCGROUP;
  if (type == "time") return CLONE_NEWTIME;
  return 0;
}

Result<NamespacePlan> PlanNamespaces(const oci::Linux& linux) {
  NamespacePlan plan;
  std::vector<NamespacePlan::Join> others;
  for (size_t i = 0; i < linux.namespaces.size(); ++i) {
    const oci::Namespace& ns = linux.namespaces[i];
    std::string field = "linux.namespaces[" + std::to_string(i) + "]";
    uint64_t flag = CloneFlagOf(ns.type);
    if (flag == 0) return Error(field + ": unknown namespace type \"" + ns.type + "\"");
    if (ns.path.empty()) {
      plan.clone_flags |= flag;
    } else {
      BH_ASSIGN(UniqueFd fd, OpenFile(ns.path, O_RDONLY).Context(field + " (" + ns.type + ")"));
      NamespacePlan::Join join{ns.type, flag, std::move(fd)};
      // The user namespace is joined first so the others are entered with its privileges.
      if (flag == CLONE_NEWUSER) {
        plan.joins.insert(plan.joins.begin(), std::move(join));
      } else {
        others.push_back(std::move(join));
      }
    }
    if (flag == CLONE_NEWUSER) plan.in_user = true;
  }
  for (auto& j : others) plan.joins.push_back(std::move(j));
  plan.new_user = (plan.clone_flags & CLONE_NEWUSER) != 0;
  plan.new_mount = (plan.clone_flags & CLONE_NEWNS) != 0;
  plan.new_uts = (plan.clone_flags & CLONE_NEWUTS) != 0;
  return plan;
}

Status JoinNamespaces(const NamespacePlan& plan) {
  for (const auto& join : plan.joins) {
    if (join.flag == CLONE_NEWPID) continue;
    if (setns(join.fd.get(), static_cast<int>(join.flag)) != 0) {
      return Error::FromErrno("joining the " + join.type + " namespace");
    }
  }
  return Ok();
}

Status JoinPidNamespaceForChildren(const NamespacePlan& plan) {
  for (const auto& join : plan.joins) {
    if (join.flag != CLONE_NEWPID) continue;
    if (setns(join.fd.get(), CLONE_NEWPID) != 0) {
      return Error::FromErrno("joining the pid namespace");
    }
  }
  return Ok();
}

std::string FormatIdMap(const std::vector<oci::IdMapping>& maps) {
  std::string out;
  for (const auto& m : maps) {
    out += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " +
           std::to_string(m.size) + "\n";
  }
  return out;
}

Status WriteIdMappings(pid_t pid, const oci::Linux& linux) {
  std::string proc = "/proc/" + std::to_string(pid);
  BH_TRY(WriteExisting(proc + "/uid_map", FormatIdMap(linux.uid_mappings))
             .Context("linux.uidMappings"));
  BH_TRY(WriteExisting(proc + "/gid_map", FormatIdMap(linux.gid_mappings))
             .Context("linux.gidMappings"));
  return Ok();
}

}  // namespace bulkhead::jail
