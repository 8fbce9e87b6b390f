#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "vmm/arch/x86_64/layout.h"
#include "vmm/boot/boot_test_images.h"
#include "vmm/boot/bzimage.h"
#include "vmm/boot/cmdline.h"
#include "vmm/boot/initrd.h"

namespace bulkhead::vmm {
namespace {

using testimg::Says;
using x86::kGiB;
using x86::kMiB;

GuestMemory Ram(uint64_t bytes) {
  auto mem = GuestMemory::Create(x86::RamRanges(bytes));
  EXPECT_TRUE(mem.ok()) << mem.error().message();
  return std::move(mem).value();
}

LoadedKernel BzKernel(uint32_t initrd_addr_max = 0x7fffffff, uint32_t cmdline_size = 2047) {
  LoadedKernel k;
  k.protocol = BootProtocol::kLinux64;
  k.entry = GuestAddress(0x100200);
  setup_header h{};
  h.version = 0x20f;
  h.initrd_addr_max = initrd_addr_max;
  h.cmdline_size = cmdline_size;
  k.header = h;
  k.kernel_end = GuestAddress(0x4000000);  // 64 MiB
  return k;
}

LoadedKernel PvhKernel() {
  LoadedKernel k;
  k.protocol = BootProtocol::kPvh;
  k.entry = GuestAddress(0x1000000);
  k.kernel_end = GuestAddress(0x2345678);
  return k;
}

TEST(Initrd, GoesToTheTopOfLowRamPageAligned) {
  GuestMemory mem = Ram(256 * kMiB);
  auto at = PlaceInitrd(mem, BzKernel(), 0x1234);
  ASSERT_TRUE(at.ok()) << at.error().message();
  EXPECT_EQ(at->raw(), 256 * kMiB - 0x2000);
  at = PlaceInitrd(mem, PvhKernel(), 0x1000);
  ASSERT_TRUE(at.ok());
  EXPECT_EQ(at->raw(), 256 * kMiB - 0x1000);
}

TEST(Initrd, StaysBelowInitrdAddrMaxAndTheMmioGap) {
  GuestMemory mem = Ram(256 * kMiB);
  // initrd_addr_max is inclusive: the last byte may sit at 0x7ffffff.
  auto at = PlaceInitrd(mem, BzKernel(0x7ffffff), 0x3000);
  ASSERT_TRUE(at.ok());
  EXPECT_EQ(at->raw(), 128 * kMiB - 0x3000);
  // 0 means the pre-2.03 default, 0x37ffffff; here RAM ends first.
  at = PlaceInitrd(mem, BzKernel(0), 0x1000);
  ASSERT_TRUE(at.ok());
  EXPECT_EQ(at->raw(), 256 * kMiB - 0x1000);
  GuestMemory big = Ram(5 * kGiB);
  at = PlaceInitrd(big, BzKernel(0xffffffff), 0x1000);
  ASSERT_TRUE(at.ok());
  EXPECT_EQ(at->raw(), x86::kMmioGapStart.raw() - 0x1000);
  at = PlaceInitrd(big, BzKernel(0), 0x1000);
  EXPECT_EQ(at->raw(), 0x38000000u - 0x1000);
}

TEST(Initrd, RefusesWhatDoesNotFitAboveTheKernel) {
  GuestMemory mem = Ram(256 * kMiB);
  EXPECT_TRUE(Says(PlaceInitrd(mem, BzKernel(), 0).error().message(), "empty"));
  // 64 MiB kernel end to 256 MiB leaves exactly 192 MiB.
  EXPECT_TRUE(PlaceInitrd(mem, BzKernel(), 192 * kMiB).ok());
  auto r = PlaceInitrd(mem, BzKernel(), 192 * kMiB + 1);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Says(r.error().message(), "does not fit between the kernel's end 0x4000000 and 0x10000000"));
  EXPECT_FALSE(PlaceInitrd(mem, BzKernel(), UINT64_MAX).ok());
  EXPECT_FALSE(PlaceInitrd(mem, BzKernel(0x1000000), 0x1000).ok());  // max below the kernel
  // The kernel's end is rounded up to a page before comparing.
  EXPECT_FALSE(PlaceInitrd(mem, PvhKernel(), 256 * kMiB - 0x2345000).ok());
  EXPECT_TRUE(PlaceInitrd(mem, PvhKernel(), 256 * kMiB - 0x2346000).ok());
}

TEST(Initrd, LoadsBytesAndFiles) {
  GuestMemory mem = Ram(128 * kMiB);
  std::vector<uint8_t> data(0x2345);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i ^ 0x5a);
  auto placed = LoadInitrdFromBytes(mem, PvhKernel(), data);
  ASSERT_TRUE(placed.ok()) << placed.error().message();
  EXPECT_EQ(placed->size, data.size());
  std::vector<uint8_t> back(data.size());
  ASSERT_TRUE(mem.Read(placed->addr, back).ok());
  EXPECT_EQ(back, data);

