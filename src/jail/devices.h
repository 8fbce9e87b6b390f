// Device nodes and /dev symlinks of a container's /dev, made inside the rootfs before
// pivot_root when /dev is not bind-mounted from the host.
#pragma once

#include <vector>

#include "base/result.h"
#include "oci/config.h"

namespace bulkhead::jail {

// The runtime-spec's default devices: /dev/{null,zero,full,random,urandom,tty}, 0666 root.
std::vector<oci::Device> DefaultDevices();

// The defaults plus linux.devices; a configured device replaces a default of the same path.
std::vector<oci::Device> DevicesToCreate(const oci::Config& config);

// Creates each device inside root_fd. Outside a user namespace: mknod with the device's
// mode, uid and gid (replacing whatever non-directory was there). Inside one, or where
// mknod is refused, the kernel allows no new nodes: an empty file gets the host's node of
// the same path bind-mounted onto it (checked to be the same device). Needs /proc.
Status CreateDevices(int root_fd, const std::vector<oci::Device>& devices, bool in_user_namespace);

// /dev/fd -> /proc/self/fd, /dev/std{in,out,err} -> /proc/self/fd/{0,1,2}, and
// /dev/ptmx -> pts/ptmx so ptys come from the container's own devpts instance.
Status CreateDevSymlinks(int root_fd);

}  // namespace bulkhead::jail
