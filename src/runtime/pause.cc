// `pause` and `resume`: freeze and thaw every process of the container through its
// cgroup (v1 freezer.state, v2 cgroup.freeze). `state` then reports "paused". In the vm tier
// the cgroup holds the monitor: freezing it stops the vCPUs (and the monitor's event loop),
// so the guest stands still as a whole.
#include "jail/cgroup.h"
#include "runtime/container_cgroup.h"
#include "runtime/verbs.h"

namespace bulkhead::runtime {

Status Pause(const GlobalOptions& g, const std::string& id) {
  StateStore store(g.root);
  BH_ASSIGN(UniqueFd lock, store.Lock(id));
  BH_ASSIGN(ContainerState state, store.Load(id));
  BH_ASSIGN(jail::Cgroup cg, ContainerCgroup(state, "pause"));
  ContainerStatus status = store.StatusOf(state);
  // As runc: a created container can be paused too; a paused one cannot be paused again.
  if (status != ContainerStatus::kRunning && status != ContainerStatus::kCreated) {
    return Error("cannot pause container \"" + id + "\": it is " + StatusName(status) +
                     ", not running",
                 EINVAL);
  }
  return cg.Freeze().Context("pausing container \"" + id + "\"");
}

Status Resume(const GlobalOptions& g, const std::string& id) {
  StateStore store(g.root);
  BH_ASSIGN(UniqueFd lock, store.Lock(id));
  BH_ASSIGN(ContainerState state, store.Load(id));
  BH_ASSIGN(jail::Cgroup cg, ContainerCgroup(state, "resume"));
  ContainerStatus status = store.StatusOf(state);
  if (status != ContainerStatus::kPaused) {
    return Error("cannot resume container \"" + id + "\": it is " + StatusName(status) +
                     ", not paused",
                 EINVAL);
  }
  return cg.Thaw().Context("resuming container \"" + id + "\"");
}

}  // namespace bulkhead::runtime
