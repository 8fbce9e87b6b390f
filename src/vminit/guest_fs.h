// The guest's own file systems (init's view, not the container's), and the container's root:
// the erofs image under an overlay whose upper layer is a tmpfs, so the image stays immutable
// and the workload's writes die with the VM.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"

namespace bulkhead::vminit {

// Moves a fresh tmpfs over "/" and chroots into it (switch_root without exec): pivot_root,
// which the jail uses, refuses a process whose root is the initramfs.
Status LeaveInitramfs();

// proc, sysfs, devtmpfs, devpts, /run and /tmp tmpfs, cgroup2 at /sys/fs/cgroup; then the
// root is made read-only, since init writes only under /run and /tmp.
Status MountGuestFilesystems();

// Keeps 0, 1 and 2 open (on /dev/console, else /dev/null) so no descriptor init opens later
// lands there: init dups the workload's stdio onto them while it launches a process.
void EnsureStdio();

// Mounts `disk` (a block device holding an erofs image) read-only at kLowerDir, a tmpfs of
// `upper_mib` MiB at kScratchDir, and the overlay of both at kRootDir.
Status AssembleRoot(const std::string& disk, uint64_t upper_mib);

// Mounts the erofs image on `disk` (/dev/vdX) read-only at `path` (made if missing): a
// volume, which the container's bind mount then takes from there.
Status MountVolume(const std::string& disk, const std::string& path);

// The overlay options of a writable volume (see MountWritableVolume).
std::string WritableOverlayOptions(const std::string& lower, const std::string& upper,
                                   const std::string& work);

// A writable volume numbered `number`: the image on `disk` read-only at
// kVolumeLayersDir/<number>/lower, a tmpfs of `size_mib` MiB at .../rw holding the upper and
// work directories, and the overlay of both at `path`. The upper's root takes the image root's
// owner and mode, so the volume is writable to whom the host directory was. Redirects, the
// index and metacopy are off: the upper then holds whole files and plain directories, which is
// what the write-back reads (volume_sync.h). Returns the upper directory.
Result<std::string> MountWritableVolume(const std::string& disk, const std::string& path,
                                        uint32_t number, uint64_t size_mib);

}  // namespace bulkhead::vminit
