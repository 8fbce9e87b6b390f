// `kill`: signal the container's init, or with --all every process in its cgroup.
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/unique_fd.h"
#include "jail/cgroup.h"
#include "runtime/container_cgroup.h"
#include "runtime/process.h"
#include "runtime/verbs.h"
#include "runtime/vm.h"

namespace bulkhead::runtime {

Status Kill(const GlobalOptions& g, const std::string& id, const std::string& signal, bool all) {
  StateStore store(g.root);
  BH_ASSIGN(int sig, ParseSignal(signal));
  BH_ASSIGN(ContainerState state, store.Load(id));
  ContainerStatus status = store.StatusOf(state);
  if (status == ContainerStatus::kStopped) {
    return Error("container \"" + id + "\" is not running", ESRCH);
  }
  // The vm tier signals the guest's workload; --all means the same there.
  if (state.vm) return KillVm(store, state, sig, status);
  if (all && state.cgroups_enabled) {
    BH_ASSIGN(jail::Cgroup cg, ContainerCgroup(state, "kill --all"));
    return cg.KillAll(sig).Context("signalling every process of \"" + id + "\"");
  }
  BH_TRY(SignalInit(state, sig));
  // A frozen init cannot act on SIGKILL until thawed; runc thaws it so kill takes effect.
  if (sig == SIGKILL && status == ContainerStatus::kPaused) {
    BH_ASSIGN(jail::Cgroup cg, ContainerCgroup(state, "kill"));
    BH_TRY(cg.Thaw().Context("thawing \"" + id + "\" so SIGKILL takes effect"));
  }
  return Ok();
}

}  // namespace bulkhead::runtime
