// Wires the virtio devices into a Machine: each device behind its own
// virtio-mmio transport at the next window and IRQ of the layout, its queue
// notifications as KVM ioeventfds handled by the event loop, its interrupt as
// a KVM irqfd, its host fds (console) watched by the event loop.
#pragma once

#include <cstddef>

#include "base/result.h"
#include "vmm/builder.h"

namespace bulkhead::vmm {

// Adds the disks (in order), the console and the entropy device; returns how
// many windows were used (for the kernel command line).
Result<size_t> AddVirtioDevices(Machine& m, const VmConfig& config, HostFiles& files);

}  // namespace bulkhead::vmm
