#include "vmm/devices/event_fd.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <utility>

#include "base/syscall.h"

namespace bulkhead::vmm {

Result<EventFd> EventFd::Create() {
  int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return Error::FromErrno("creating an eventfd");
  return EventFd(UniqueFd(fd));
}

void EventFd::Signal(uint64_t value) const {
  // An eventfd write is all-or-nothing; EAGAIN only at a saturated counter.
  (void)RetryEintr([&] { return write(fd_.get(), &value, sizeof value); });
}

uint64_t EventFd::Drain() const {
  uint64_t value = 0;
  ssize_t n = RetryEintr([&] { return read(fd_.get(), &value, sizeof value); });
  return n == static_cast<ssize_t>(sizeof value) ? value : 0;
}

Result<Interrupt> Interrupt::Create() {
  BH_ASSIGN(EventFd event, EventFd::Create());
  return Interrupt(std::move(event));
}

}  // namespace bulkhead::vmm
