#include "vmm/virtio_devices.h"

#include <fcntl.h>
#include <sys/epoll.h>

#include "vmm/arch/x86_64/layout.h"
#include "vmm/devices/virtio/block.h"
#include "vmm/devices/virtio/console.h"
#include "vmm/devices/virtio/mmio.h"
#include "vmm/devices/virtio/rng.h"

namespace bulkhead::vmm {
namespace {

Status Attach(Machine& m, std::unique_ptr<VirtioDevice> device, size_t slot) {
  if (slot >= x86::kVirtioMaxDevices) return Error("more virtio devices than IRQs for them");
  GuestAddress base = x86::kVirtioMmioBase.Plus(slot * x86::kVirtioMmioSize);
  uint32_t gsi = x86::kVirtioFirstIrq + static_cast<uint32_t>(slot);
  BH_ASSIGN(Interrupt irq, Interrupt::Create());
  BH_TRY(m.vm.AddIrqfd(irq.fd(), gsi));
  BH_ASSIGN(std::shared_ptr<MmioTransport> t, MmioTransport::Create(m.memory, std::move(device), std::move(irq)));
  BH_TRY(m.mmio.Insert(t, base.raw(), x86::kVirtioMmioSize));
  for (uint16_t q = 0; q < t->queue_count(); ++q) {
    // The guest's QueueNotify write of this queue's index signals the eventfd
    // inside KVM: no exit to a vCPU thread, the event loop does the work.
    BH_TRY(m.vm.AddIoeventfd(t->queue_notify_fd(q), base.Plus(mmio::kQueueNotify), 4, q));
    MmioTransport* raw = t.get();
    BH_TRY(m.loop.Add(t->queue_notify_fd(q), [raw, q] { raw->ProcessQueue(q); }));
  }
  for (const DeviceEventSource& src : t->device_event_sources()) {
    MmioTransport* raw = t.get();
    BH_TRY(m.loop.Add(src.fd, src.events | EPOLLET, [raw] { raw->ProcessDeviceEvent(); }));
  }
  return Ok();
}

}  // namespace

Result<size_t> AddVirtioDevices(Machine& m, const VmConfig& config, HostFiles& files) {
  size_t slot = 0;
  for (size_t i = 0; i < config.disks.size(); ++i) {
    const DiskConfig& d = config.disks[i];
    BH_ASSIGN(std::unique_ptr<VirtioBlock> blk,
              VirtioBlock::Create(std::move(files.disks[i]), d.read_only, d.id));
    BH_TRY(Attach(m, std::move(blk), slot++).Context("disk \"" + d.id + "\""));
  }
  if (files.console) {
    // One connected fd serves both directions; the device takes two owners.
    UniqueFd out(fcntl(files.console.get(), F_DUPFD_CLOEXEC, 3));
    if (!out) return Error::FromErrno("duplicating the console fd");
    BH_ASSIGN(std::unique_ptr<VirtioConsole> con, VirtioConsole::Create(std::move(files.console), std::move(out)));
    BH_TRY(Attach(m, std::move(con), slot++).Context("console"));
  }
  if (config.rng) BH_TRY(Attach(m, std::make_unique<VirtioRng>(), slot++).Context("entropy device"));
  return slot;
}

}  // namespace bulkhead::vmm
