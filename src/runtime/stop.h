// Stopping a container for good, as `delete --force` does and as a failed startContainer
// or poststart hook requires (runtime-spec runtime.md "Lifecycle": "stop the container").
#pragma once

#include "base/result.h"
#include "runtime/state_store.h"

namespace bulkhead::runtime {

// SIGKILL to every process in the container's cgroup and to its init; returns once the
// init is gone (at most 10 s). A container already stopped is fine.
Status StopContainer(const ContainerState& state);

}  // namespace bulkhead::runtime
