#include "vmm/memory/guest_memory.h"

#include <gtest/gtest.h>

#include <array>

namespace bulkhead::vmm {
namespace {

constexpr uint64_t kPage = 4096;

GuestMemory TwoRegions() {
  auto mem = GuestMemory::Create({{GuestAddress(0), 4 * kPage}, {GuestAddress(16 * kPage), 2 * kPage}});
  EXPECT_TRUE(mem.ok()) << mem.error().message();
  return std::move(mem).value();
}

TEST(GuestAddress, CheckedAddRefusesOverflow) {
  EXPECT_EQ(GuestAddress(10).CheckedAdd(5)->raw(), 15u);
  EXPECT_FALSE(GuestAddress(UINT64_MAX - 1).CheckedAdd(2).has_value());
  EXPECT_TRUE(GuestAddress(UINT64_MAX - 1).CheckedAdd(1).has_value());
  EXPECT_FALSE(GuestAddress(3).OffsetFrom(GuestAddress(4)).has_value());
  EXPECT_EQ(*GuestAddress(7).OffsetFrom(GuestAddress(4)), 3u);
}

TEST(GuestMemory, RejectsBadRanges) {
  EXPECT_FALSE(GuestMemory::Create({{GuestAddress(0), 0}}).ok());
  EXPECT_FALSE(GuestMemory::Create({{GuestAddress(1), kPage}}).ok());
  EXPECT_FALSE(GuestMemory::Create({{GuestAddress(0), kPage + 1}}).ok());
  EXPECT_FALSE(GuestMemory::Create({{GuestAddress(0), 2 * kPage}, {GuestAddress(kPage), kPage}}).ok());
  EXPECT_FALSE(GuestMemory::Create({{GuestAddress(UINT64_MAX - kPage + 1), 2 * kPage}}).ok());
}

TEST(GuestMemory, ReadWriteRoundTripInEachRegion) {
  GuestMemory mem = TwoRegions();
  EXPECT_EQ(mem.total_size(), 6 * kPage);
  ASSERT_TRUE(mem.WriteObj<uint64_t>(GuestAddress(8), 0x1122334455667788ull).ok());
  ASSERT_TRUE(mem.WriteObj<uint32_t>(GuestAddress(16 * kPage + 4), 0xabcdef01u).ok());
  EXPECT_EQ(*mem.ReadObj<uint64_t>(GuestAddress(8)), 0x1122334455667788ull);
  EXPECT_EQ(*mem.ReadObj<uint32_t>(GuestAddress(16 * kPage + 4)), 0xabcdef01u);
}

TEST(GuestMemory, AccessesOutsideOrAcrossRegionsFail) {
  GuestMemory mem = TwoRegions();
  // In the hole between the regions.
  EXPECT_FALSE(mem.ReadObj<uint8_t>(GuestAddress(5 * kPage)).ok());
  // Straddling the end of the first region.
  EXPECT_FALSE(mem.ReadObj<uint64_t>(GuestAddress(4 * kPage - 4)).ok());
  EXPECT_TRUE(mem.ReadObj<uint32_t>(GuestAddress(4 * kPage - 4)).ok());
  // Past the end of the last one, and a length that would wrap.
  EXPECT_FALSE(mem.ReadObj<uint8_t>(GuestAddress(18 * kPage)).ok());
  EXPECT_FALSE(mem.Slice(GuestAddress(kPage), UINT64_MAX).ok());
  EXPECT_FALSE(mem.Slice(GuestAddress(UINT64_MAX), 2).ok());
  auto err = mem.ReadObj<uint8_t>(GuestAddress(5 * kPage));
  EXPECT_EQ(err.error().errno_value(), EFAULT);
  EXPECT_TRUE(mem.Contains(GuestAddress(16 * kPage), 2 * kPage));
  EXPECT_FALSE(mem.Contains(GuestAddress(16 * kPage), 2 * kPage + 1));
}

TEST(GuestMemory, SliceAliasesTheRegion) {
  GuestMemory mem = TwoRegions();
  auto s = mem.Slice(GuestAddress(100), 4);
  ASSERT_TRUE(s.ok());
  std::array<uint8_t, 4> bytes{1, 2, 3, 4};
  std::copy(bytes.begin(), bytes.end(), s->begin());
  EXPECT_EQ(*mem.ReadObj<uint32_t>(GuestAddress(100)), 0x04030201u);
}

TEST(GuestMemory, MoveTransfersOwnership) {
  GuestMemory a = TwoRegions();
  GuestMemory b = std::move(a);
  EXPECT_TRUE(a.regions().empty());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(b.regions().size(), 2u);
}

}  // namespace
}  // namespace bulkhead::vmm
