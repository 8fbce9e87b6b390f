// The virtio-mmio transport, version 2 (virtio 1.x section 4.2): the register
// window a device shows on the MMIO bus, feature negotiation, queue setup and
// the interrupt status. Registers are 32 bits wide and 4-byte aligned; any
// other register access is ignored (reads return 0). Config space (0x100 up)
// takes 1-, 2-, 4- and 8-byte accesses inside the device's config size.
//
// Notifications: the builder registers queue_notify_fd(q) as a KVM ioeventfd
// on base+0x50 with datamatch q, and the event loop calls ProcessQueue(q) when
// it fires. A QueueNotify write that reaches Write() (no ioeventfd, as in unit
// tests) signals the same eventfd: queues are only ever processed by
// ProcessQueue(), on the event loop.
//
// Interrupts: used buffers set InterruptStatus bit 0, a config change or an
// error set bit 1; each raises the Interrupt line (an irqfd).
//
// Errors: a device or queue that fails (broken ring protocol, failed
// activation) sets DEVICE_NEEDS_RESET, raises a config interrupt and stops
// until the driver resets the device; last_error() says why, for the log.
//
// One mutex guards the transport and its device: vCPU threads (MMIO) and the
// event loop (notifications, device fds) may call in concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "vmm/devices/bus.h"
#include "vmm/devices/event_fd.h"
#include "vmm/devices/virtio/device.h"
#include "vmm/devices/virtio/queue.h"
#include "vmm/memory/guest_memory.h"

namespace bulkhead::vmm {

// Device status bits (section 2.1).
constexpr uint32_t kStatusAcknowledge = 1;
constexpr uint32_t kStatusDriver = 2;
constexpr uint32_t kStatusDriverOk = 4;
constexpr uint32_t kStatusFeaturesOk = 8;
constexpr uint32_t kStatusNeedsReset = 64;
constexpr uint32_t kStatusFailed = 128;

// Register offsets of the MMIO window (section 4.2.2).
namespace mmio {
constexpr uint64_t kMagicValue = 0x000;
constexpr uint64_t kVersion = 0x004;
constexpr uint64_t kDeviceId = 0x008;
constexpr uint64_t kVendorId = 0x00c;
constexpr uint64_t kDeviceFeatures = 0x010;
constexpr uint64_t kDeviceFeaturesSel = 0x014;
constexpr uint64_t kDriverFeatures = 0x020;
constexpr uint64_t kDriverFeaturesSel = 0x024;
constexpr uint64_t kQueueSel = 0x030;
constexpr uint64_t kQueueNumMax = 0x034;
constexpr uint64_t kQueueNum = 0x038;
constexpr uint64_t kQueueReady = 0x044;
constexpr uint64_t kQueueNotify = 0x050;
constexpr uint64_t kInterruptStatus = 0x060;
constexpr uint64_t kInterruptAck = 0x064;
constexpr uint64_t kStatus = 0x070;
constexpr uint64_t kQueueDescLow = 0x080;
constexpr uint64_t kQueueDescHigh = 0x084;
constexpr uint64_t kQueueDriverLow = 0x090;
constexpr uint64_t kQueueDriverHigh = 0x094;
constexpr uint64_t kQueueDeviceLow = 0x0a0;
constexpr uint64_t kQueueDeviceHigh = 0x0a4;
constexpr uint64_t kShmSel = 0x0ac;
constexpr uint64_t kShmLenLow = 0x0b0;
constexpr uint64_t kShmBaseHigh = 0x0bc;
constexpr uint64_t kConfigGeneration = 0x0fc;
constexpr uint64_t kConfig = 0x100;
constexpr uint64_t kWindowSize = 0x1000;

constexpr uint32_t kMagic = 0x74726976;  // "virt"
constexpr uint32_t kVendor = 0x6b6c7562;  // "bulk"
constexpr uint32_t kInterruptUsedBuffer = 1;
constexpr uint32_t kInterruptConfigChange = 2;
}  // namespace mmio

class MmioTransport : public BusDevice {
 public:
  // `mem` must outlive the transport. Fails when the device's description is
  // unusable (no VERSION_1, a bad queue size) or an eventfd cannot be made.
  static Result<std::shared_ptr<MmioTransport>> Create(GuestMemory& mem, std::unique_ptr<VirtioDevice> device,
                                                       Interrupt irq);

  void Read(uint64_t offset, std::span<uint8_t> data) override;
  void Write(uint64_t offset, std::span<const uint8_t> data) override;

  // For the builder and the event loop.
  uint16_t queue_count() const { return static_cast<uint16_t>(notify_.size()); }
  int queue_notify_fd(uint16_t q) const { return q < notify_.size() ? notify_[q].fd() : -1; }
  const Interrupt& interrupt() const { return irq_; }
  // Drains queue q's notify eventfd and processes the queue. When the device
  // leaves work for later (budget), the notify eventfd is signalled again.
  void ProcessQueue(uint16_t q);
  // fds of the device itself (console), each with the epoll events wanted.
  std::vector<DeviceEventSource> device_event_sources() const;
  // One of device_event_sources() is ready. Work the device leaves for later
  // is resumed through the queues' notify eventfds.
  void ProcessDeviceEvent();

  uint32_t status() const;
  uint32_t interrupt_status() const;
  std::string last_error() const;

 private:
  MmioTransport(GuestMemory& mem, std::unique_ptr<VirtioDevice> device, Interrupt irq,
                std::vector<EventFd> notify);
  bool ConfigAccessFits(uint64_t off, size_t n) const;
  uint32_t ReadRegister(uint64_t offset) const;
  void WriteRegister(uint64_t offset, uint32_t value);
  void SetStatus(uint32_t value);
  void ActivateDevice();
  void ResetDevice();
  void ProcessQueueLocked(uint16_t q);
  void FailDevice(const Error& error);
  void SignalUsedBuffers();
  Virtqueue* SetupQueue();  // the selected queue, when its registers may be written

  GuestMemory& mem_;
  const std::unique_ptr<VirtioDevice> device_;
  const Interrupt irq_;
  const std::vector<EventFd> notify_;

  mutable std::mutex mu_;
  std::vector<Virtqueue> queues_;
  uint32_t status_ = 0;
  uint32_t device_features_sel_ = 0;
  uint32_t driver_features_sel_ = 0;
  uint64_t driver_features_ = 0;
  uint32_t queue_sel_ = 0;
  uint32_t interrupt_status_ = 0;
  uint32_t config_generation_ = 0;
  std::string last_error_;
};

}  // namespace bulkhead::vmm
