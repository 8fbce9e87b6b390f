// A classic-BPF interpreter with the kernel's seccomp rules, so policies can be tested on fake
// syscalls without loading them: compile, then ask what the filter answers for a given
// struct seccomp_data.
#pragma once

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <cstdint>
#include <vector>

#include "base/result.h"

namespace bulkhead::seccomp {

// Checks what the kernel checks before it accepts a seccomp program: 1..BPF_MAXINSNS
// instructions, only the opcodes seccomp allows, aligned in-bounds loads of seccomp_data,
// in-bounds forward jumps, no division by a zero constant, no shift by 32 or more, scratch
// memory written before it is read on every path, and a RET as the last instruction.
Status ValidateProgram(const std::vector<sock_filter>& prog);

// Runs the program on `data` and returns its SECCOMP_RET_* value (action | data). An invalid
// program (see ValidateProgram) yields SECCOMP_RET_KILL_PROCESS, the strictest answer.
uint32_t Emulate(const std::vector<sock_filter>& prog, const struct seccomp_data& data);

}  // namespace bulkhead::seccomp
