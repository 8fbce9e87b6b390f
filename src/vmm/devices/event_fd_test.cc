#include "vmm/devices/event_fd.h"

#include <gtest/gtest.h>
#include <poll.h>

namespace bulkhead::vmm {
namespace {

bool Readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}

TEST(EventFd, SignalAddsAndDrainClears) {
  auto ev = EventFd::Create();
  ASSERT_TRUE(ev.ok()) << ev.error().message();
  EXPECT_FALSE(Readable(ev->fd()));
  EXPECT_EQ(ev->Drain(), 0u);  // non-blocking: an empty counter reads as 0
  ev->Signal();
  ev->Signal(2);
  EXPECT_TRUE(Readable(ev->fd()));
  EXPECT_EQ(ev->Drain(), 3u);
  EXPECT_FALSE(Readable(ev->fd()));
}

TEST(Interrupt, TriggerMakesTheFdReadable) {
  auto irq = Interrupt::Create();
  ASSERT_TRUE(irq.ok()) << irq.error().message();
  EXPECT_FALSE(Readable(irq->fd()));
  irq->Trigger();
  EXPECT_TRUE(Readable(irq->fd()));
  uint64_t v = 0;
  ASSERT_EQ(read(irq->fd(), &v, sizeof v), static_cast<ssize_t>(sizeof v));
  EXPECT_EQ(v, 1u);
}

TEST(EventFd, DefaultConstructedIsInvalid) {
  EventFd ev;
  EXPECT_FALSE(ev.valid());
  ev.Signal();  // a write to fd -1 fails quietly
  EXPECT_EQ(ev.Drain(), 0u);
}

}  // namespace
}  // namespace bulkhead::vmm
