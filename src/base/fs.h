// Small file helpers. Every fd is O_CLOEXEC.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "base/result.h"
#include "base/unique_fd.h"

namespace bulkhead {

Result<UniqueFd> OpenFile(const std::string& path, int flags, mode_t mode = 0);
// Reads a whole file, refusing anything larger than max_bytes.
Result<std::string> ReadFile(const std::string& path, size_t max_bytes = 64u << 20);
Result<std::string> ReadFd(int fd, size_t max_bytes);
Status WriteAll(int fd, std::string_view data);
// Writes to an existing file (e.g. /proc or cgroup knobs) without creating it.
Status WriteExisting(const std::string& path, std::string_view data);
// Writes via a temporary file and rename(2) so readers never see a partial file.
Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode = 0644);
Status MkdirAll(const std::string& path, mode_t mode = 0755);
// Removes a directory tree without following symlinks; missing is fine.
Status RemoveAll(const std::string& path);
bool PathExists(const std::string& path);
std::string JoinPath(std::string_view a, std::string_view b);

}  // namespace bulkhead
