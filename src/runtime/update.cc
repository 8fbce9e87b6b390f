// `update`: change the resource limits of a running, created or paused container, from
// runc's flags or from a linux.resources document (--resources FILE, or - for stdin).
// Device rules are never touched, as in runc.
#include <unistd.h>

#include "base/fs.h"
#include "base/log.h"
#include "jail/cgroup.h"
#include "oci/parse.h"
#include "oci/validate.h"
#include "runtime/container_cgroup.h"
#include "runtime/verbs.h"
#include "runtime/vm.h"

namespace bulkhead::runtime {

namespace {

// The same limit the config parser puts on a document.
constexpr size_t kMaxResourcesBytes = 16u << 20;

Result<oci::Resources> ReadResources(const std::string& source) {
  Result<std::string> text = source == "-" ? ReadFd(STDIN_FILENO, kMaxResourcesBytes)
                                           : ReadFile(source, kMaxResourcesBytes);
  const std::string where = source == "-" ? "--resources - (stdin)" : "--resources " + source;
  if (!text.ok()) return std::move(text).error().Context(where);
  return oci::ParseResourcesDocument(*text).Context(where);
}

// Everything the caller asked for, read and checked before anything is written.
Result<oci::Resources> WantedResources(const UpdateFlags& flags) {
  if (!flags.resources.empty()) {
    if (flags.AnyFlag()) {
      return Error("--resources cannot be combined with the individual limit flags", EINVAL);
    }
    return ReadResources(flags.resources);
  }
  if (!flags.AnyFlag()) {
    return Error("nothing to update: give --resources FILE or a limit flag such as --memory",
                 EINVAL);
  }
  std::vector<std::string> warnings;
  BH_ASSIGN(oci::Resources r, ResourcesFromFlags(flags, &warnings));
  for (const std::string& w : warnings) LogWarning(w);
  return r;
}

}  // namespace

Status Update(const GlobalOptions& g, const std::string& id, const UpdateFlags& flags) {
  StateStore store(g.root);
  BH_ASSIGN(UniqueFd lock, store.Lock(id));
  BH_ASSIGN(ContainerState state, store.Load(id));
  BH_TRY(RefuseVm(state, "update"));
  BH_ASSIGN(jail::Cgroup cg, ContainerCgroup(state, "update"));
  BH_ASSIGN(oci::Resources r, WantedResources(flags));
  BH_TRY(oci::ValidateResources(r));
  if (!r.devices.empty()) LogWarning("update: linux.resources.devices is ignored, as runc does");
  ContainerStatus status = store.StatusOf(state);
  if (status == ContainerStatus::kStopped) {
    return Error("cannot update container \"" + id + "\": it is stopped", EINVAL);
  }
  return cg.ApplyLimits(r).Context("updating container \"" + id + "\"");
}

}  // namespace bulkhead::runtime
