// `kill`: signal the container's init, or with --all every process in its cgroup.
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/unique_fd.h"
#include "jail/cgroup.h"
#include "runtime/process.h"
#include "runtime/verbs.h"

namespace bulkhead::runtime {

Status Kill(const GlobalOptions& g, const std::string& id, const std::string& signal, bool all) {
  StateStore store(g.root);
  BH_ASSIGN(int sig, ParseSignal(signal));
  BH_ASSIGN(ContainerState state, store.Load(id));
  if (store.StatusOf(state) == ContainerStatus::kStopped) {
    return Error("container \"" + id + "\" is not running", ESRCH);
  }
  if (all && state.cgroups_enabled) {
    BH_ASSIGN(jail::CgroupMounts mounts, jail::DetectCgroups());
    BH_ASSIGN(jail::Cgroup cg, jail::Cgroup::Open(mounts, state.cgroups_path, id));
    return cg.KillAll(sig).Context("signalling every process of \"" + id + "\"");
  }
  return SignalInit(state, sig);
}

}  // namespace bulkhead::runtime
