#include <gtest/gtest.h>
#include <poll.h>

#include <algorithm>

#include "vmm/devices/virtio/mmio.h"
#include "vmm/devices/virtio/rng.h"
#include "vmm/devices/virtio/test_driver.h"
#include "vmm/devices/virtio/test_ring.h"

namespace bulkhead::vmm {
namespace {

using testing::kDescNext;
using testing::kDescWrite;

constexpr uint64_t kMem = 4 << 20;
constexpr uint64_t kBuf = 0x100000;

class RngTest : public ::testing::Test {
 protected:
  RngTest() : mem_(testing::MakeMemory(kMem)), ring_(mem_, 8, 0x1000, 0x2000, 0x3000) {
    auto irq = Interrupt::Create();
    EXPECT_TRUE(irq.ok());
    auto t = MmioTransport::Create(mem_, std::make_unique<VirtioRng>(), std::move(*irq));
    EXPECT_TRUE(t.ok());
    transport_ = std::move(*t);
    driver_ = std::make_unique<testing::TestDriver>(*transport_);
    EXPECT_TRUE(driver_->Init(kVirtioFVersion1, {&ring_}));
  }
  size_t NonZero(uint64_t at, size_t n) {
    std::vector<uint8_t> v(n);
    EXPECT_TRUE(mem_.Read(GuestAddress(at), v).ok());
    return static_cast<size_t>(std::count_if(v.begin(), v.end(), [](uint8_t b) { return b != 0; }));
  }

  GuestMemory mem_;
  testing::TestRing ring_;
  std::shared_ptr<MmioTransport> transport_;
  std::unique_ptr<testing::TestDriver> driver_;
};

TEST_F(RngTest, FillsEveryWritableBufferAndSkipsReadableOnes) {
  ring_.SetDesc(0, kBuf, 100, kDescNext, 1);  // readable: left alone
  ring_.SetDesc(1, kBuf + 0x1000, 300, kDescWrite | kDescNext, 2);
  ring_.SetDesc(2, kBuf + 0x2000, 212, kDescWrite);
  ring_.Publish(0);
  driver_->Notify(0);
  ASSERT_EQ(ring_.UsedIdx(), 1);
  EXPECT_EQ(ring_.UsedLen(0), 512u);
  EXPECT_EQ(NonZero(kBuf, 100), 0u);
  EXPECT_GT(NonZero(kBuf + 0x1000, 300), 250u);  // ~1/256 of random bytes are 0
  EXPECT_GT(NonZero(kBuf + 0x2000, 212), 170u);
}

TEST_F(RngTest, EachRequestIsBounded) {
  ring_.SetDesc(0, kBuf, 1 << 20, kDescWrite);
  ring_.Publish(0);
  driver_->Notify(0);
  ASSERT_EQ(ring_.UsedIdx(), 1);
  EXPECT_EQ(ring_.UsedLen(0), VirtioRng::kMaxBytesPerRequest);
  EXPECT_EQ(NonZero(kBuf + VirtioRng::kMaxBytesPerRequest, 4096), 0u);  // nothing past the bound
}

TEST_F(RngTest, ChainWithoutWritableBuffersGetsNothing) {
  ring_.SetDesc(0, kBuf, 64, 0);
  ring_.Publish(0);
  driver_->Notify(0);
  ASSERT_EQ(ring_.UsedIdx(), 1);
  EXPECT_EQ(ring_.UsedLen(0), 0u);
}

// A kick that reaches the transport as an MMIO write (KVM did not catch it
// with the ioeventfd) must not do the work on the writing vCPU thread: it only
// signals the queue's eventfd, for the event loop.
TEST_F(RngTest, MmioKickOnlySignalsTheEventLoop) {
  ring_.SetDesc(0, kBuf, 64, kDescWrite);
  ring_.Publish(0);
  uint8_t bytes[4] = {0, 0, 0, 0};
  transport_->Write(mmio::kQueueNotify, bytes);
  EXPECT_EQ(ring_.UsedIdx(), 0);
  pollfd p{transport_->queue_notify_fd(0), POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 0), 1);
  transport_->ProcessQueue(0);
  EXPECT_EQ(ring_.UsedIdx(), 1);
  EXPECT_EQ(poll(&p, 1, 0), 0);  // ProcessQueue drained the kick
}

}  // namespace
}  // namespace bulkhead::vmm
