#include "vmm/devices/virtio/mmio.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <utility>

namespace bulkhead::vmm {

using namespace mmio;

Result<std::shared_ptr<MmioTransport>> MmioTransport::Create(GuestMemory& mem,
                                                             std::unique_ptr<VirtioDevice> device,
                                                             Interrupt irq) {
  if (!device) return Error("virtio-mmio: no device");
  if ((device->features() & kVirtioFVersion1) == 0) {
    return Error("virtio-mmio: device type " + std::to_string(device->device_type()) +
                 " does not offer VIRTIO_F_VERSION_1");
  }
  const uint16_t max = device->queue_max_size();
  if (max == 0 || max > Virtqueue::kMaxSizeLimit || !std::has_single_bit(max)) {
    return Error("virtio-mmio: queue size " + std::to_string(max) + " is not a power of two up to " +
                 std::to_string(Virtqueue::kMaxSizeLimit));
  }
  if (device->config_size() > kWindowSize - kConfig) return Error("virtio-mmio: config space too large");
  std::vector<EventFd> notify;
  for (uint16_t q = 0; q < device->queue_count(); ++q) {
    BH_ASSIGN(EventFd ev, EventFd::Create());
    notify.push_back(std::move(ev));
  }
  return std::shared_ptr<MmioTransport>(
      new MmioTransport(mem, std::move(device), std::move(irq), std::move(notify)));
}

MmioTransport::MmioTransport(GuestMemory& mem, std::unique_ptr<VirtioDevice> device, Interrupt irq,
                             std::vector<EventFd> notify)
    : mem_(mem), device_(std::move(device)), irq_(std::move(irq)), notify_(std::move(notify)) {
  queues_.reserve(notify_.size());
  for (size_t q = 0; q < notify_.size(); ++q) queues_.emplace_back(device_->queue_max_size());
}

// Config space takes 1-, 2-, 4- and 8-byte accesses wholly inside the device's config.
bool MmioTransport::ConfigAccessFits(uint64_t off, size_t n) const {
  return (n == 1 || n == 2 || n == 4 || n == 8) && off <= device_->config_size() &&
         n <= device_->config_size() - off;
}

void MmioTransport::Read(uint64_t offset, std::span<uint8_t> data) {
  std::fill(data.begin(), data.end(), 0);
  std::lock_guard lock(mu_);
  if (offset >= kConfig) {
    if (ConfigAccessFits(offset - kConfig, data.size())) device_->ReadConfig(offset - kConfig, data);
    return;
  }
  if (data.size() != 4 || offset % 4 != 0) return;
  const uint32_t value = ReadRegister(offset);
  memcpy(data.data(), &value, 4);
}

void MmioTransport::Write(uint64_t offset, std::span<const uint8_t> data) {
  std::lock_guard lock(mu_);
  if (offset >= kConfig) {
    if (ConfigAccessFits(offset - kConfig, data.size())) device_->WriteConfig(offset - kConfig, data);
    return;
  }
  if (data.size() != 4 || offset % 4 != 0) return;
  uint32_t value;
  memcpy(&value, data.data(), 4);
  WriteRegister(offset, value);
}

uint32_t MmioTransport::ReadRegister(uint64_t offset) const {
  const Virtqueue* q = queue_sel_ < queues_.size() ? &queues_[queue_sel_] : nullptr;
  switch (offset) {
    case kMagicValue:
      return kMagic;
    case kVersion:
      return 2;
    case kDeviceId:
      return device_->device_type();
    case kVendorId:
      return kVendor;
    case kDeviceFeatures:
      if (device_features_sel_ > 1) return 0;
      return static_cast<uint32_t>(device_->features() >> (32 * device_features_sel_));
    case kQueueNumMax:
      return q ? q->max_size() : 0;  // 0: no such queue
    case kQueueReady:
      return q && q->ready() ? 1 : 0;
    case kInterruptStatus:
      return interrupt_status_;
    case kStatus:
      return status_;
    case kConfigGeneration:
      return config_generation_;
    default:
      // No shared memory regions: their length and base read as all ones.
      if (offset >= kShmLenLow && offset <= kShmBaseHigh) return UINT32_MAX;
      return 0;  // write-only and reserved registers
  }
}

Virtqueue* MmioTransport::SetupQueue() {
  // Queues are set up after FEATURES_OK and before DRIVER_OK, one not yet ready.
  if ((status_ & kStatusFeaturesOk) == 0 || (status_ & (kStatusDriverOk | kStatusFailed)) != 0) return nullptr;
  if (queue_sel_ >= queues_.size()) return nullptr;
  return &queues_[queue_sel_];
}

void MmioTransport::WriteRegister(uint64_t offset, uint32_t value) {
  auto set_low = [](GuestAddress a, uint32_t v) { return GuestAddress((a.raw() & ~0xffffffffull) | v); };
  auto set_high = [](GuestAddress a, uint32_t v) {
    return GuestAddress((a.raw() & 0xffffffffull) | (static_cast<uint64_t>(v) << 32));
  };
  Virtqueue* q = nullptr;
  switch (offset) {
    case kDeviceFeaturesSel:
      device_features_sel_ = value;
      return;
    case kDriverFeatures:
      // Only while negotiating: after DRIVER, before FEATURES_OK.
      if ((status_ & kStatusDriver) == 0 || (status_ & (kStatusFeaturesOk | kStatusFailed)) != 0) return;
      if (driver_features_sel_ == 0) {
        driver_features_ = (driver_features_ & ~0xffffffffull) | value;
      } else if (driver_features_sel_ == 1) {
        driver_features_ = (driver_features_ & 0xffffffffull) | (static_cast<uint64_t>(value) << 32);
      }
      return;
    case kDriverFeaturesSel:
      driver_features_sel_ = value;
      return;
    case kQueueSel:
      queue_sel_ = value;
      return;
    case kQueueNum:
      // A value that does not fit 16 bits becomes 0, which activation refuses.
      if ((q = SetupQueue()) != nullptr && !q->ready()) q->set_size(value <= 0xffff ? static_cast<uint16_t>(value) : 0);
      return;
    case kQueueReady:
      if ((q = SetupQueue()) != nullptr) q->set_ready(value == 1);
      return;
    case kQueueNotify:
      // Queue work happens on the event loop, never on a vCPU thread (whose
      // seccomp list has no I/O calls): a notification that KVM did not turn
      // into an ioeventfd signal is forwarded to the same eventfd.
      if (value < notify_.size()) notify_[value].Signal();
      return;
    case kInterruptAck:
      interrupt_status_ &= ~value;
      return;
    case kStatus:
      SetStatus(value);
      return;
    case kQueueDescLow:
    case kQueueDescHigh:
    case kQueueDriverLow:
    case kQueueDriverHigh:
    case kQueueDeviceLow:
    case kQueueDeviceHigh: {
      if ((q = SetupQueue()) == nullptr || q->ready()) return;
      const bool high = (offset & 4) != 0;
      const uint64_t base = offset & ~4ull;
      if (base == kQueueDescLow) {
        q->set_desc_table(high ? set_high(q->desc_table(), value) : set_low(q->desc_table(), value));
      } else if (base == kQueueDriverLow) {
        q->set_avail_ring(high ? set_high(q->avail_ring(), value) : set_low(q->avail_ring(), value));
      } else {
        q->set_used_ring(high ? set_high(q->used_ring(), value) : set_low(q->used_ring(), value));
      }
      return;
    }
    default:
      return;  // read-only and reserved registers, kShmSel (no regions)
  }
}

void MmioTransport::SetStatus(uint32_t value) {
  if (value == 0) {
    ResetDevice();
    return;
  }
  // DEVICE_NEEDS_RESET belongs to the device; the driver may only add bits.
  const uint32_t wanted = value & ~kStatusNeedsReset;
  const uint32_t current = status_ & ~kStatusNeedsReset;
  if ((wanted & current) != current) return;
  const uint32_t added = wanted & ~current;
  if ((added & kStatusFailed) != 0) status_ |= kStatusFailed;
  if ((status_ & (kStatusFailed | kStatusNeedsReset)) != 0) return;
  // The driver's steps in order (section 3.1.1); a step whose predecessor is
  // missing is ignored, and so is everything after it.
  if ((added & kStatusAcknowledge) != 0) status_ |= kStatusAcknowledge;
  if ((added & kStatusDriver) != 0) {
    if ((status_ & kStatusAcknowledge) == 0) return;
    status_ |= kStatusDriver;
  }
  if ((added & kStatusFeaturesOk) != 0) {
    if ((status_ & kStatusDriver) == 0) return;
    // Accept only features we offered, and insist on the modern interface;
    // otherwise FEATURES_OK stays clear and the driver gives up.
    if ((driver_features_ & ~device_->features()) != 0 || (driver_features_ & kVirtioFVersion1) == 0) return;
    status_ |= kStatusFeaturesOk;
  }
  if ((added & kStatusDriverOk) != 0) {
    if ((status_ & kStatusFeaturesOk) == 0) return;
    ActivateDevice();
  }
}

void MmioTransport::ActivateDevice() {
  const bool indirect = (driver_features_ & kVirtioFIndirectDesc) != 0;
  for (size_t i = 0; i < queues_.size(); ++i) {
    Virtqueue& q = queues_[i];
    Status s = q.ready() ? q.Activate(mem_, indirect) : Status(Error("not ready"));
    if (!s.ok()) {
      FailDevice(std::move(s).error().Context("queue " + std::to_string(i)));
      return;
    }
  }
  Status s = device_->Activate(driver_features_);
  if (!s.ok()) {
    FailDevice(std::move(s).error().Context("activating"));
    return;
  }
  status_ |= kStatusDriverOk;
  // A kick that came before DRIVER_OK was dropped; look at every queue once so
  // buffers posted that early are not left waiting for a kick that came already.
  for (uint16_t q = 0; q < queues_.size(); ++q) ProcessQueueLocked(q);
}

void MmioTransport::ResetDevice() {
  device_->Reset();
  for (Virtqueue& q : queues_) q.Reset();
  status_ = 0;
  device_features_sel_ = driver_features_sel_ = queue_sel_ = 0;
  driver_features_ = 0;
  interrupt_status_ = 0;
}

void MmioTransport::FailDevice(const Error& error) {
  last_error_ = "virtio device type " + std::to_string(device_->device_type()) + ": " + error.message();
  status_ |= kStatusNeedsReset;
  interrupt_status_ |= kInterruptConfigChange;
  irq_.Trigger();
}

void MmioTransport::ProcessQueueLocked(uint16_t q) {
  if ((status_ & kStatusDriverOk) == 0 || (status_ & kStatusNeedsReset) != 0) return;
  auto work = device_->ProcessQueue(q, mem_, queues_);
  SignalUsedBuffers();  // what completed before an error still counts
  if (!work.ok()) {
    FailDevice(std::move(work).error().Context("queue " + std::to_string(q)));
    return;
  }
  if (*work == QueueWork::kMore) notify_[q].Signal();  // the event loop comes back for the rest
}

void MmioTransport::SignalUsedBuffers() {
  bool fire = false;
  for (Virtqueue& q : queues_) fire = q.TakeInterruptNeeded(mem_) || fire;
  if (!fire) return;
  interrupt_status_ |= kInterruptUsedBuffer;
  irq_.Trigger();
}

void MmioTransport::ProcessQueue(uint16_t q) {
  if (q >= notify_.size()) return;
  std::lock_guard lock(mu_);
  notify_[q].Drain();
  ProcessQueueLocked(q);
}

std::vector<DeviceEventSource> MmioTransport::device_event_sources() const {
  std::lock_guard lock(mu_);
  return device_->event_sources();
}

void MmioTransport::ProcessDeviceEvent() {
  std::lock_guard lock(mu_);
  // Before DRIVER_OK the data waits in the fd; the device reads it once the
  // driver posts buffers.
  if ((status_ & kStatusDriverOk) == 0 || (status_ & kStatusNeedsReset) != 0) return;
  auto work = device_->OnEvent(mem_, queues_);
  SignalUsedBuffers();
  if (!work.ok()) {
    FailDevice(std::move(work).error().Context("device event"));
    return;
  }
  // Work left over: a kick on every queue brings the event loop back here
  // through ProcessQueue(), which takes the device's queues in turn.
  if (*work == QueueWork::kMore) {
    for (const EventFd& n : notify_) n.Signal();
  }
}

uint32_t MmioTransport::status() const {
  std::lock_guard lock(mu_);
  return status_;
}

uint32_t MmioTransport::interrupt_status() const {
  std::lock_guard lock(mu_);
  return interrupt_status_;
}

std::string MmioTransport::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

}  // namespace bulkhead::vmm
