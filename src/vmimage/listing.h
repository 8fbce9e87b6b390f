// The names in a directory, read through a descriptor.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"

namespace bulkhead::vmimage {

// Every name but "." and "..", in bytewise order (so the same tree always hashes the same),
// at most `max_names` of them: a caller that must refuse more asks for one more than it allows.
Result<std::vector<std::string>> ListNames(int dirfd, uint64_t max_names);

}  // namespace bulkhead::vmimage
