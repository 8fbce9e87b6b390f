// Loads a real kernel when the machine has one: the host's /boot/vmlinuz-*
// (a bzImage), or the files named by BULKHEAD_TEST_KERNEL (bzImage or ELF)
// and BULKHEAD_TEST_VMLINUX (an ELF vmlinux built with CONFIG_PVH).
#include <fcntl.h>
#include <glob.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "base/fs.h"
#include "vmm/arch/x86_64/layout.h"
#include "vmm/boot/configure_boot.h"
#include "vmm/boot/kernel_loader.h"

namespace bulkhead::vmm {
namespace {

std::string FindBzImage() {
  if (const char* env = std::getenv("BULKHEAD_TEST_KERNEL")) return env;
  glob_t g{};
  std::string found;
  if (::glob("/boot/vmlinuz-*", 0, nullptr, &g) == 0 && g.gl_pathc > 0) found = g.gl_pathv[0];
  ::globfree(&g);
  return found;
}

GuestMemory Ram(uint64_t bytes) {
  auto mem = GuestMemory::Create(x86::RamRanges(bytes));
  EXPECT_TRUE(mem.ok()) << mem.error().message();
  return std::move(mem).value();
}

TEST(RealKernel, BzImageLoadsAndConfigures) {
  const std::string path = FindBzImage();
  if (path.empty()) GTEST_SKIP() << "no /boot/vmlinuz-* and BULKHEAD_TEST_KERNEL unset";
  auto fd = OpenFile(path, O_RDONLY);
  if (!fd.ok()) GTEST_SKIP() << "cannot open " << path << ": " << fd.error().message();
  auto image = ReadFile(path, kMaxKernelFileSize);
  ASSERT_TRUE(image.ok());
  GuestMemory mem = Ram(256 * x86::kMiB);
  auto kernel = LoadKernel(mem, fd->get());
  ASSERT_TRUE(kernel.ok()) << path << ": " << kernel.error().message();
  if (kernel->protocol == BootProtocol::kPvh) GTEST_SKIP() << path << " is an ELF; covered below";
  EXPECT_EQ(kernel->entry.raw(), x86::kKernelLoadAddr.raw() + 0x200);
  ASSERT_TRUE(kernel->header.has_value());
  const setup_header& h = *kernel->header;
  EXPECT_EQ(h.header, 0x53726448u);
  EXPECT_EQ(h.boot_flag, 0xaa55);
  EXPECT_GE(h.version, 0x20c);
  EXPECT_TRUE(h.xloadflags & XLF_KERNEL_64);
  EXPECT_TRUE(h.loadflags & LOADED_HIGH);
  EXPECT_GT(h.init_size, 0u);
  EXPECT_GE(kernel->kernel_end.raw(), x86::kKernelLoadAddr.raw() + h.init_size);
  // The protected-mode kernel is in guest RAM byte for byte.
  const size_t setup = (size_t{h.setup_sects ? h.setup_sects : 4u} + 1) * 512;
  std::vector<uint8_t> loaded(4096);
  ASSERT_TRUE(mem.Read(x86::kKernelLoadAddr, loaded).ok());
  EXPECT_EQ(0, std::memcmp(loaded.data(), image->data() + setup, loaded.size()));

  std::vector<uint8_t> initrd(1 << 20, 0x5a);
  auto placed = LoadInitrdFromBytes(mem, *kernel, initrd);
  ASSERT_TRUE(placed.ok()) << placed.error().message();
  EXPECT_GE(placed->addr, kernel->kernel_end);
  EXPECT_LE(placed->addr.raw() + placed->size, uint64_t{h.initrd_addr_max} + 1);
  auto st = ConfigureBoot(mem, *kernel, BootConfig{"console=ttyS0 panic=-1", *placed, 2});
  ASSERT_TRUE(st.ok()) << st.error().message();
  auto zero = mem.ReadObj<boot_params>(x86::kZeroPageAddr);
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(zero->hdr.version, h.version);
  EXPECT_EQ(zero->hdr.ramdisk_image, placed->addr.raw());
}

TEST(RealKernel, PvhVmlinuxLoads) {
  const char* path = std::getenv("BULKHEAD_TEST_VMLINUX");
  if (!path) GTEST_SKIP() << "BULKHEAD_TEST_VMLINUX unset";
  auto fd = OpenFile(path, O_RDONLY);
  ASSERT_TRUE(fd.ok()) << fd.error().message();
  GuestMemory mem = Ram(256 * x86::kMiB);
  auto kernel = LoadKernel(mem, fd->get());
  ASSERT_TRUE(kernel.ok()) << path << ": " << kernel.error().message();
  EXPECT_EQ(kernel->protocol, BootProtocol::kPvh);
  EXPECT_GE(kernel->entry, x86::kHimemStart);
  EXPECT_LT(kernel->entry, kernel->kernel_end);
  EXPECT_TRUE(ConfigureBoot(mem, *kernel, BootConfig{"console=ttyS0", std::nullopt, 1}).ok());
}

}  // namespace
}  // namespace bulkhead::vmm
