// Finding a virtio-blk disk by the serial the monitor gave it (its --disk id), so the guest
// never depends on the order disks were attached in.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace bulkhead::vminit {

// The name ("vda") of the one virtio disk under `sys_block` (normally /sys/block) whose
// `serial` attribute reads `serial`. Only vd* entries are looked at. Fails naming the serials
// that were found when none matches, and when two disks claim the same serial.
Result<std::string> FindDiskBySerial(const std::string& sys_block, std::string_view serial);

}  // namespace bulkhead::vminit
