// Runs OCI lifecycle hooks (runtime-spec config.md, "POSIX-platform Hooks"): each hook is
// one program, started with its own argv and exactly its own environment, the container
// state on stdin, its output kept for the error message, and a deadline when it has one.
// Where and when each kind runs is the caller's business (runtime/hooks.h, jail/
// container_hooks.h); this file only knows how to run one.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "oci/config.h"

namespace bulkhead::oci {

// How much of a hook's stdout and of its stderr is kept (the tail) while it runs.
inline constexpr size_t kHookOutputMax = 64 * 1024;
// How much of each is quoted in an error message.
inline constexpr size_t kHookQuoteMax = 1024;

// Runs one hook to its end. argv is hook.args (hook.path alone when empty), the
// environment is hook.env and nothing else, stdin carries state_json, the working
// directory is cwd (ours when empty). With hook.timeout the hook's process group is
// killed (SIGKILL) once the deadline passes. The hook is always reaped. Errors do not
// name the hook (RunHooks does): "cannot execute: ...", "timed out after 5s",
// "exited with status 3, stderr: ...".
Status RunHook(const Hook& hook, const std::string& state_json, const std::string& cwd = "");

// "hooks.prestart[1] (/usr/bin/x)": how errors name a hook.
std::string HookName(std::string_view kind, size_t index, const Hook& hook);

// Runs hooks in order and stops at the first failure: "hooks.<kind>[i] (<path>): ...".
Status RunHooks(const std::vector<Hook>& hooks, std::string_view kind,
                const std::string& state_json, const std::string& cwd = "");

// Runs every hook, failing or not (poststop); returns the failures, each named.
std::vector<Error> RunAllHooks(const std::vector<Hook>& hooks, std::string_view kind,
                               const std::string& state_json, const std::string& cwd = "");

}  // namespace bulkhead::oci
