// A typed seccomp profile back to its config.json form (linux.seccomp), so a profile
// written as code can be embedded in a generated spec.
#pragma once

#include <nlohmann/json.hpp>

#include "oci/config.h"

namespace bulkhead::oci {

// Fields that are unset or empty are left out; the result parses back to the same
// Seccomp.
nlohmann::json SeccompToJson(const Seccomp& seccomp);

}  // namespace bulkhead::oci
