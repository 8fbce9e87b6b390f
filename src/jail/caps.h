// Capabilities: the five sets of process.capabilities, applied in the child.
#pragma once

#include <cstdint>

#include "base/result.h"
#include "oci/config.h"

namespace bulkhead::jail {

// Capability sets as bit masks, resolved from names before clone.
struct CapSets {
  uint64_t bounding = 0, effective = 0, inheritable = 0, permitted = 0, ambient = 0;
};

// Translates names to masks; unknown names are an error naming the set.
// No capabilities object at all means every set empty.
Result<CapSets> ResolveCaps(const std::optional<oci::Capabilities>& caps);

// Highest capability number this kernel knows (/proc/sys/kernel/cap_last_cap).
int LastCap();

// Drops everything outside `bounding` from the bounding set. Needs CAP_SETPCAP.
Status DropBounding(const CapSets& caps, int last_cap);

// Sets effective/permitted/inheritable, then raises the ambient set. Called after the
// uid change (with PR_SET_KEEPCAPS kept on across it).
Status ApplyCaps(const CapSets& caps, int last_cap);

}  // namespace bulkhead::jail
