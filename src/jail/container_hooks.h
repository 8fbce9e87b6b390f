// The lifecycle hooks the container's init takes part in (runtime-spec config.md,
// "POSIX-platform Hooks"; the steps of runtime.md "Lifecycle"):
//  - before pivot_root the init stops and asks the runtime to run prestart and
//    createRuntime in the runtime namespace (SyncKind::kHooks); the runtime answers kGo
//    with the container's state in a memfd, or kills the init when a hook failed;
//  - the init then runs createContainer itself: in the container's namespaces, with the
//    old root still in place, so the hook's path resolves in the runtime namespace;
//  - after `start` released it and before the workload's execve, it runs startContainer,
//    whose path resolves inside the container.
#pragma once

#include <string>

#include "base/result.h"
#include "oci/config.h"

namespace bulkhead::jail {

// Whether the init stops before pivot_root: any of prestart, createRuntime,
// createContainer or startContainer (which needs the state that stop brings).
bool StopsForHooks(const oci::Config& config);

// Init side, before pivot_root. Returns the container's state (status "creating") for
// the hooks still to come. createContainer runs in the rootfs directory, as runc has it.
Result<std::string> RunCreateHooks(const oci::Config& config, const std::string& rootfs,
                                   int sync);

// Init side, once `start` released it: startContainer, with the state's status "created".
Status RunStartContainerHooks(const oci::Config& config, const std::string& state_json);

// Init side: tells `start`, which reads the exec fifo until the workload's execve closes
// it, why the workload will not run (one write, 2 to PIPE_BUF bytes); then exits.
[[noreturn]] void FailStart(int exec_fifo, const Error& e);

// Runtime side: the answer to kHooks, carrying the state the init's hooks see.
Status SendHookState(int sync, const std::string& state_json);

}  // namespace bulkhead::jail
