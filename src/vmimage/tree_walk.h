// Walks an untrusted rootfs tree and hashes it into cache keys, optionally copying it into a
// private staging directory at the same time.
//
// The walk never follows a symlink (every step is openat/fstatat relative to a directory fd
// with O_NOFOLLOW or AT_SYMLINK_NOFOLLOW), never opens a device, FIFO or socket (regular files
// are opened through an O_PATH descriptor checked first), and stops at the limits below.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/result.h"
#include "vmimage/sha256.h"

namespace bulkhead::vmimage {

struct WalkLimits {
  uint64_t max_bytes = 32ull << 30;  // sum of regular file sizes, holes included
  uint64_t max_entries = 1'000'000;
  int max_depth = 128;     // directory nesting; the walk holds two fds per level
  size_t max_path = 3800;  // bytes of a path in the tree; mkfs.erofs needs paths under PATH_MAX
  // mkfs.erofs 1.5 keeps names in a 255-byte buffer with its terminating NUL, so a name of
  // the 255 bytes Linux allows comes out cut and fails the build with a bare ENOENT.
  size_t max_name = 254;
  // The identity of a regular file pins its contents only if its ctime is older than the walk
  // by this much: the kernel's coarse clock can give a change made right after the walk the
  // ctime the file already had.
  int64_t memo_min_age_ns = 2'000'000'000;
};

struct WalkResult {
  // Paths, types, modes, owners, mtimes, symlink targets, device numbers, xattrs and hardlink
  // structure, with each regular file's (st_dev, st_ino, ctime, size) instead of its bytes.
  Digest identity{};
  // The same with each regular file's SHA-256 instead: the cache key. Not from HashIdentity.
  Digest content{};
  // Whether `identity` may stand for `content` later (see docs/vm-images.md): every regular
  // file was old enough and unchanged while read, and every filesystem is one whose ctime the
  // kernel keeps (not FUSE or a network filesystem, whose server could replay one).
  bool memo_safe = false;
  uint64_t entries = 0;
  uint64_t bytes = 0;
};

// Hashes the tree under `root_fd` by identity only; reads no file contents.
Result<WalkResult> HashIdentity(int root_fd, std::string_view preamble, const WalkLimits& limits);

// Hashes the tree under `root_fd` both ways, reading every file, copying nothing.
Result<WalkResult> HashContent(int root_fd, std::string_view preamble, const WalkLimits& limits);

// Copies the tree under `root_fd` into the empty directory `stage_fd` and hashes the copy as it
// goes, both ways. Needs root: the copy keeps owners and device nodes.
Result<WalkResult> StageTree(int root_fd, int stage_fd, std::string_view preamble,
                             const WalkLimits& limits);

}  // namespace bulkhead::vmimage
