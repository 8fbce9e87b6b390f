// Bind mounts of host paths in the vm tier (docs/vm-tier.md, "Volumes"). A bind's source
// becomes an erofs image (cached by content, as the rootfs is) on a read-only virtio-blk disk
// of its own; the guest mounts that disk and the container binds it where the config says.
// The guest never sees more of the host than the source. A writable bind gets an overlay in
// the guest, and what changed in it is written back to the source by the monitor once the
// container's process has exited.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "base/result.h"
#include "oci/config.h"

namespace bulkhead::vmtier {

// bulkhead-vmm's 8 disks, less the rootfs.
inline constexpr size_t kMaxVolumes = 7;

struct Volume {
  size_t mount_index = 0;  // in config.mounts
  std::string source;      // the host path, absolute
  bool file = false;       // a regular file: imaged inside a directory of its own
  bool writable = false;   // not "ro": written back when the container's process exits
  uint32_t number = 0;     // <n> of serial and guest_dir: the monitor's --writeback volume
  std::string serial;      // the disk's id: "vol0", "vol1", ...
  std::string guest_dir;   // where the guest mounts the image: <kVolumesDir>/<n>
  // What the container binds: guest_dir, or guest_dir/<the file's name>.
  std::string GuestSource() const;
};

// A mount of type "bind", or with a bind or rbind option.
bool IsBindMount(const oci::Mount& m);

// The volumes of config's bind mounts, in order. Relative sources start at `bundle`. Each must
// name an existing directory or regular file; at most kMaxVolumes. Errors name the mount
// ("mounts[2] (/data)") and what is wrong.
Result<std::vector<Volume>> PlanVolumes(const oci::Config& config, const std::string& bundle);

}  // namespace bulkhead::vmtier
