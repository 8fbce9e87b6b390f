#include <gtest/gtest.h>

#include <array>
#include <cstring>

#include "vmm/arch/x86_64/boot_params.h"
#include "vmm/arch/x86_64/layout.h"
#include "vmm/arch/x86_64/pvh.h"

namespace bulkhead::vmm::x86 {
namespace {

TEST(MemoryMap, LowRamHasTheLegacyHoleReserved) {
  auto map = BuildMemoryMap(RamRanges(256 * kMiB));
  ASSERT_EQ(map.size(), 3u);
  EXPECT_EQ(map[0].addr, 0u);
  EXPECT_EQ(map[0].size, kEbdaStart.raw());
  EXPECT_EQ(map[0].type, MemoryType::kRam);
  EXPECT_EQ(map[1].addr, kEbdaStart.raw());
  EXPECT_EQ(map[1].size, kHimemStart.raw() - kEbdaStart.raw());
  EXPECT_EQ(map[1].type, MemoryType::kReserved);
  EXPECT_EQ(map[2].addr, kHimemStart.raw());
  EXPECT_EQ(map[2].size, 255 * kMiB);
  EXPECT_EQ(map[2].type, MemoryType::kRam);
}

TEST(MemoryMap, RamAboveFourGiB) {
  auto map = BuildMemoryMap(RamRanges(6 * kGiB));
  ASSERT_EQ(map.size(), 4u);
  EXPECT_EQ(map[2].addr + map[2].size, kMmioGapStart.raw());
  EXPECT_EQ(map[3].addr, 4 * kGiB);
  EXPECT_EQ(map[3].size, 3 * kGiB);
  EXPECT_EQ(map[3].type, MemoryType::kRam);
}

TEST(MemoryMap, RangesClearOfTheHoleStayWhole) {
  auto map = BuildMemoryMap({{GuestAddress(0), 0x80000}, {GuestAddress(2 * kMiB), 2 * kMiB}});
  ASSERT_EQ(map.size(), 2u);
  EXPECT_EQ(map[0].size, 0x80000u);
  EXPECT_EQ(map[1].addr, 2 * kMiB);
  EXPECT_EQ(map[1].type, MemoryType::kRam);
}

TEST(ZeroPage, LoaderFieldsAndE820) {
  ZeroPageConfig config;
  config.header.boot_flag = 0xaa55;
  config.header.header = 0x53726448;
  config.header.version = 0x20f;
  config.header.cmdline_size = 2047;
  config.header.loadflags = CAN_USE_HEAP;
  config.cmdline = kCmdlineAddr;
  config.initrd = GuestRange{GuestAddress(4 * kGiB + 0x3000), 0x1234000};
  config.memory_map = BuildMemoryMap(RamRanges(8 * kGiB));
  auto params = BuildZeroPage(config);
  ASSERT_TRUE(params.ok()) << params.error().message();
  // Check through the raw bytes, at the offsets boot.rst gives.
  std::array<uint8_t, sizeof(boot_params)> raw;
  static_assert(sizeof(boot_params) == 4096);
  std::memcpy(raw.data(), &*params, raw.size());
  auto u16 = [&](size_t off) { return uint16_t(raw[off] | raw[off + 1] << 8); };
  auto u32 = [&](size_t off) { uint32_t v; std::memcpy(&v, &raw[off], 4); return v; };
  auto u64 = [&](size_t off) { uint64_t v; std::memcpy(&v, &raw[off], 8); return v; };
  EXPECT_EQ(u16(0x1fe), 0xaa55);
  EXPECT_EQ(u32(0x202), 0x53726448u);  // "HdrS"
  EXPECT_EQ(u16(0x206), 0x20f);
  EXPECT_EQ(raw[0x210], 0xff);                       // type_of_loader
  EXPECT_EQ(raw[0x211], CAN_USE_HEAP | LOADED_HIGH);  // loadflags keep the image's bits
  EXPECT_EQ(u32(0x228), kCmdlineAddr.raw());          // cmd_line_ptr
  EXPECT_EQ(u32(0x0c8), 0u);                          // ext_cmd_line_ptr
  EXPECT_EQ(u32(0x218), 0x3000u);                     // ramdisk_image, low half
  EXPECT_EQ(u32(0x0c0), 1u);                          // ext_ramdisk_image
  EXPECT_EQ(u32(0x21c), 0x1234000u);
  EXPECT_EQ(u32(0x0c4), 0u);
  EXPECT_EQ(u32(0x238), 2047u);  // cmdline_size kept from the image
  ASSERT_EQ(raw[0x1e8], 4);      // e820_entries
  for (size_t i = 0; i < 4; ++i) {
    const size_t off = 0x2d0 + i * 20;
    EXPECT_EQ(u64(off), config.memory_map[i].addr);
    EXPECT_EQ(u64(off + 8), config.memory_map[i].size);
    EXPECT_EQ(u32(off + 16), static_cast<uint32_t>(config.memory_map[i].type));
  }
  EXPECT_EQ(raw[0x1ef], 0);  // sentinel clear: the whole page is ours
}

TEST(ZeroPage, NoInitrdLeavesRamdiskFieldsZero) {
  ZeroPageConfig config;
  config.header.ramdisk_image = 0xdead;  // whatever the image carried
  config.cmdline = kCmdlineAddr;
  auto params = BuildZeroPage(config);
  ASSERT_TRUE(params.ok());
  EXPECT_EQ(params->hdr.ramdisk_image, 0u);
  EXPECT_EQ(params->hdr.ramdisk_size, 0u);
  EXPECT_EQ(params->e820_entries, 0);
}

TEST(ZeroPage, RefusesAnOverlongMemoryMap) {
  ZeroPageConfig config;
  config.memory_map.resize(E820_MAX_ENTRIES_ZEROPAGE + 1);
  auto params = BuildZeroPage(config);
  ASSERT_FALSE(params.ok());
  EXPECT_NE(params.error().message().find("129 entries"), std::string::npos);
}

TEST(Pvh, StartInfoMemmapAndModule) {
  auto mem = GuestMemory::Create(RamRanges(64 * kMiB));
  ASSERT_TRUE(mem.ok());
  PvhConfig config;
  config.cmdline = kCmdlineAddr;
  config.initrd = GuestRange{GuestAddress(32 * kMiB), 0x5000};
  config.memory_map = BuildMemoryMap(*mem);
  ASSERT_TRUE(WritePvhStartInfo(*mem, config).ok());
  auto info = *mem->ReadObj<HvmStartInfo>(kPvhStartInfoAddr);
  EXPECT_EQ(*mem->ReadObj<uint32_t>(kPvhStartInfoAddr), 0x336ec578u);
  EXPECT_EQ(info.version, 1u);
  EXPECT_EQ(info.cmdline_paddr, kCmdlineAddr.raw());
  EXPECT_EQ(info.rsdp_paddr, 0u);
  ASSERT_EQ(info.nr_modules, 1u);
  auto module = *mem->ReadObj<HvmModlistEntry>(GuestAddress(info.modlist_paddr));
  EXPECT_EQ(module.paddr, 32 * kMiB);
  EXPECT_EQ(module.size, 0x5000u);
  ASSERT_EQ(info.memmap_entries, 3u);
  // memmap_entries sits at byte 48, as version 1 of the layout has it.
  EXPECT_EQ(*mem->ReadObj<uint32_t>(kPvhStartInfoAddr.Plus(48)), 3u);
  auto last = *mem->ReadObj<HvmMemmapEntry>(GuestAddress(info.memmap_paddr + 2 * 24));
  EXPECT_EQ(last.addr, kHimemStart.raw());
  EXPECT_EQ(last.size, 63 * kMiB);
  EXPECT_EQ(last.type, 1u);
  auto hole = *mem->ReadObj<HvmMemmapEntry>(GuestAddress(info.memmap_paddr + 24));
  EXPECT_EQ(hole.type, 2u);
}

TEST(Pvh, NoInitrdMeansNoModules) {
  auto mem = GuestMemory::Create(RamRanges(16 * kMiB));
  ASSERT_TRUE(mem.ok());
  PvhConfig config;
  config.memory_map = BuildMemoryMap(*mem);
  ASSERT_TRUE(WritePvhStartInfo(*mem, config).ok());
  auto info = *mem->ReadObj<HvmStartInfo>(kPvhStartInfoAddr);
  EXPECT_EQ(info.nr_modules, 0u);
  EXPECT_EQ(info.modlist_paddr, 0u);
  config.memory_map.resize(kPvhMemmapMaxEntries + 1);
  EXPECT_FALSE(WritePvhStartInfo(*mem, config).ok());
}

}  // namespace
}  // namespace bulkhead::vmm::x86
