// Extended attributes of one entry, read and written without following symlinks.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "base/result.h"

namespace bulkhead::vmimage {

// (name, value) pairs sorted by name, so equal sets compare and hash equal.
using Xattrs = std::vector<std::pair<std::string, std::string>>;

// Of an open regular file or directory.
Result<Xattrs> ReadXattrs(int fd);
// Of `name` inside the directory `dirfd`, not following it if it is a symlink: the path
// /proc/self/fd/<dirfd>/<name> pins the directory by descriptor, so no other path is resolved.
Result<Xattrs> ReadXattrsAt(int dirfd, const std::string& name);

Status WriteXattrs(int fd, const Xattrs& xattrs);
Status WriteXattrsAt(int dirfd, const std::string& name, const Xattrs& xattrs);

}  // namespace bulkhead::vmimage
