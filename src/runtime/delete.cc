// `delete`: remove everything create made; running containers need --force.
#include "jail/cgroup.h"
#include "runtime/hooks.h"
#include "runtime/stop.h"
#include "runtime/verbs.h"

namespace bulkhead::runtime {

namespace {

Status DestroyCgroup(const ContainerState& state) {
  if (!state.cgroups_enabled) return Ok();
  BH_ASSIGN(jail::CgroupMounts mounts, jail::DetectCgroups());
  BH_ASSIGN(jail::Cgroup cg, jail::Cgroup::Open(mounts, state.cgroups_path, state.id));
  return cg.Destroy();
}

}  // namespace

Status Delete(const GlobalOptions& g, const std::string& id, bool force) {
  StateStore store(g.root);
  BH_ASSIGN(UniqueFd lock, store.Lock(id));
  Result<ContainerState> loaded = store.Load(id);
  if (!loaded.ok()) {
    // A directory without state is what an interrupted create leaves: clear it.
    (void)store.Remove(id);
    if (force) return Ok();
    return std::move(loaded).error();
  }
  const ContainerState& state = *loaded;
  ContainerStatus status = store.StatusOf(state);
  if ((status == ContainerStatus::kRunning || status == ContainerStatus::kPaused) && !force) {
    return Error("cannot delete container \"" + id + "\" that is not stopped: " +
                     StatusName(status) + " (use --force)",
                 EBUSY);
  }
  // A stopped VM container may still have the monitor's VM process if the monitor alone
  // was killed: stopping it again is harmless.
  if (status != ContainerStatus::kStopped || state.vm) BH_TRY(StopContainer(state));
  BH_TRY(DestroyCgroup(state).Context("deleting \"" + id + "\""));
  Status removed = store.Remove(id);
  // runtime-spec: poststop runs once the container is deleted, before delete returns.
  RunPoststopHooks(state.hooks.poststop, id, state.bundle, state.annotations);
  return removed;
}

}  // namespace bulkhead::runtime
