// Reading and writing single cgroup files. Internal to the cgroup code.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace bulkhead::jail {

// Writes value with one write(2), as cgroup files want. Errors read
// "<field>: writing <dir>/<file>: <errno>", with a hint when the file is missing.
Status WriteKnob(const std::string& dir, std::string_view file, std::string_view value,
                 std::string_view field);
// The file's contents without the trailing newline.
Result<std::string> ReadKnob(const std::string& dir, std::string_view file);
bool KnobExists(const std::string& dir, std::string_view file);
// A decimal number; "max" reads as UINT64_MAX.
Result<uint64_t> ParseKnobU64(std::string_view text);
// "key value" lines (memory.stat, cpu.stat, memory.events): the value of key, or 0.
uint64_t KeyedValue(std::string_view text, std::string_view key);
// The pids in dir/cgroup.procs and in every cgroup below dir; ENOENT for a missing dir.
Status CollectPids(const std::string& dir, std::vector<pid_t>* out);

}  // namespace bulkhead::jail
