// The agent's control socket: a Unix stream socket the monitor listens on for host clients
// (the runtime's start, kill, exec, state). Made before the jail, which has no filesystem.
#pragma once

#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace bulkhead::vmm::agent {

// Binds and listens at `path`, mode 0600 (only the monitor's user may connect), non-blocking
// and close-on-exec. An existing path is refused, never replaced: it may be another VM's.
Result<UniqueFd> ListenUnix(const std::string& path);

}  // namespace bulkhead::vmm::agent
