// The monitor's seccomp allow-lists, one per thread role. Every rule names the
// system call, restricts its arguments where the monitor uses only some values
// (ioctl request numbers, futex operations, no executable mappings) and says
// why the monitor needs it. Anything else kills the whole process.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "oci/config.h"
#include "seccomp/compile.h"

namespace bulkhead::vmm {

enum class ThreadRole { kEventLoop, kVcpu };

struct SyscallRule {
  const char* name;
  const char* reason;
  std::vector<oci::SeccompArg> args;  // all must hold (one rule per allowed value)
};

const char* RoleName(ThreadRole role);
std::span<const SyscallRule> RulesFor(ThreadRole role);
// What the event loop needs on top of its rules when the VM has writable volumes to write
// back (agent mode, --writeback); without them it never has these.
std::span<const SyscallRule> WritebackRules();

// The role's rules as a profile: default kill-process, x86_64 only. `writeback` adds
// WritebackRules to the event loop's.
oci::Seccomp PolicyFor(ThreadRole role, bool writeback = false);
// Compiled for installation on one thread (no TSYNC).
Result<seccomp::Program> CompilePolicy(ThreadRole role, bool writeback = false);

// A markdown table per role, and one of the write-back additions: syscall, argument
// restriction, reason.
std::string DescribePolicies();

}  // namespace bulkhead::vmm
