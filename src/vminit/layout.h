// Every fixed path, name and size of the guest init in one place (docs/vm-guest.md).
#pragma once

#include <cstdint>

namespace bulkhead::vminit {

// The virtio-console port that carries the host<->guest protocol (docs/vm-protocol.md).
inline constexpr char kConsolePort[] = "/dev/hvc0";

// The read-only virtio-blk disk holding the container's erofs image, found by the serial the
// monitor gives it (bulkhead-vmm --disk id=rootfs,...).
inline constexpr char kRootfsSerial[] = "rootfs";
inline constexpr char kSysBlock[] = "/sys/block";

// The initramfs cannot be pivoted away from (pivot_root refuses the initial rootfs), so init
// moves a tmpfs over "/" first; the container's pivot_root then works as on a host.
inline constexpr char kNewRoot[] = "/guest";

// The container's root: the erofs image (lower), a tmpfs holding the overlay's upper and
// work directories, and the overlay that the jail pivots into.
inline constexpr char kStateDir[] = "/run/bulkhead";
inline constexpr char kLowerDir[] = "/run/bulkhead/lower";
inline constexpr char kScratchDir[] = "/run/bulkhead/rw";
inline constexpr char kRootDir[] = "/run/bulkhead/root";

// Read-only volumes (bind mounts of host paths): each is an erofs image on a disk of its own
// (serial "vol<n>"), mounted at kVolumesDir/<n>, from where the container binds it.
inline constexpr char kVolumesDir[] = "/run/bulkhead/volumes";
// A writable volume <n> is an overlay at kVolumesDir/<n> over the image at
// kVolumeLayersDir/<n>/lower, with its upper and work directories on a tmpfs at
// kVolumeLayersDir/<n>/rw, whose upper is what goes back to the host.
inline constexpr char kVolumeLayersDir[] = "/run/bulkhead/volume-layers";
// Inodes per MiB of a writable volume's tmpfs: one per 4 KiB. The monitor takes at most as
// many entries back.
inline constexpr uint64_t kVolumeInodesPerMib = 256;

// The overlay's upper tmpfs when the start spec names no size: the container's writes live
// in guest RAM, so it is small unless the host asks for more.
inline constexpr uint64_t kDefaultUpperMib = 64;
inline constexpr uint64_t kMaxUpperMib = 1u << 20;  // 1 TiB: a typo, not a size

// The guest's own /run and /tmp: init's bookkeeping only, never the workload's.
inline constexpr char kRunOptions[] = "mode=0755,size=16m";
inline constexpr char kTmpOptions[] = "mode=1777,size=16m";

// The cgroup the container's processes join when the config names no cgroupsPath is
// /bulkhead/<id>; the id defaults to this.
inline constexpr char kDefaultId[] = "container";

}  // namespace bulkhead::vminit
