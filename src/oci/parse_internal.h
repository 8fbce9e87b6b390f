// Pieces of the config parser shared between its files.
#pragma once

#include "base/result.h"
#include "oci/config.h"
#include "oci/json_reader.h"

namespace bulkhead::oci::internal {

// Reads the "linux" object.
Status ParseLinux(const Node& node, Linux* out);
// Reads "linux.resources".
Status ParseResources(const Node& node, Resources* out);
// Reads "linux.seccomp".
Status ParseSeccomp(const Node& node, Seccomp* out);

}  // namespace bulkhead::oci::internal
