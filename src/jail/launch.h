// Parent side of starting a container's init: clone into the new namespaces, map ids,
// place the child in its cgroup, release it and wait until it is set up.
#pragma once

#include <sys/types.h>

#include <functional>

#include "jail/init_spec.h"

namespace bulkhead::jail {

struct LaunchHooks {
  // Runs once the child exists and before it is released (e.g. cgroup placement).
  std::function<Status(pid_t)> on_child;
  // Receives the seccomp notify listener, if the profile has one.
  std::function<Status(UniqueFd)> on_seccomp_fd;
  // Runs while the init waits before pivot_root with its namespaces and mounts made (the
  // prestart and createRuntime hooks); returns the state the init's own hooks are given.
  // An error fails the launch. Needed when the config has hooks (jail/container_hooks.h).
  std::function<Result<std::string>(pid_t)> on_create_runtime;
};

struct Launched {
  pid_t pid = 0;
  UniqueFd pidfd;
};

// Returns when the init reported ready (it then waits for `start`). On any failure the
// child is killed and reaped before the error returns.
Result<Launched> LaunchInit(InitSpec& spec, const LaunchHooks& hooks);

// Writes the time namespace offsets for children of the calling process
// (unshare(CLONE_NEWTIME) first). Used before LaunchInit when the config creates one.
Status PrepareTimeNamespace(const oci::Linux& linux);

}  // namespace bulkhead::jail
