// Pieces of Validate shared between its files.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"
#include "oci/config.h"

namespace bulkhead::oci::internal {

// "field: what", EINVAL.
Error FieldError(std::string_view field, std::string_view what);
// Strings go to the kernel as C strings: an embedded NUL would silently cut them.
Status CheckNoNul(std::string_view field, std::string_view value);
// Non-empty, starts with '/', no NUL.
Status CheckAbsolutePath(std::string_view field, std::string_view path);
// "field[index]".
std::string Indexed(std::string_view field, size_t index);

// linux.* except resources and seccomp.
Status ValidateLinux(const Config& config);
// linux.resources.
Status ValidateResources(const Resources& resources);
// linux.seccomp.
Status ValidateSeccomp(const Seccomp& seccomp);

}  // namespace bulkhead::oci::internal
