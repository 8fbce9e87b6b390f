// The images behind a vm container's volumes (vmtier/volumes.h), made at create.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "vmimage/image_cache.h"
#include "vmtier/volumes.h"

namespace bulkhead::runtime {

// One held image per volume, in order, built or reused from the cache as the rootfs image
// is (the monitor inherits the fds, so none can be pruned while the VM runs). A file's image
// is made from a directory holding just it, staged in `state_dir` and removed again.
Result<std::vector<vmimage::HeldImage>> ImageVolumes(const std::vector<vmtier::Volume>& volumes,
                                                     const vmimage::ImageCache& cache,
                                                     const std::string& state_dir);

}  // namespace bulkhead::runtime