  UniqueFd fd(::memfd_create("initrd", MFD_CLOEXEC));
  ASSERT_TRUE(fd.valid());
  ASSERT_EQ(::write(fd.get(), data.data(), data.size()), static_cast<ssize_t>(data.size()));
  GuestMemory mem2 = Ram(128 * kMiB);
  auto from_file = LoadInitrd(mem2, PvhKernel(), fd.get());
  ASSERT_TRUE(from_file.ok()) << from_file.error().message();
  EXPECT_EQ(from_file->addr, placed->addr);
  std::vector<uint8_t> back2(data.size());
  ASSERT_TRUE(mem2.Read(from_file->addr, back2).ok());
  EXPECT_EQ(back2, data);
  EXPECT_EQ(::lseek(fd.get(), 0, SEEK_CUR), static_cast<off_t>(data.size()));  // position untouched

  int pipefd[2];
  ASSERT_EQ(::pipe2(pipefd, O_CLOEXEC), 0);
  UniqueFd r(pipefd[0]), w(pipefd[1]);
  EXPECT_TRUE(Says(LoadInitrd(mem2, PvhKernel(), r.get()).error().message(), "not a regular file"));
}

std::string ReadCString(const GuestMemory& mem, GuestAddress at, size_t max) {
  std::vector<uint8_t> buf(max);
  EXPECT_TRUE(mem.Read(at, buf).ok());
  return std::string(reinterpret_cast<const char*>(buf.data()));
}

TEST(Cmdline, WrittenWithItsNul) {
  GuestMemory mem = Ram(16 * kMiB);
  std::vector<uint8_t> junk(64, 'Z');
  ASSERT_TRUE(mem.Write(x86::kCmdlineAddr, junk).ok());
  ASSERT_TRUE(WriteCmdline(mem, x86::kCmdlineAddr, "console=ttyS0 quiet", 4096).ok());
  EXPECT_EQ(ReadCString(mem, x86::kCmdlineAddr, 64), "console=ttyS0 quiet");
  ASSERT_TRUE(WriteCmdline(mem, x86::kCmdlineAddr, "", 1).ok());
  EXPECT_EQ(*mem.ReadObj<uint8_t>(x86::kCmdlineAddr), 0);
}

TEST(Cmdline, LimitsAndNulBytes) {
  GuestMemory mem = Ram(16 * kMiB);
  EXPECT_TRUE(WriteCmdline(mem, x86::kCmdlineAddr, std::string(9, 'a'), 10).ok());
  auto too_long = WriteCmdline(mem, x86::kCmdlineAddr, std::string(10, 'a'), 10);
  ASSERT_FALSE(too_long.ok());
  EXPECT_TRUE(Says(too_long.error().message(), "10 bytes; the limit is 9"));
  EXPECT_FALSE(WriteCmdline(mem, x86::kCmdlineAddr, "", 0).ok());
  auto nul = WriteCmdline(mem, x86::kCmdlineAddr, std::string("a\0b", 3), 10);
  ASSERT_FALSE(nul.ok());
  EXPECT_TRUE(Says(nul.error().message(), "NUL"));
  EXPECT_FALSE(WriteCmdline(mem, GuestAddress(16 * kMiB - 2), "abc", 10).ok());  // past RAM
}

TEST(Cmdline, CapacityFollowsTheKernel) {
  EXPECT_EQ(CmdlineCapacity(PvhKernel()), x86::kCmdlineMaxSize);
  EXPECT_EQ(CmdlineCapacity(BzKernel(0, 255)), 256u);
  EXPECT_EQ(CmdlineCapacity(BzKernel(0, 2047)), 2048u);
  EXPECT_EQ(CmdlineCapacity(BzKernel(0, 0xffffffff)), x86::kCmdlineMaxSize);
}

}  // namespace
}  // namespace bulkhead::vmm
