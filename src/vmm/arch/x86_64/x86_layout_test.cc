#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "vmm/arch/x86_64/layout.h"

namespace bulkhead::vmm::x86 {
namespace {

TEST(Layout, RamBelowTheGapIsOneRange) {
  auto r = RamRanges(256 * kMiB);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].start.raw(), 0u);
  EXPECT_EQ(r[0].size, 256 * kMiB);
  // Exactly up to the gap is still one range.
  r = RamRanges(kMmioGapStart.raw());
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].size, 3 * kGiB);
}

TEST(Layout, RamSplitsAroundTheMmioGap) {
  auto r = RamRanges(5 * kGiB);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].start.raw(), 0u);
  EXPECT_EQ(r[0].size, 3 * kGiB);
  EXPECT_EQ(r[1].start, kMmioGapEnd);
  EXPECT_EQ(r[1].size, 2 * kGiB);
}

TEST(Layout, RamSizesRoundDownAndNeverWrap) {
  EXPECT_TRUE(RamRanges(0).empty());
  EXPECT_TRUE(RamRanges(kPageSize - 1).empty());
  auto r = RamRanges(64 * kMiB + 123);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].size, 64 * kMiB);
  r = RamRanges(UINT64_MAX);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_TRUE(r[1].start.CheckedAdd(r[1].size).has_value());
  EXPECT_EQ(r[1].size % kPageSize, 0u);
}

TEST(Layout, FixedStructuresDoNotOverlap) {
  // [start, end) of everything the monitor writes below 1 MiB.
  std::vector<std::pair<uint64_t, uint64_t>> areas = {
      {kGdtAddr.raw(), kGdtAddr.raw() + kGdtMaxEntries * 8},
      {kIdtAddr.raw(), kIdtAddr.raw() + 8},
      {kPvhStartInfoAddr.raw(), kPvhModlistAddr.raw()},
      {kPvhModlistAddr.raw(), kPvhModlistAddr.raw() + kPvhMaxModules * 32},
      {kPvhMemmapAddr.raw(), kPvhMemmapAddr.raw() + kPvhMemmapMaxEntries * 24},
      {kZeroPageAddr.raw(), kZeroPageAddr.raw() + kPageSize},
      {kBootStackPointer.raw() - 0x800, kBootStackPointer.raw()},
      {kPml4Addr.raw(), kPml4Addr.raw() + kPageSize},
      {kPdptAddr.raw(), kPdptAddr.raw() + kPageSize},
      {kPdAddr.raw(), kPdAddr.raw() + kIdentityMappedGiB * kPageSize},
      {kCmdlineAddr.raw(), kCmdlineAddr.raw() + kCmdlineMaxSize},
      {kMpTableAddr.raw(), kMpTableAddr.raw() + kMpTableMaxSize},
  };
  for (size_t i = 0; i < areas.size(); ++i) {
    EXPECT_LE(areas[i].second, kHimemStart.raw()) << i;
    EXPECT_GE(areas[i].first, 0x500u) << i;  // above the IVT and BIOS data area
    for (size_t j = i + 1; j < areas.size(); ++j) {
      EXPECT_TRUE(areas[i].second <= areas[j].first || areas[j].second <= areas[i].first)
          << "areas " << i << " and " << j << " overlap";
    }
  }
  EXPECT_EQ(kMpTableAddr.raw() + kMpTableMaxSize, 0xa0000u);
}

TEST(Layout, DevicesLiveInTheGap) {
  const uint64_t virtio_end = kVirtioMmioBase.raw() + kVirtioMaxDevices * kVirtioMmioSize;
  EXPECT_GE(kVirtioMmioBase, kMmioGapStart);
  EXPECT_LE(virtio_end, kIoapicAddr.raw());
  EXPECT_LT(kIoapicAddr, kLapicAddr);
  EXPECT_LT(kLapicAddr, kMmioGapEnd);
  EXPECT_GT(kKvmIdentityMapAddr.raw(), kLapicAddr.raw() + kPageSize);
  EXPECT_EQ(kKvmIdentityMapAddr.raw() + kPageSize, kKvmTssAddr.raw());
  EXPECT_LE(kKvmTssAddr.raw() + 3 * kPageSize, kMmioGapEnd.raw());
  EXPECT_LT(kMaxIrq, kIoapicPins);
  EXPECT_LT(kCom1Irq, kVirtioFirstIrq);
}

TEST(Layout, LowRamEndIsTheTopOfTheKernelRegion) {
  auto mem = GuestMemory::Create(RamRanges(64 * kMiB));
  ASSERT_TRUE(mem.ok());
  EXPECT_EQ(LowRamEnd(*mem), 64 * kMiB);
  auto tiny = GuestMemory::Create({{GuestAddress(0), kMiB}});
  ASSERT_TRUE(tiny.ok());
  EXPECT_EQ(LowRamEnd(*tiny), 0u);
}

}  // namespace
}  // namespace bulkhead::vmm::x86
