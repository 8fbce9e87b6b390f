// Which tier runs a container: the annotation run.bulkhead.isolation in its config.json,
// else the name the runtime was called by (bulkhead-vm means vm), else the default of the
// runtime configuration (docs/vm-tier.md).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "base/result.h"

namespace bulkhead::vmtier {

enum class Isolation { kContainer, kVm };

inline constexpr char kIsolationAnnotation[] = "run.bulkhead.isolation";
// The name (argv[0]'s last component) that selects the vm tier; a symlink to bulkhead.
inline constexpr char kVmBinaryName[] = "bulkhead-vm";

std::string_view IsolationName(Isolation i);
// "vm" or "container"; anything else is an error naming `where` and the value.
Result<Isolation> ParseIsolation(std::string_view value, std::string_view where);

// invoked_as is argv[0] as given (a path or a bare name).
Result<Isolation> SelectIsolation(const std::map<std::string, std::string>& annotations,
                                  std::string_view invoked_as, Isolation configured_default);

}  // namespace bulkhead::vmtier
