// The interface between the virtio-mmio transport and a device model. The
// transport owns the registers, feature negotiation and the queues; a device
// supplies its identity, features and config space and turns popped chains
// into work. Every call comes from the transport under its lock, so a device
// needs no lock of its own for state it touches only through these calls.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/result.h"
#include "vmm/devices/virtio/queue.h"
#include "vmm/memory/guest_memory.h"

namespace bulkhead::vmm {

// Device IDs (virtio 1.x section 5).
constexpr uint32_t kVirtioIdBlock = 2;
constexpr uint32_t kVirtioIdConsole = 3;
constexpr uint32_t kVirtioIdRng = 4;

// Transport feature bits (section 6).
constexpr uint64_t kVirtioFIndirectDesc = 1ull << 28;
constexpr uint64_t kVirtioFVersion1 = 1ull << 32;

// Most chains a device handles per ProcessQueue() call before it yields, so
// a driver that keeps its ring full cannot hold the event loop on one queue.
constexpr uint32_t kQueueBudget = 256;

enum class QueueWork {
  kDone,  // nothing left that can be done now
  kMore,  // the budget ran out with chains still available: call again
};

// An fd the event loop watches for the device (epoll, edge-triggered: the
// device drains it until EAGAIN or until it has nowhere to put the data).
struct DeviceEventSource {
  int fd = -1;
  uint32_t events = 0;  // for epoll_ctl as is: EPOLLIN or EPOLLOUT, with EPOLLET
};

class VirtioDevice {
 public:
  virtual ~VirtioDevice() = default;

  virtual uint32_t device_type() const = 0;
  virtual uint16_t queue_count() const = 0;
  // QueueNumMax of every queue: a power of two up to Virtqueue::kMaxSizeLimit.
  virtual uint16_t queue_max_size() const { return Virtqueue::kMaxSizeLimit; }
  // Offered features; must include kVirtioFVersion1.
  virtual uint64_t features() const = 0;

  // Device config space: the transport passes only accesses that lie wholly
  // inside [0, config_size()).
  virtual uint32_t config_size() const = 0;
  virtual void ReadConfig(uint64_t offset, std::span<uint8_t> data) const = 0;
  virtual void WriteConfig(uint64_t offset, std::span<const uint8_t> data) {
    (void)offset;
    (void)data;  // read-only by default: writes are ignored
  }

  // DRIVER_OK: `features` is what the driver accepted (a subset of features()),
  // every queue is ready and validated. An error leaves the device unusable
  // until reset (the transport reports DEVICE_NEEDS_RESET).
  virtual Status Activate(uint64_t features) = 0;

  // The driver notified queue `index` (or work is pending on it). Returns an
  // error only when the queue protocol broke; a malformed request is answered
  // with an error status on the request instead.
  virtual Result<QueueWork> ProcessQueue(uint16_t index, GuestMemory& mem,
                                         std::span<Virtqueue> queues) = 0;

  // Host-side fds the device reads or writes (console input/output); the
  // event loop calls the transport's ProcessDeviceEvent() when one is ready.
  // kMore: the budget ran out with work left (the transport re-kicks).
  virtual std::vector<DeviceEventSource> event_sources() const { return {}; }
  virtual Result<QueueWork> OnEvent(GuestMemory& mem, std::span<Virtqueue> queues) {
    (void)mem;
    (void)queues;
    return QueueWork::kDone;
  }

  // Device reset (status 0): drop any in-flight state.
  virtual void Reset() = 0;
};

}  // namespace bulkhead::vmm
