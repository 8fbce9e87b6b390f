// SCMP_ACT_NOTIFY: the listener fd of a container process goes to the agent at
// linux.seccomp.listenerPath with the container's state, as the runtime-spec describes.
#pragma once

#include <sys/types.h>

#include <string>

#include "base/result.h"
#include "base/unique_fd.h"
#include "oci/config.h"

namespace bulkhead::runtime {

// status: the container's status as the agent should see it ("creating" for the init,
// "running" for an exec'd process).
Status SendSeccompListener(const oci::Config& config, const std::string& id,
                           const std::string& bundle, const std::string& status, pid_t pid,
                           UniqueFd fd);

}  // namespace bulkhead::runtime
