// Path resolution confined to a root directory. Every mount destination is resolved
// inside the container's rootfs this way, so a symlink in the image (absolute, "../.."
// chains, loops) can never send a mount or a new directory outside it.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "base/result.h"
#include "base/unique_fd.h"

namespace bulkhead::jail {

// Opens `path` (absolute or relative; both start at root_fd) as if root_fd were "/":
// ".." stops at the root and absolute symlinks restart from it. Uses openat2 with
// RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS, or OpenInRootByWalk where openat2 is missing.
// O_CLOEXEC is always added; O_CREAT creates with mode 0644 (before the umask).
Result<UniqueFd> OpenInRoot(int root_fd, std::string_view path, int flags);

// Creates the missing directories along `path` inside root_fd, each with mkdirat relative
// to its already-resolved parent, and returns an O_PATH fd of the final directory. With
// as_file the last component is instead an empty regular file (a bind-mount target for a
// file); an existing one is reused.
Result<UniqueFd> MkdirAllInRoot(int root_fd, std::string_view path, mode_t mode,
                                bool as_file = false);

// "/proc/self/fd/N": a path that mount(2) follows to exactly the object fd refers to.
std::string FdPath(int fd);

// OpenInRoot's fallback, exposed so tests can run it where openat2 exists: walks one
// component at a time with O_NOFOLLOW and resolves symlinks itself against the root, at
// most 40 of them. Unlike openat2 it does not refuse procfs magic links; it reads them as
// text, which still cannot leave the root.
Result<UniqueFd> OpenInRootByWalk(int root_fd, std::string_view path, int flags);

}  // namespace bulkhead::jail
