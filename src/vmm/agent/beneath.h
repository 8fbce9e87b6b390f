// File operations on a writable volume's host directory for the write-back (volume_sink.h),
// each resolved beneath the volume's directory fd by the kernel: openat2 with
// RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV, so no
// path, however crafted, names anything outside the volume, follows a link, or crosses into a
// mount below it. Paths are relative and checked already (vmproto::CheckVolumePath).
#pragma once

#include <sys/types.h>

#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace bulkhead::vmm::agent {

// openat2(dir, path, flags | O_CLOEXEC, mode) confined as above.
Result<UniqueFd> OpenBeneath(int dir, const std::string& path, int flags, mode_t mode = 0);

// A directory at `path` with `mode` (a new one gets it; one already there keeps its own).
// Whatever else is there (a file, a symlink) is removed first. With `empty`, what the
// directory holds is removed.
Status MakeDirectoryBeneath(int root, const std::string& path, mode_t mode, bool empty);

// A regular file at `path`, empty, with `mode`, opened for writing. Whatever else is there (a
// directory tree, a symlink, a fifo) is removed first; an existing file is truncated, so its
// other hard links see the new bytes.
Result<UniqueFd> CreateFileBeneath(int root, const std::string& path, mode_t mode);

// Removes `path` and, for a directory, everything below it. Absent is fine.
Status RemoveBeneath(int root, const std::string& path);

}  // namespace bulkhead::vmm::agent
