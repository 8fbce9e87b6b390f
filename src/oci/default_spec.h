// The config.json that `bulkhead spec` writes: the container tier's hardened default.
#pragma once

#include <string>

#include "oci/config.h"

namespace bulkhead::oci {

// The default spec, pretty-printed with a two-space indent, with `seccomp_profile` as
// linux.seccomp. The profile is a parameter so that this library need not depend on the
// seccomp policy code (which depends on it). The result passes ParseConfig + Validate.
std::string DefaultSpecJson(const Seccomp& seccomp_profile);

}  // namespace bulkhead::oci
