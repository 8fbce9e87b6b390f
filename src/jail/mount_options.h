// Mount options as written in config.json ("ro", "nosuid", "rbind", "mode=755") turned
// into mount(2) flags, propagation changes, recursive attributes and filesystem data.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace bulkhead::jail {

struct MountFlags {
  unsigned long flags = 0;        // MS_* to set (MS_BIND|MS_REC for rbind)
  unsigned long clear = 0;        // MS_* an option explicitly turned off ("rw", "suid")
  unsigned long propagation = 0;  // MS_PRIVATE/MS_SHARED/... (|MS_REC); the last one named wins
  std::string data;               // filesystem options, comma-joined ("mode=755,size=65536k")
  bool recursive_ro = false;      // "rro": read-only for every submount too
  // Other recursive options ("rnosuid", "rrw", ...) as MOUNT_ATTR_* for mount_setattr(2).
  uint64_t attr_set = 0;
  uint64_t attr_clr = 0;

  bool bind() const;
  bool has_recursive_attrs() const { return recursive_ro || attr_set != 0 || attr_clr != 0; }
};

// Parses a mount's options; unknown names become filesystem data. Options the runtime
// cannot honour (tmpcopyup, idmap) are errors rather than silently ignored.
Result<MountFlags> ParseMountOptions(const std::vector<std::string>& options);

// linux.rootfsPropagation: "" is rslave (runc's default), otherwise one of
// private/rprivate/shared/rshared/slave/rslave/unbindable/runbindable.
Result<unsigned long> ParsePropagation(std::string_view name);

// The nosuid/nodev/noexec/atime MS_* flags a mount already carries (statvfs f_flag) that a
// bind remount must repeat: in a user namespace the kernel locks them and refuses a remount
// that drops one. Read-only is left to the caller.
unsigned long LockedFlagsFromStatvfs(unsigned long f_flag);

}  // namespace bulkhead::jail
