// Every host file the VM uses, opened before the jail (whose root is empty):
// /dev/kvm, the kernel and initrd, the disks, the serial log, the console.
#pragma once

#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "vmm/agent/volume_sink.h"
#include "vmm/config.h"
#include "vmm/kvm/kvm.h"

namespace bulkhead::vmm {

struct HostFiles {
  Kvm kvm;
  UniqueFd kernel;
  UniqueFd initrd;              // invalid when there is none
  std::vector<UniqueFd> disks;  // in config order
  int serial_out = -1;          // stdout, the log file, or -1 (none)
  UniqueFd serial_file;         // owns serial_out when it is a file
  UniqueFd console;             // invalid without a virtio-console
  // Agent mode: the listening agent socket, and the monitor's end of a socketpair whose
  // other end is `console` (the virtio-console device's).
  UniqueFd agent_listen;
  UniqueFd agent_console;
  // Agent mode: the writable volumes, each a directory or the one regular file.
  std::vector<agent::WritebackTarget> writeback;
};

Result<HostFiles> OpenHostFiles(const VmConfig& config);

}  // namespace bulkhead::vmm
