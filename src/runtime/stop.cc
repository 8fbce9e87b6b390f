#include "runtime/stop.h"

#include <signal.h>

#include "jail/cgroup.h"
#include "runtime/process.h"
#include "runtime/vm.h"

namespace bulkhead::runtime {

namespace {

constexpr int kExitWaitMs = 10000;

}  // namespace

Status StopContainer(const ContainerState& state) {
  if (state.vm) return StopVm(state);
  if (state.cgroups_enabled) {
    BH_ASSIGN(jail::CgroupMounts mounts, jail::DetectCgroups());
    Result<jail::Cgroup> cg = jail::Cgroup::Open(mounts, state.cgroups_path, state.id);
    if (cg.ok()) (void)cg->KillAll(SIGKILL);
  }
  Status s = SignalInit(state, SIGKILL);
  if (!s.ok() && s.error().errno_value() != ESRCH) return s;
  return WaitInitGone(state, kExitWaitMs);
}

}  // namespace bulkhead::runtime
