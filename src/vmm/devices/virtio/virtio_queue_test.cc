#include <gtest/gtest.h>

#include "vmm/devices/virtio/queue.h"
#include "vmm/devices/virtio/test_ring.h"

namespace bulkhead::vmm {
namespace {

using testing::kDescIndirect;
using testing::kDescNext;
using testing::kDescWrite;

constexpr uint64_t kMemBytes = 1 << 20;
constexpr uint64_t kBuf = 0x10000;

class QueueTest : public ::testing::Test {
 protected:
  QueueTest() : mem_(testing::MakeMemory(kMemBytes)), ring_(mem_, 8, 0x1000, 0x2000, 0x3000), q_(16) {}

  void Activate(bool indirect = false) {
    ring_.Configure(q_);
    ASSERT_TRUE(q_.Activate(mem_, indirect).ok());
  }
  // Pops and expects a protocol error that breaks the queue.
  void ExpectBroken() {
    auto r = q_.Pop(mem_);
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(q_.broken());
    EXPECT_FALSE(q_.Pop(mem_).ok());  // and it stays broken
  }
  DescriptorChain PopOne() {
    auto r = q_.Pop(mem_);
    EXPECT_TRUE(r.ok()) << r.error().message();
    if (!r.ok() || !r->has_value()) {
      ADD_FAILURE() << "no chain";
      return {};
    }
    return std::move(**r);
  }

  GuestMemory mem_;
  testing::TestRing ring_;
  Virtqueue q_;
};

TEST_F(QueueTest, PopsAChainInOrderAndReturnsItUsed) {
  Activate();
  ring_.SetDesc(3, kBuf, 16, kDescNext, 5);
  ring_.SetDesc(5, kBuf + 0x100, 512, kDescNext, 1);
  ring_.SetDesc(1, kBuf + 0x400, 1, kDescWrite);
  ring_.Publish(3);

  DescriptorChain c = PopOne();
  EXPECT_EQ(c.head, 3);
  ASSERT_EQ(c.descriptors.size(), 3u);
  EXPECT_EQ(c.descriptors[0].addr.raw(), kBuf);
  EXPECT_EQ(c.descriptors[1].len, 512u);
  EXPECT_FALSE(c.descriptors[1].writable);
  EXPECT_TRUE(c.descriptors[2].writable);
  EXPECT_EQ(c.readable_bytes, 528u);
  EXPECT_EQ(c.writable_bytes, 1u);

  auto empty = q_.Pop(mem_);
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->has_value());

