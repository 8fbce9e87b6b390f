// Root filesystem images for the VM tier: EnsureImage turns a bundle's rootfs directory into
// a read-only erofs image (Debian's mkfs.erofs), cached by content, so that the next start of
// the same rootfs reuses it. docs/vm-images.md describes the keys, the cache and its limits.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "vmimage/tree_walk.h"

namespace bulkhead::vmimage {

struct ImageCache {
  std::string dir = "/var/lib/bulkhead/images";
  std::string mkfs = "/usr/bin/mkfs.erofs";
  // Further mkfs.erofs options, e.g. {"-zlz4hc"}; like mkfs.erofs itself, part of the key.
  std::vector<std::string> mkfs_args;
  WalkLimits limits;
  // Reuse an image for a tree whose identity (inodes and ctimes, no contents) matches one
  // staged before, without reading file contents. Off: every start reads the whole tree.
  bool identity_memo = true;
};

enum class ImageOrigin {
  kBuilt,         // mkfs.erofs ran
  kSameContent,   // the tree was read and hashed; an image with that key was there
  kSameIdentity,  // the identity memo named the key; no file contents were read
};

struct HeldImage {
  std::string path;  // <dir>/<key>.erofs
  std::string key;   // 64 hex digits
  ImageOrigin origin = ImageOrigin::kBuilt;
  // Read-only, close-on-exec, with a shared flock: Prune leaves the image alone while this fd
  // or any duplicate of it (e.g. one inherited by the VMM) is open.
  UniqueFd fd;

  bool built() const { return origin == ImageOrigin::kBuilt; }
};

// The image of the tree at `rootfs` (a directory, not a symlink), built if the cache lacks it.
// Concurrent calls for the same content build it once. Needs root.
Result<HeldImage> EnsureImage(const std::string& rootfs, const ImageCache& cache);

struct PruneResult {
  uint64_t removed = 0;  // images deleted
  uint64_t removed_bytes = 0;
  uint64_t kept = 0;  // images left, held or within the budget
  uint64_t kept_bytes = 0;
  uint64_t held = 0;  // images over the budget that were kept because they are held
};

// Deletes the least recently used unheld images until the images total at most `max_bytes`
// (held ones are never deleted, so the total can stay above it), and the leftovers of dead
// builders and stale index entries.
Result<PruneResult> Prune(const ImageCache& cache, uint64_t max_bytes);

}  // namespace bulkhead::vmimage
