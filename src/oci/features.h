// The runtime-spec "features" document (`bulkhead features`): what this runtime supports.
#pragma once

#include <string>

namespace bulkhead::oci {

// Pretty-printed with a two-space indent.
std::string FeaturesJson();

}  // namespace bulkhead::oci
