// A container's cgroup as the verbs after create see it: pause/resume, update, events,
// ps, and the "paused" status.
#pragma once

#include <string_view>

#include "base/result.h"
#include "jail/cgroup.h"
#include "runtime/state_store.h"

namespace bulkhead::runtime {

// The cgroup create made for the container. A container created with
// --cgroup-manager=disabled has none: the error names the verb that needed it.
Result<jail::Cgroup> ContainerCgroup(const ContainerState& state, std::string_view verb);

// True when the container's freezer reports it frozen. A cgroup that cannot be read
// counts as not frozen: asking for the status must not fail because of it.
bool ContainerFrozen(const ContainerState& state);

}  // namespace bulkhead::runtime
