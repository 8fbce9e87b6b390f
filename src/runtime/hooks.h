// The runtime's side of the lifecycle hooks (runtime-spec runtime.md "Lifecycle"): the
// state each kind is given, which verb runs which kind, and what a failure does. The
// init's side is jail/container_hooks.h; running one hook is oci/hooks.h.
//
//   kind             run by, where                           status    failure
//   prestart         create, runtime ns, before pivot_root   creating  create fails
//   createRuntime    create, runtime ns, before pivot_root   creating  create fails
//   createContainer  the init, container ns, before pivot    creating  create fails
//   startContainer   the init, container ns, before execve   created   start fails, stops it
//   poststart        start, runtime ns, after execve         running   start fails, stops it
//   poststop         delete (or a failed create), runtime ns stopped   logged, the rest run
#pragma once

#include <sys/types.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "base/result.h"
#include "oci/config.h"
#include "runtime/state_store.h"

namespace bulkhead::runtime {

// The runtime-spec state a hook reads on stdin.
std::string HookState(const std::string& id, const std::string& bundle,
                      const std::map<std::string, std::string>& annotations,
                      std::string_view status, pid_t pid);

// create: prestart, then createRuntime, in the bundle directory.
Status RunCreateRuntimeHooks(const oci::Hooks& hooks, const std::string& bundle,
                             const std::string& state_json);

// start, once the workload runs: poststart ("running"), in the bundle directory.
Status RunPoststartHooks(const ContainerState& s);

// delete, and a create that failed: every poststop hook ("stopped", pid 0), in the bundle
// directory when it still exists. Failures are logged as warnings; the rest still run.
void RunPoststopHooks(const std::vector<oci::Hook>& poststop, const std::string& id,
                      const std::string& bundle,
                      const std::map<std::string, std::string>& annotations);

// The hooks later verbs need (startContainer, poststart, poststop), as state.json keeps
// them: the config's field names; kinds without hooks are left out.
nlohmann::json HooksToJson(const oci::Hooks& hooks);
// The reverse; entries that are not well formed are skipped.
oci::Hooks HooksFromJson(const nlohmann::json& j);

}  // namespace bulkhead::runtime
