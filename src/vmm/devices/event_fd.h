// An eventfd: the wakeup every device shares with KVM and the event loop. KVM
// raises a guest interrupt when an irqfd is written and writes an ioeventfd when
// the guest kicks a queue; the event loop polls them.
#pragma once

#include <cstdint>
#include <utility>

#include "base/result.h"
#include "base/unique_fd.h"

namespace bulkhead::vmm {

class EventFd {
 public:
  // Non-blocking and close-on-exec, counter starting at 0.
  static Result<EventFd> Create();

  EventFd() = default;
  int fd() const { return fd_.get(); }
  bool valid() const { return fd_.valid(); }

  // Adds `value` to the counter. Only fails when the counter would pass its
  // maximum (2^64-2), which no caller reaches; that failure is ignored.
  void Signal(uint64_t value = 1) const;
  // Reads and clears the counter; 0 when it was already 0.
  uint64_t Drain() const;

 private:
  explicit EventFd(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

// A device's interrupt line. The builder binds fd() to the device's GSI with
// KVM_IRQFD, so Trigger() becomes an edge on that line in the in-kernel irqchip.
class Interrupt {
 public:
  static Result<Interrupt> Create();

  Interrupt() = default;
  int fd() const { return event_.fd(); }
  void Trigger() const { event_.Signal(1); }

 private:
  explicit Interrupt(EventFd event) : event_(std::move(event)) {}
  EventFd event_;
};

}  // namespace bulkhead::vmm
