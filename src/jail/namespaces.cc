#include "jail/namespaces.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>

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

Result<NamespacePlan> PlanJoinProcess(pid_t pid) {
  struct Kind {
    const char* type;  // runtime-spec name
    const char* proc;  // name under /proc/<pid>/ns
    uint64_t flag;
  };
  // The user namespace first: the others are entered with its privileges.
  static constexpr Kind kKinds[] = {
      {"user", "user", CLONE_NEWUSER},   {"mount", "mnt", CLONE_NEWNS},
      {"network", "net", CLONE_NEWNET},  {"ipc", "ipc", CLONE_NEWIPC},
      {"uts", "uts", CLONE_NEWUTS},      {"cgroup", "cgroup", CLONE_NEWCGROUP},
      {"time", "time", CLONE_NEWTIME},   {"pid", "pid", CLONE_NEWPID},
  };
  NamespacePlan plan;
  std::string dir = "/proc/" + std::to_string(pid) + "/ns/";
  for (const Kind& k : kKinds) {
    struct stat theirs {}, ours {};
    std::string path = dir + k.proc;
    if (stat(path.c_str(), &theirs) != 0) {
      // A kernel without this namespace type: nothing to join.
      if (errno == ENOENT) continue;
      return Error::FromErrno("the container's " + std::string(k.type) + " namespace (" + path +
                              ")");
    }
    std::string self = std::string("/proc/self/ns/") + k.proc;
    if (stat(self.c_str(), &ours) == 0 && ours.st_ino == theirs.st_ino &&
        ours.st_dev == theirs.st_dev) {
      continue;  // shared with the host: already in it
    }
    BH_ASSIGN(UniqueFd fd, OpenFile(path, O_RDONLY).Context("the container's " +
                                                           std::string(k.type) + " namespace"));
    plan.joins.push_back({k.type, k.flag, std::move(fd)});
    if (k.flag == CLONE_NEWUSER) plan.in_user = true;
  }
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
