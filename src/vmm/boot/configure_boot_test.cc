// Whole boot setups, from a synthetic image to the bytes and registers the
// guest starts with.
#include "vmm/boot/configure_boot.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "vmm/arch/x86_64/gdt.h"
#include "vmm/arch/x86_64/layout.h"
#include "vmm/arch/x86_64/page_tables.h"
#include "vmm/arch/x86_64/pvh.h"
#include "vmm/arch/x86_64/regs.h"
#include "vmm/boot/boot_test_images.h"
#include "vmm/boot/kernel_loader.h"

namespace bulkhead::vmm {
namespace {

using testimg::Says;
using x86::kMiB;

GuestMemory Ram(uint64_t bytes) {
  auto mem = GuestMemory::Create(x86::RamRanges(bytes));
  EXPECT_TRUE(mem.ok()) << mem.error().message();
  return std::move(mem).value();
}

std::string ReadCString(const GuestMemory& mem, uint64_t at) {
  std::vector<uint8_t> buf(256);
  EXPECT_TRUE(mem.Read(GuestAddress(at), buf).ok());
  return std::string(reinterpret_cast<const char*>(buf.data()));
}

UniqueFd MemFd(const std::vector<uint8_t>& bytes) {
  UniqueFd fd(::memfd_create("image", MFD_CLOEXEC));
  EXPECT_EQ(::write(fd.get(), bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  return fd;
}

TEST(ConfigureBoot, Linux64FromBzImage) {
  GuestMemory mem = Ram(256 * kMiB);
  UniqueFd kernel_fd = MemFd(testimg::MakeBzImage({}));
  auto kernel = LoadKernel(mem, kernel_fd.get());
  ASSERT_TRUE(kernel.ok()) << kernel.error().message();
  std::vector<uint8_t> initrd(0x3000, 0x11);
  auto placed = LoadInitrdFromBytes(mem, *kernel, initrd);
  ASSERT_TRUE(placed.ok());
  BootConfig config{"console=ttyS0 reboot=k", *placed, 2};
  ASSERT_TRUE(ConfigureBoot(mem, *kernel, config).ok());

  auto zero = mem.ReadObj<boot_params>(x86::kZeroPageAddr);
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(zero->hdr.header, 0x53726448u);
  EXPECT_EQ(zero->hdr.type_of_loader, 0xff);
  EXPECT_EQ(ReadCString(mem, zero->hdr.cmd_line_ptr), "console=ttyS0 reboot=k");
  EXPECT_EQ(zero->hdr.ramdisk_image, placed->addr.raw());
  EXPECT_EQ(zero->hdr.ramdisk_size, 0x3000u);
  EXPECT_EQ(zero->e820_entries, 3);
  // Long-mode structures: code64 in the GDT, paging from the PML4.
  EXPECT_EQ(*mem.ReadObj<uint64_t>(x86::kGdtAddr.Plus(x86::kBootCodeSelector)), 0x00af9b000000ffffull);
  EXPECT_EQ(*mem.ReadObj<uint64_t>(x86::kPml4Addr) & ~0xfffull, x86::kPdptAddr.raw());
  EXPECT_EQ(*mem.ReadObj<uint32_t>(x86::kMpTableAddr), 0x5f504d5fu);  // "_MP_"

  kvm_regs regs = RegsFor(*kernel);
  EXPECT_EQ(regs.rip, 0x100200u);
  EXPECT_EQ(regs.rsi, x86::kZeroPageAddr.raw());
  kvm_sregs sregs{};
  SetupSregsFor(*kernel, sregs);
  EXPECT_EQ(sregs.efer & x86::kEferLma, x86::kEferLma);
  EXPECT_EQ(sregs.cs.l, 1);
}

TEST(ConfigureBoot, PvhFromElf) {
  GuestMemory mem = Ram(128 * kMiB);
  std::vector<uint8_t> text(0x1000, 0x90);
  std::vector<uint8_t> elf = testimg::MakeElf({
      testimg::Segment{PT_LOAD, 0x1000000, text},
      testimg::Segment{PT_NOTE, 0, testimg::PvhNote(0x1000010)},
  });
  UniqueFd kernel_fd = MemFd(elf);
  auto kernel = LoadKernel(mem, kernel_fd.get());
  ASSERT_TRUE(kernel.ok()) << kernel.error().message();
  UniqueFd initrd_fd = MemFd(std::vector<uint8_t>(0x1800, 0x22));
  auto placed = LoadInitrd(mem, *kernel, initrd_fd.get());
  ASSERT_TRUE(placed.ok()) << placed.error().message();
  ASSERT_TRUE(ConfigureBoot(mem, *kernel, BootConfig{"root=/dev/vda", *placed, 1}).ok());

  auto info = mem.ReadObj<x86::HvmStartInfo>(x86::kPvhStartInfoAddr);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->magic, x86::kHvmStartMagic);
  EXPECT_EQ(ReadCString(mem, info->cmdline_paddr), "root=/dev/vda");
  ASSERT_EQ(info->nr_modules, 1u);
  auto module = mem.ReadObj<x86::HvmModlistEntry>(GuestAddress(info->modlist_paddr));
  EXPECT_EQ(module->paddr, placed->addr.raw());
  EXPECT_EQ(module->size, 0x1800u);
  EXPECT_EQ(info->memmap_entries, 3u);
  EXPECT_EQ(*mem.ReadObj<uint64_t>(x86::kGdtAddr.Plus(x86::kBootCodeSelector)), 0x00cf9b000000ffffull);
  // No page tables for a guest that starts with paging off.
  EXPECT_EQ(*mem.ReadObj<uint64_t>(x86::kPml4Addr), 0u);

  kvm_regs regs = RegsFor(*kernel);
  EXPECT_EQ(regs.rip, 0x1000010u);
  EXPECT_EQ(regs.rbx, x86::kPvhStartInfoAddr.raw());
  kvm_sregs sregs{};
  SetupSregsFor(*kernel, sregs);
  EXPECT_EQ(sregs.cr0 & x86::kCr0Pg, 0u);
  EXPECT_EQ(sregs.cs.db, 1);
}

TEST(ConfigureBoot, RefusesWhatTheKernelCannotTake) {
  GuestMemory mem = Ram(64 * kMiB);
  testimg::BzImageSpec spec;
  spec.cmdline_size = 16;
  auto kernel = LoadKernelFromBytes(mem, testimg::MakeBzImage(spec));
  ASSERT_TRUE(kernel.ok());
  auto st = ConfigureBoot(mem, *kernel, BootConfig{std::string(17, 'x'), std::nullopt, 1});
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(Says(st.error().message(), "limit is 16"));
  EXPECT_TRUE(ConfigureBoot(mem, *kernel, BootConfig{std::string(16, 'x'), std::nullopt, 1}).ok());
  st = ConfigureBoot(mem, *kernel, BootConfig{"", std::nullopt, 0});
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(Says(st.error().message(), "0 vCPUs"));
  LoadedKernel headerless = *kernel;
  headerless.header.reset();
  EXPECT_TRUE(Says(ConfigureBoot(mem, headerless, BootConfig{}).error().message(), "setup header"));
}

TEST(KernelLoader, RefusesNonFiles) {
  GuestMemory mem = Ram(64 * kMiB);
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  UniqueFd r(p[0]), w(p[1]);
  EXPECT_TRUE(Says(LoadKernel(mem, r.get()).error().message(), "not a regular file"));
  EXPECT_FALSE(LoadKernel(mem, -1).ok());
}

}  // namespace
}  // namespace bulkhead::vmm
