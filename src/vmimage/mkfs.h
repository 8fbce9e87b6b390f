// Running mkfs.erofs: argv only (no shell), an empty environment, stdin and stdout on
// /dev/null; stderr is kept for the error message.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace bulkhead::vmimage {

// The arguments every image is made with; they are part of the cache key (see image_key.cc).
// --preserve-mtime keeps each file's mtime instead of the build time; -U (added per image,
// derived from its key) makes the UUID reproducible.
std::vector<std::string> MkfsBaseArgs();

// Runs `mkfs` with `args` then IMAGE and SOURCE_DIR. On failure the error carries the exit
// status and mkfs.erofs's own message (the end of its stderr, one line).
Status RunMkfs(const std::string& mkfs, const std::vector<std::string>& args,
               const std::string& image, const std::string& source_dir);

}  // namespace bulkhead::vmimage
