// Writing the private copy of a rootfs that mkfs.erofs reads. The copy, not the tenant's tree,
// is what gets hashed and imaged, so the tree cannot change between hashing and imaging.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "vmimage/sha256.h"
#include "vmimage/xattrs.h"

namespace bulkhead::vmimage {

// Copies the first `size` bytes of the regular file `src` into `dst`, keeping holes as holes,
// and returns the SHA-256 of those bytes (holes hash as the zeros they read as). A file that
// ends early changed while being read: an error. `buffer` is scratch space, reused. With
// `dst` -1 it only hashes.
Result<Digest> CopyAndHash(int src, int dst, uint64_t size, std::vector<uint8_t>& buffer);

// Gives a staged entry the owner, xattrs, permission bits and mtime of `st`. Order matters:
// chown clears set-id bits and file capabilities, so it goes first, and the mode after it.
// For a directory, call this after its children are in place (they change its mtime).
Status ApplyMetadata(int fd, const struct stat& st, const Xattrs& xattrs);
// The same for a symlink, device, FIFO or socket named `name` in the staged directory `dirfd`.
Status ApplyMetadataAt(int dirfd, const std::string& name, const struct stat& st,
                       const Xattrs& xattrs);

}  // namespace bulkhead::vmimage
