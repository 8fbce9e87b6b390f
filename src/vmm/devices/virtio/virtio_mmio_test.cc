#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "vmm/devices/virtio/mmio.h"
#include "vmm/devices/virtio/rng.h"
#include "vmm/devices/virtio/test_driver.h"
#include "vmm/devices/virtio/test_ring.h"

namespace bulkhead::vmm {
namespace {

using testing::Fired;
using testing::kDescWrite;
using testing::TestDriver;
using testing::TestRing;

constexpr uint64_t kMem = 1 << 20;
constexpr uint64_t kBuf = 0x40000;
constexpr uint32_t kAllOk = kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk | kStatusDriverOk;

// The transport around a real device (virtio-rng: one queue, no config).
class MmioTest : public ::testing::Test {
 protected:
  MmioTest() : mem_(testing::MakeMemory(kMem)), ring_(mem_, 16, 0x1000, 0x2000, 0x3000) {
    auto irq = Interrupt::Create();
    EXPECT_TRUE(irq.ok());
    irq_fd_ = irq->fd();
    auto t = MmioTransport::Create(mem_, std::make_unique<VirtioRng>(), std::move(*irq));
    EXPECT_TRUE(t.ok()) << t.error().message();
    transport_ = std::move(*t);
    driver_ = std::make_unique<TestDriver>(*transport_);
  }