  EXPECT_FALSE(q_.TakeInterruptNeeded(mem_));
  ASSERT_TRUE(q_.AddUsed(mem_, c.head, 1).ok());
  EXPECT_EQ(ring_.UsedIdx(), 1);
  EXPECT_EQ(ring_.UsedId(0), 3u);
  EXPECT_EQ(ring_.UsedLen(0), 1u);
  EXPECT_TRUE(q_.TakeInterruptNeeded(mem_));
  EXPECT_FALSE(q_.TakeInterruptNeeded(mem_));  // taken
}

TEST_F(QueueTest, DriverCanSuppressInterrupts) {
  Activate();
  ring_.SetDesc(0, kBuf, 8);
  ring_.Publish(0);
  ring_.SetAvailFlags(1);  // VIRTQ_AVAIL_F_NO_INTERRUPT
  DescriptorChain c = PopOne();
  ASSERT_TRUE(q_.AddUsed(mem_, c.head, 0).ok());
  EXPECT_FALSE(q_.TakeInterruptNeeded(mem_));
}

TEST_F(QueueTest, SixteenBitIndexesWrapAround) {
  Activate();
  ring_.SetDesc(0, kBuf, 8, kDescWrite);
  ring_.SetDesc(1, kBuf + 8, 8, kDescWrite);
  // Well past 65535 in both rings, two chains in flight at a time.
  for (uint32_t i = 0; i < 70000; i += 2) {
    ring_.Publish(0);
    ring_.Publish(1);
    DescriptorChain a = PopOne();
    DescriptorChain b = PopOne();
    ASSERT_EQ(a.head, 0);
    ASSERT_EQ(b.head, 1);
    ASSERT_TRUE(q_.AddUsed(mem_, a.head, i).ok());
    ASSERT_TRUE(q_.AddUsed(mem_, b.head, i + 1).ok());
  }
  EXPECT_EQ(ring_.UsedIdx(), static_cast<uint16_t>(70000));
  EXPECT_EQ(ring_.UsedLen(static_cast<uint16_t>(69999)), 69999u);
  EXPECT_EQ(ring_.UsedId(static_cast<uint16_t>(69998)), 0u);
  EXPECT_FALSE(q_.broken());
}

TEST_F(QueueTest, AvailIndexMayBeAWholeRingAheadButNoMore) {
  Activate();
  for (uint16_t i = 0; i < 8; ++i) {
    ring_.SetDesc(i, kBuf, 8);
    ring_.Publish(i);
  }
  for (uint16_t i = 0; i < 8; ++i) EXPECT_EQ(PopOne().head, i);
  ring_.SetAvailIdx(8 + 9);  // nine more in a ring of eight
  ExpectBroken();
}

TEST_F(QueueTest, ResetClearsABrokenQueue) {
  Activate();
  ring_.SetAvailIdx(100);
  ExpectBroken();
  q_.Reset();
  EXPECT_FALSE(q_.broken());
  EXPECT_FALSE(q_.active());
  EXPECT_EQ(q_.size(), 16);
  EXPECT_FALSE(q_.Pop(mem_).ok());  // not active until set up again
}

TEST_F(QueueTest, HeadOutsideTheTableBreaks) {
  Activate();
  ring_.Publish(8);
  ExpectBroken();
}

TEST_F(QueueTest, NextOutsideTheTableBreaks) {
  Activate();
  ring_.SetDesc(0, kBuf, 8, kDescNext, 8);
  ring_.Publish(0);
  ExpectBroken();
}

TEST_F(QueueTest, ChainThatLoopsBreaks) {
  Activate();
  ring_.SetDesc(0, kBuf, 8, kDescNext, 1);
  ring_.SetDesc(1, kBuf, 8, kDescNext, 0);
  ring_.Publish(0);
  ExpectBroken();
}

TEST_F(QueueTest, SelfLoopBreaks) {
  Activate();
  ring_.SetDesc(2, kBuf, 8, kDescNext, 2);
  ring_.Publish(2);
  ExpectBroken();
}

TEST_F(QueueTest, ChainAsLongAsTheRingIsAccepted) {
  Activate();
  for (uint16_t i = 0; i < 8; ++i) ring_.SetDesc(i, kBuf + i, 1, i < 7 ? kDescNext : 0, static_cast<uint16_t>(i + 1));
  ring_.Publish(0);
  EXPECT_EQ(PopOne().descriptors.size(), 8u);
}

TEST_F(QueueTest, BufferOutsideGuestMemoryBreaks) {
  Activate();
  ring_.SetDesc(0, kMemBytes - 4, 8);
  ring_.Publish(0);
  ExpectBroken();
}

TEST_F(QueueTest, BufferWhoseEndWrapsBreaks) {
  Activate();
  ring_.SetDesc(0, UINT64_MAX - 3, 16);
  ring_.Publish(0);
  ExpectBroken();
}

TEST_F(QueueTest, ReadableAfterWritableBreaks) {
  Activate();
  ring_.SetDesc(0, kBuf, 8, kDescWrite | kDescNext, 1);
  ring_.SetDesc(1, kBuf, 8, 0);
  ring_.Publish(0);
  ExpectBroken();
}

TEST_F(QueueTest, ZeroLengthWritableThenReadableStillBreaks) {
  Activate();
  ring_.SetDesc(0, kBuf, 0, kDescWrite | kDescNext, 1);
  ring_.SetDesc(1, kBuf, 8, 0);
  ring_.Publish(0);
  ExpectBroken();
}

TEST_F(QueueTest, IndirectTableIsWalkedInItsOwnIndexSpace) {
  Activate(/*indirect=*/true);
  const uint64_t table = 0x8000;
  // Entries chained 0 -> 2 -> 1; the WRITE flag on the pointing descriptor is ignored.
  ring_.WriteDescAt(table + 0, kBuf, 16, kDescNext, 2);
  ring_.WriteDescAt(table + 32, kBuf + 0x100, 4096, kDescNext, 1);
  ring_.WriteDescAt(table + 16, kBuf + 0x2000, 1, kDescWrite, 0);
  ring_.SetDesc(4, table, 48, kDescIndirect | kDescWrite);
  ring_.Publish(4);
  DescriptorChain c = PopOne();
  EXPECT_EQ(c.head, 4);
  ASSERT_EQ(c.descriptors.size(), 3u);
  EXPECT_EQ(c.descriptors[1].len, 4096u);
  EXPECT_EQ(c.descriptors[2].addr.raw(), kBuf + 0x2000);
  EXPECT_EQ(c.readable_bytes, 4112u);
  EXPECT_EQ(c.writable_bytes, 1u);
}

TEST_F(QueueTest, IndirectTableMayHoldMoreEntriesThanTheRing) {
  Activate(true);
  const uint64_t table = 0x8000;
  for (uint16_t i = 0; i < 100; ++i) ring_.WriteDescAt(table + 16ull * i, kBuf, 1, i < 99 ? kDescNext : 0, static_cast<uint16_t>(i + 1));
  ring_.SetDesc(0, table, 1600, kDescIndirect);
  ring_.Publish(0);
  EXPECT_EQ(PopOne().descriptors.size(), 100u);
}

TEST_F(QueueTest, IndirectWithoutTheFeatureBreaks) {
  Activate(false);
  ring_.WriteDescAt(0x8000, kBuf, 8, 0, 0);
  ring_.SetDesc(0, 0x8000, 16, kDescIndirect);
  ring_.Publish(0);
  ExpectBroken();
}

struct BadIndirect {
  const char* name;
  uint32_t len;             // length of the table descriptor
  uint16_t outer_flags;     // flags of the descriptor in the ring
  uint16_t inner_flags;     // flags of table entry 0
  uint16_t inner_next;
  uint64_t table = 0x8000;  // table address
};

class QueueIndirectErrors : public QueueTest, public ::testing::WithParamInterface<BadIndirect> {};

TEST_P(QueueIndirectErrors, Break) {
  const BadIndirect& p = GetParam();
  Activate(true);
  ring_.WriteDescAt(0x8000, kBuf, 8, p.inner_flags, p.inner_next);
  ring_.WriteDescAt(0x8010, kBuf, 8, 0, 0);
  ring_.SetDesc(0, p.table, p.len, p.outer_flags, 1);
  ring_.SetDesc(1, kBuf, 8, 0, 0);
  ring_.Publish(0);
  ExpectBroken();
}

INSTANTIATE_TEST_SUITE_P(
    All, QueueIndirectErrors,
    ::testing::Values(BadIndirect{"LengthNotMultipleOf16", 24, kDescIndirect, 0, 0},
                      BadIndirect{"EmptyTable", 0, kDescIndirect, 0, 0},
                      BadIndirect{"TooManyEntries", 16 * 257, kDescIndirect, 0, 0},
                      BadIndirect{"WithNext", 32, kDescIndirect | kDescNext, 0, 0},
                      BadIndirect{"Nested", 32, kDescIndirect, kDescIndirect, 0},
                      BadIndirect{"InnerLoop", 32, kDescIndirect, kDescNext, 0},
                      BadIndirect{"InnerNextOutOfTable", 32, kDescIndirect, kDescNext, 2},
                      BadIndirect{"TableOutsideMemory", 32, kDescIndirect, 0, 0, kMemBytes - 16}),
    [](const auto& test_info) { return std::string(test_info.param.name); });

TEST_F(QueueTest, IndirectAfterADirectDescriptorBreaks) {
  Activate(true);
  ring_.WriteDescAt(0x8000, kBuf, 8, 0, 0);
  ring_.SetDesc(0, kBuf, 8, kDescNext, 1);
  ring_.SetDesc(1, 0x8000, 16, kDescIndirect);
  ring_.Publish(0);
  ExpectBroken();
}

TEST_F(QueueTest, ValidateChecksSizeAlignmentAndPlacement) {
  auto check = [&](uint16_t size, uint64_t desc, uint64_t avail, uint64_t used) {
    Virtqueue q(16);
    testing::TestRing(mem_, size, desc, avail, used).Configure(q);
    return q.Activate(mem_, false).ok();
  };
  EXPECT_TRUE(check(16, 0x1000, 0x2002, 0x3004));
  EXPECT_TRUE(check(1, 0x1000, 0x2000, 0x3000));
  EXPECT_FALSE(check(0, 0x1000, 0x2000, 0x3000));
  EXPECT_FALSE(check(12, 0x1000, 0x2000, 0x3000));  // not a power of two
  EXPECT_FALSE(check(32, 0x1000, 0x2000, 0x3000));  // above QueueNumMax
  EXPECT_FALSE(check(16, 0x1008, 0x2000, 0x3000));
  EXPECT_FALSE(check(16, 0x1000, 0x2001, 0x3000));
  EXPECT_FALSE(check(16, 0x1000, 0x2000, 0x3002));
  EXPECT_FALSE(check(16, kMemBytes - 16 * 8, 0x2000, 0x3000));  // table runs off the end
  EXPECT_FALSE(check(16, 0x1000, kMemBytes - 36, 0x3000));     // avail ring needs 38 bytes
  EXPECT_TRUE(check(16, 0x1000, kMemBytes - 38, 0x3000));
  EXPECT_FALSE(check(16, 0x1000, 0x2000, kMemBytes - 132));    // used ring needs 134 bytes
  EXPECT_FALSE(check(16, 0x1000, 0x2000, UINT64_MAX - 3));
}

TEST_F(QueueTest, SettersAreIgnoredWhileActive) {
  Activate();
  q_.set_desc_table(GuestAddress(kMemBytes + 0x1000));
  q_.set_size(2);
  EXPECT_EQ(q_.desc_table().raw(), 0x1000u);
  EXPECT_EQ(q_.size(), 8);
}

TEST_F(QueueTest, AddUsedRefusesHeadsOutsideTheTable) {
  Activate();
  EXPECT_FALSE(q_.AddUsed(mem_, 8, 0).ok());
  EXPECT_EQ(ring_.UsedIdx(), 0);
}

}  // namespace
}  // namespace bulkhead::vmm
