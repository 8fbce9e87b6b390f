// Semantic checks of a parsed Config, before anything is created. Errors name the
// field ("linux.uidMappings: required when a new user namespace is created").
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "oci/config.h"

namespace bulkhead::oci {

// Checks a config for `create`: it needs a process, namespaces that make sense together,
// known capability/rlimit/seccomp names, absolute paths and sane resource values.
Status Validate(const Config& config);

// The linux.resources checks of Validate alone, for `update`.
Status ValidateResources(const Resources& resources);

// "CAP_SYS_ADMIN" -> 21. Knows CAP_CHOWN (0) through CAP_CHECKPOINT_RESTORE (40).
Result<int> CapabilityNumber(std::string_view name);
// "RLIMIT_NOFILE" -> RLIMIT_NOFILE.
Result<int> RlimitNumber(std::string_view name);
// Every capability name, indexed by number.
const std::vector<std::string>& AllCapabilityNames();

}  // namespace bulkhead::oci
