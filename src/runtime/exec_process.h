// The process an `exec` runs: the container's own process as the base (so it keeps the
// container's capabilities, rlimits and no_new_privs), or a process.json; then the
// command-line overrides, as runc applies them.
#pragma once

#include <string>

#include "base/result.h"
#include "oci/config.h"
#include "runtime/options.h"

namespace bulkhead::runtime {

// base: the container's process. process_json: the text of --process ("" when absent).
// The result is checked: args present, cwd absolute, capabilities known.
Result<oci::Process> BuildExecProcess(const oci::Process& base, const std::string& process_json,
                                      const ExecOptions& o);

}  // namespace bulkhead::runtime
