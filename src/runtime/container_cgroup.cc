#include "runtime/container_cgroup.h"

namespace bulkhead::runtime {

Result<jail::Cgroup> ContainerCgroup(const ContainerState& state, std::string_view verb) {
  if (!state.cgroups_enabled) {
    return Error(std::string(verb) + " \"" + state.id +
                     "\": the container was created without cgroups (--cgroup-manager=disabled)",
                 ENOTSUP);
  }
  BH_ASSIGN(jail::CgroupMounts mounts, jail::DetectCgroups());
  return jail::Cgroup::Open(mounts, state.cgroups_path, state.id);
}

bool ContainerFrozen(const ContainerState& state) {
  if (!state.cgroups_enabled) return false;
  Result<jail::Cgroup> cg = ContainerCgroup(state, "status");
  if (!cg.ok()) return false;
  Result<bool> frozen = cg->IsFrozen();
  return frozen.ok() && *frozen;
}

}  // namespace bulkhead::runtime
