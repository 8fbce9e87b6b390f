// bulkhead-vmm's top level: open the host files, enter the jail, build the VM
// in the jailed child, start the vCPU threads and run the event loop.
#pragma once

#include "vmm/config.h"

namespace bulkhead::vmm {

// Runs the VM to its end and returns the exit code (exit_codes.h); with the
// jail on it may also end the process the way the jailed monitor ended.
int RunVmm(const VmConfig& config);

}  // namespace bulkhead::vmm
