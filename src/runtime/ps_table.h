// Picking a container's rows out of the host's `ps` output, as runc's `ps` does.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace bulkhead::runtime {

// Keeps the header line and the rows whose PID column holds one of pids (sorted). Fails
// when the header has no PID column (ps arguments that leave it out).
Result<std::string> FilterPsTable(std::string_view ps_output, const std::vector<pid_t>& pids);

}  // namespace bulkhead::runtime