  GuestMemory mem_;
  TestRing ring_;
  int irq_fd_ = -1;
  std::shared_ptr<MmioTransport> transport_;
  std::unique_ptr<TestDriver> driver_;
};

TEST_F(MmioTest, IdentifiesAsModernVirtioMmio) {
  EXPECT_EQ(driver_->Read32(mmio::kMagicValue), 0x74726976u);
  EXPECT_EQ(driver_->Read32(mmio::kVersion), 2u);
  EXPECT_EQ(driver_->Read32(mmio::kDeviceId), kVirtioIdRng);
  EXPECT_EQ(driver_->Read32(mmio::kVendorId), mmio::kVendor);
  EXPECT_EQ(driver_->DeviceFeatures(), kVirtioFVersion1);
  driver_->Write32(mmio::kDeviceFeaturesSel, 2);
  EXPECT_EQ(driver_->Read32(mmio::kDeviceFeatures), 0u);
  EXPECT_EQ(driver_->Read32(mmio::kShmLenLow), UINT32_MAX);  // no shared memory region
  EXPECT_EQ(driver_->Read32(mmio::kStatus), 0u);
}

TEST_F(MmioTest, FullBringUpThenARequestCompletesWithAnInterrupt) {
  ASSERT_TRUE(driver_->Init(kVirtioFVersion1, {&ring_}));
  EXPECT_EQ(Fired(irq_fd_), 0u);
  ring_.SetDesc(0, kBuf, 64, kDescWrite);
  ring_.Publish(0);
  driver_->Notify(0);
  EXPECT_EQ(ring_.UsedIdx(), 1);
  EXPECT_EQ(ring_.UsedId(0), 0u);
  EXPECT_EQ(ring_.UsedLen(0), 64u);
  std::vector<uint8_t> bytes(64);
  ASSERT_TRUE(mem_.Read(GuestAddress(kBuf), bytes).ok());
  EXPECT_NE(std::count(bytes.begin(), bytes.end(), 0), 64);  // 2^-512 to fail by chance
  EXPECT_EQ(Fired(irq_fd_), 1u);
  EXPECT_EQ(driver_->TakeInterrupt(), mmio::kInterruptUsedBuffer);
  EXPECT_EQ(driver_->Read32(mmio::kInterruptStatus), 0u);
}

TEST_F(MmioTest, NotifyEventFdPathDrainsAndProcesses) {
  ASSERT_TRUE(driver_->Init(kVirtioFVersion1, {&ring_}));
  ring_.SetDesc(0, kBuf, 8, kDescWrite);
  ring_.Publish(0);
  const int fd = transport_->queue_notify_fd(0);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(transport_->queue_notify_fd(1), -1);
  uint64_t one = 1;
  ASSERT_EQ(write(fd, &one, sizeof one), 8);  // what KVM does on the guest's QueueNotify write
  transport_->ProcessQueue(0);
  EXPECT_EQ(ring_.UsedIdx(), 1);
  EXPECT_EQ(Fired(fd), 0u);  // drained
}

TEST_F(MmioTest, FullRingIsServedWithinTheBudgetAndRequeued) {
  TestRing big(mem_, Virtqueue::kMaxSizeLimit, 0x10000, 0x20000, 0x30000);
  ASSERT_TRUE(driver_->Init(kVirtioFVersion1, {&big}));
  for (uint16_t i = 0; i < big.size(); ++i) {
    big.SetDesc(i, kBuf + i, 1, kDescWrite);
    big.Publish(i);
  }
  transport_->ProcessQueue(0);
  EXPECT_EQ(big.UsedIdx(), big.size());
  // The budget ran out exactly at the end, so the transport asked to be called again.
  EXPECT_EQ(Fired(transport_->queue_notify_fd(0)), 1u);
  transport_->ProcessQueue(0);
  EXPECT_EQ(Fired(transport_->queue_notify_fd(0)), 0u);
}

TEST_F(MmioTest, FeaturesOkRefusedForUnofferedOrLegacyFeatures) {
  EXPECT_FALSE(driver_->Negotiate(kVirtioFVersion1 | kVirtioFIndirectDesc));  // rng does not offer it
  EXPECT_FALSE(driver_->Negotiate(0));  // legacy interface
  EXPECT_EQ(driver_->Read32(mmio::kStatus), kStatusAcknowledge | kStatusDriver);
  EXPECT_TRUE(driver_->Negotiate(kVirtioFVersion1));
}

TEST_F(MmioTest, StatusStepsOutOfOrderAreIgnored) {
  driver_->Write32(mmio::kStatus, kStatusDriver);  // before ACKNOWLEDGE
  EXPECT_EQ(driver_->Read32(mmio::kStatus), 0u);
  driver_->Write32(mmio::kStatus, kStatusAcknowledge);
  driver_->Write32(mmio::kStatus, kStatusAcknowledge | kStatusDriverOk);  // skips steps
  EXPECT_EQ(driver_->Read32(mmio::kStatus), kStatusAcknowledge);
  driver_->Write32(mmio::kStatus, kStatusAcknowledge | kStatusDriver);
  driver_->Write32(mmio::kStatus, kStatusDriver);  // clearing a bit needs a reset
  EXPECT_EQ(driver_->Read32(mmio::kStatus), kStatusAcknowledge | kStatusDriver);
  driver_->Write32(mmio::kStatus, kStatusAcknowledge | kStatusDriver | kStatusNeedsReset);
  EXPECT_EQ(driver_->Read32(mmio::kStatus), kStatusAcknowledge | kStatusDriver);  // not the driver's bit
  driver_->Write32(mmio::kStatus, kStatusAcknowledge | kStatusDriver | kStatusFailed);
  EXPECT_EQ(driver_->Read32(mmio::kStatus), kStatusAcknowledge | kStatusDriver | kStatusFailed);
}

TEST_F(MmioTest, QueueRegistersOnlyBetweenFeaturesOkAndDriverOk) {
  driver_->Write32(mmio::kQueueSel, 0);
  driver_->Write32(mmio::kQueueNum, 4);
  driver_->Write32(mmio::kQueueReady, 1);
  EXPECT_EQ(driver_->Read32(mmio::kQueueReady), 0u);  // before FEATURES_OK: ignored
  ASSERT_TRUE(driver_->Init(kVirtioFVersion1, {&ring_}));
  driver_->Write32(mmio::kQueueDescLow, 0x5000);  // after DRIVER_OK: ignored
  ring_.SetDesc(0, kBuf, 8, kDescWrite);
  ring_.Publish(0);
  driver_->Notify(0);
  EXPECT_EQ(ring_.UsedIdx(), 1);
  driver_->Write32(mmio::kQueueSel, 1);
  EXPECT_EQ(driver_->Read32(mmio::kQueueNumMax), 0u);  // no second queue
}

TEST_F(MmioTest, BadQueueConfigurationNeedsReset) {
  TestRing odd(mem_, 12, 0x1000, 0x2000, 0x3000);  // not a power of two
  EXPECT_FALSE(driver_->Init(kVirtioFVersion1, {&odd}));
  EXPECT_EQ(driver_->Read32(mmio::kStatus) & (kStatusNeedsReset | kStatusDriverOk), kStatusNeedsReset);
  EXPECT_EQ(Fired(irq_fd_), 1u);
  EXPECT_EQ(driver_->TakeInterrupt(), mmio::kInterruptConfigChange);
  EXPECT_NE(transport_->last_error().find("queue 0"), std::string::npos) << transport_->last_error();
  // Reset and a proper setup recover.
  EXPECT_TRUE(driver_->Init(kVirtioFVersion1, {&ring_}));
}

TEST_F(MmioTest, QueueNotReadyAtDriverOkNeedsReset) {
  ASSERT_TRUE(driver_->Negotiate(kVirtioFVersion1));
  driver_->DriverOk();
  EXPECT_NE(driver_->Read32(mmio::kStatus) & kStatusNeedsReset, 0u);
  EXPECT_EQ(driver_->Read32(mmio::kStatus) & kStatusDriverOk, 0u);
}

TEST_F(MmioTest, RingOutsideGuestMemoryNeedsReset) {
  TestRing far(mem_, 16, kMem, 0x2000, 0x3000);
  EXPECT_FALSE(driver_->Init(kVirtioFVersion1, {&far}));
  EXPECT_NE(driver_->Read32(mmio::kStatus) & kStatusNeedsReset, 0u);
}

TEST_F(MmioTest, BrokenRingStopsTheDeviceUntilReset) {
  ASSERT_TRUE(driver_->Init(kVirtioFVersion1, {&ring_}));
  ring_.SetAvailIdx(1000);
  driver_->Notify(0);
  EXPECT_NE(driver_->Read32(mmio::kStatus) & kStatusNeedsReset, 0u);
  EXPECT_EQ(driver_->TakeInterrupt(), mmio::kInterruptConfigChange);
  ring_.SetAvailIdx(0);
  driver_->Notify(0);
  EXPECT_EQ(ring_.UsedIdx(), 0);  // ignored while it needs a reset
  driver_->Write32(mmio::kStatus, 0);
  EXPECT_EQ(driver_->Read32(mmio::kStatus), 0u);
  EXPECT_EQ(driver_->Read32(mmio::kQueueReady), 0u);
  EXPECT_FALSE(transport_->last_error().empty());  // kept for the log
}

TEST_F(MmioTest, NotifyBeforeDriverOkAndForUnknownQueuesIsIgnored) {
  ring_.SetDesc(0, kBuf, 8, kDescWrite);
  ring_.Publish(0);
  driver_->Notify(0);
  transport_->ProcessQueue(0);
  transport_->ProcessQueue(7);
  EXPECT_EQ(ring_.UsedIdx(), 0);
  ASSERT_TRUE(driver_->Init(kVirtioFVersion1, {&ring_}));
  driver_->Notify(5);
  EXPECT_EQ(driver_->Read32(mmio::kStatus), kAllOk);
}

TEST_F(MmioTest, BuffersPostedBeforeDriverOkAreServedAtActivation) {
  ASSERT_TRUE(driver_->Negotiate(kVirtioFVersion1));
  driver_->SetupQueue(0, ring_);
  ring_.SetDesc(0, kBuf, 8, kDescWrite);
  ring_.Publish(0);
  driver_->Notify(0);  // too early: dropped
  EXPECT_EQ(ring_.UsedIdx(), 0);
  driver_->DriverOk();
  EXPECT_EQ(ring_.UsedIdx(), 1);
}

// vCPU threads handle MMIO while the event loop processes the queue.
TEST_F(MmioTest, ConcurrentNotifyAndInterruptHandling) {
  ASSERT_TRUE(driver_->Init(kVirtioFVersion1, {&ring_}));
  std::atomic<bool> done{false};
  std::thread vcpu([&] {
    while (!done.load()) {
      driver_->TakeInterrupt();
      driver_->Read32(mmio::kQueueReady);
    }
  });
  const uint16_t total = 2000;
  for (uint16_t i = 0; i < total; ++i) {
    const uint16_t d = static_cast<uint16_t>(i % ring_.size());
    ring_.SetDesc(d, kBuf + 8u * d, 8, kDescWrite);
    ring_.Publish(d);
    transport_->ProcessQueue(0);
  }
  done = true;
  vcpu.join();
  EXPECT_EQ(ring_.UsedIdx(), total);
  EXPECT_EQ(driver_->Read32(mmio::kStatus), kAllOk);
}

TEST_F(MmioTest, OddRegisterAccessesAreIgnored) {
  uint8_t two[2] = {0xff, 0xff};
  transport_->Read(mmio::kMagicValue, two);
  EXPECT_EQ(two[0], 0);
  uint8_t one = kStatusAcknowledge;
  transport_->Write(mmio::kStatus, {&one, 1});
  EXPECT_EQ(driver_->Read32(mmio::kStatus), 0u);
  EXPECT_EQ(driver_->Read32(mmio::kMagicValue + 2), 0u);  // misaligned
  uint8_t eight[8];
  transport_->Read(mmio::kConfig, eight);  // rng has no config space
  EXPECT_EQ(eight[0], 0);
  transport_->Read(mmio::kWindowSize + 0x100, {eight, 4});
}

}  // namespace
}  // namespace bulkhead::vmm
