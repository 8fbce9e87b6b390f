// The container's filesystem, built inside its new mount namespace by the init process
// while it still has every capability: mounts, devices, then pivot_root. Every target is
// resolved inside the rootfs (rootfs_path.h) and mounted through /proc/self/fd/N, so a
// symlink in the image cannot point a mount at the host.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "base/result.h"
#include "jail/cgroup_mounts.h"
#include "oci/config.h"

namespace bulkhead::jail {

struct RootfsSpec {
  const oci::Config* config = nullptr;
  std::string rootfs;              // absolute host path of the bundle's rootfs
  bool in_user_namespace = false;  // mknod is impossible: bind device nodes from the host
  bool no_pivot = false;           // --no-pivot: MS_MOVE + chroot instead of pivot_root
  // The container's cgroups as seen before it entered its own cgroup namespace (inside it
  // every path reads "/", which would bind the host's whole hierarchy); detected at mount
  // time when absent.
  std::optional<CgroupMounts> cgroups;
  // Runs after the mounts and devices, just before pivot_root (the create-time hooks).
  std::function<Status()> before_pivot;
};

// Runs in the new mount namespace, with the host's /proc still mounted at /proc:
//  1. linux.rootfsPropagation on / (rslave by default), so nothing reaches the host;
//  2. the rootfs bound onto itself (recursively) so it is a mount pivot_root accepts;
//  3. config.mounts in order (bind sources are host paths, relative ones against the cwd);
//  4. default devices and linux.devices plus the /dev symlinks, unless /dev is a bind mount;
//  5. before_pivot, when set;
//  6. pivot_root (or MS_MOVE + chroot with no_pivot), ending in "/".
// Errors name the mount: "mounts[3] (tmpfs on /tmp): mounting: ...".
Status PrepareRootfs(const RootfsSpec& spec);

// After the pivot (and after sysctls, which need /proc/sys writable): linux.readonlyPaths,
// linux.maskedPaths, then root.readonly. Missing paths are skipped. Needs the container's
// own proc mounted at /proc when there are paths to handle.
Status FinalizeRootfs(const oci::Config& config);

}  // namespace bulkhead::jail
