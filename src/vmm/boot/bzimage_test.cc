#include "vmm/boot/bzimage.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "vmm/arch/x86_64/layout.h"
#include "vmm/boot/boot_test_images.h"
#include "vmm/boot/kernel_loader.h"

namespace bulkhead::vmm {
namespace {

using testimg::BzImageSpec;
using testimg::MakeBzImage;
using testimg::Says;

GuestMemory Ram(uint64_t bytes) {
  auto mem = GuestMemory::Create(x86::RamRanges(bytes));
  EXPECT_TRUE(mem.ok()) << mem.error().message();
  return std::move(mem).value();
}

// Loads `image` into 64 MiB and returns the error message ("" on success).
std::string Refusal(const std::vector<uint8_t>& image, uint64_t ram = 64 * x86::kMiB) {
  GuestMemory mem = Ram(ram);
  auto loaded = LoadBzImage(mem, image);
  if (loaded.ok()) return "";
  // A refused image leaves the load area untouched.
  EXPECT_EQ(*mem.ReadObj<uint64_t>(x86::kKernelLoadAddr), 0u);
  return loaded.error().message();
}

TEST(BzImage, LoadsAtOneMiBWithEntryAt0x200) {
  BzImageSpec spec;
  std::vector<uint8_t> image = MakeBzImage(spec);
  EXPECT_TRUE(IsBzImage(image));
  GuestMemory mem = Ram(64 * x86::kMiB);
  auto k = LoadBzImage(mem, image);
  ASSERT_TRUE(k.ok()) << k.error().message();
  EXPECT_EQ(k->protocol, BootProtocol::kLinux64);
  EXPECT_EQ(k->entry.raw(), 0x100200u);
  ASSERT_TRUE(k->header.has_value());
  EXPECT_EQ(k->header->header, 0x53726448u);
  EXPECT_EQ(k->header->version, 0x20f);
  EXPECT_EQ(k->header->cmdline_size, 2047u);
  EXPECT_EQ(k->header->initrd_addr_max, 0x7fffffffu);
  // The kernel's footprint: pref_address (16 MiB) + init_size.
  EXPECT_EQ(k->kernel_end.raw(), 0x1000000u + spec.init_size);
  std::vector<uint8_t> loaded(spec.kernel_bytes);
  ASSERT_TRUE(mem.Read(x86::kKernelLoadAddr, loaded).ok());
  for (size_t i = 0; i < loaded.size(); i += 997) ASSERT_EQ(loaded[i], testimg::KernelByte(i)) << i;
  EXPECT_EQ(loaded.back(), testimg::KernelByte(loaded.size() - 1));
}

TEST(BzImage, SetupSectsZeroMeansFour) {
  BzImageSpec spec;
  spec.setup_sects = 0;
  GuestMemory mem = Ram(64 * x86::kMiB);
  ASSERT_TRUE(LoadBzImage(mem, MakeBzImage(spec)).ok());
  EXPECT_EQ(*mem.ReadObj<uint8_t>(x86::kKernelLoadAddr), testimg::KernelByte(0));
}

TEST(BzImage, HeaderCopiedOnlyToItsDeclaredEnd) {
  BzImageSpec spec;
  spec.jump_offset = 0x66;  // header ends at 0x268: kernel_info_offset is not part of it
  std::vector<uint8_t> image = MakeBzImage(spec);
  image[0x268] = 0x5a;  // would land in kernel_info_offset
  GuestMemory mem = Ram(64 * x86::kMiB);
  auto k = LoadBzImage(mem, image);
  ASSERT_TRUE(k.ok()) << k.error().message();
  EXPECT_EQ(k->header->kernel_info_offset, 0u);
  EXPECT_EQ(k->header->init_size, spec.init_size);
}

TEST(BzImage, NonRelocatableRunsAtPrefAddress) {
  BzImageSpec spec;
  spec.relocatable = 0;
  spec.kernel_alignment = 3;  // ignored when not relocatable
  GuestMemory mem = Ram(64 * x86::kMiB);
  auto k = LoadBzImage(mem, MakeBzImage(spec));
  ASSERT_TRUE(k.ok()) << k.error().message();
  EXPECT_EQ(k->kernel_end.raw(), spec.pref_address + spec.init_size);
}

TEST(BzImage, RefusesMalformedHeaders) {
  std::vector<uint8_t> image = MakeBzImage({});
  std::vector<uint8_t> no_magic = image;
  no_magic[0x202] = 'X';
  EXPECT_FALSE(IsBzImage(no_magic));
  EXPECT_TRUE(Says(Refusal(no_magic), "no \"HdrS\" magic"));
  EXPECT_TRUE(Says(Refusal({image.begin(), image.begin() + 0x220}), "truncated"));
  EXPECT_TRUE(Says(Refusal({image.begin(), image.begin() + 0x266}), "truncated"));
  EXPECT_TRUE(Says(Refusal({image.begin(), image.begin() + 0x100}), "no \"HdrS\""));

  BzImageSpec spec;
  spec.jump_offset = 0x20;
  EXPECT_TRUE(Says(Refusal(MakeBzImage(spec)), "setup header ends at 0x222"));
  spec = {};
  spec.boot_flag = 0x1234;
  EXPECT_TRUE(Says(Refusal(MakeBzImage(spec)), "boot_flag"));
}

TEST(BzImage, RefusesOldProtocolsAnd32BitOnlyKernels) {
  BzImageSpec spec;
  spec.version = 0x205;
  EXPECT_TRUE(Says(Refusal(MakeBzImage(spec)), "boot protocol 2.05; at least 2.06"));
  spec.version = 0x20b;
  EXPECT_TRUE(Says(Refusal(MakeBzImage(spec)), "no 64-bit entry point"));
  spec = {};
  spec.xloadflags = XLF_CAN_BE_LOADED_ABOVE_4G;
  EXPECT_TRUE(Says(Refusal(MakeBzImage(spec)), "XLF_KERNEL_64"));
  spec = {};
  spec.loadflags = 0;
  EXPECT_TRUE(Says(Refusal(MakeBzImage(spec)), "zImage"));
}

TEST(BzImage, RefusesTruncatedKernels) {
  BzImageSpec spec;
  spec.setup_sects = 200;  // setup code would end at 100 KiB
  std::vector<uint8_t> image = MakeBzImage(spec);
  image.resize(0x1000);
  EXPECT_TRUE(Says(Refusal(image), "setup code ends at 0x19200"));
  image = MakeBzImage({});
  image.resize(image.size() - 32);  // syssize still declares the full kernel
  EXPECT_TRUE(Says(Refusal(image), "syssize declares 16384 bytes"));
}

TEST(BzImage, RefusesKernelsThatDoNotFitRam) {
  BzImageSpec spec;
  spec.init_size = 0xfff00000;
  EXPECT_TRUE(Says(Refusal(MakeBzImage(spec)), "needs RAM up to 0x1000000 + init_size 0xfff00000"));
  spec = {};
  spec.pref_address = 0xfffffffffff00000ull;  // start + init_size would wrap
  EXPECT_TRUE(Says(Refusal(MakeBzImage(spec)), "needs RAM"));
  spec = {};
  spec.kernel_alignment = 0x300000;
  EXPECT_TRUE(Says(Refusal(MakeBzImage(spec)), "kernel_alignment 0x300000"));
  spec = {};
  spec.kernel_alignment = 0;
  EXPECT_TRUE(Says(Refusal(MakeBzImage(spec)), "kernel_alignment 0x0"));
  spec = {};
  spec.kernel_bytes = 0x200000;
  // 2 MiB of RAM ends at 2 MiB: a 2 MiB kernel at 1 MiB cannot fit.
  EXPECT_TRUE(Says(Refusal(MakeBzImage(spec), 2 * x86::kMiB), "does not fit in guest RAM"));
  // RAM to 16 MiB is not enough for a kernel that runs from 16 MiB.
  EXPECT_TRUE(Says(Refusal(MakeBzImage({}), 16 * x86::kMiB), "ends at 0x1000000"));
}

TEST(KernelLoader, DetectsTheFormat) {
  GuestMemory mem = Ram(64 * x86::kMiB);
  std::vector<uint8_t> junk(4096, 0x41);
  auto r = LoadKernelFromBytes(mem, junk);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Says(r.error().message(), "neither an ELF vmlinux nor a bzImage"));
  EXPECT_FALSE(LoadKernelFromBytes(mem, {}).ok());
  auto bz = LoadKernelFromBytes(mem, MakeBzImage({}));
  ASSERT_TRUE(bz.ok()) << bz.error().message();
  EXPECT_EQ(bz->protocol, BootProtocol::kLinux64);
  BzImageSpec old;
  old.version = 0x204;
  auto refused = LoadKernelFromBytes(mem, MakeBzImage(old));
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(Says(refused.error().message(), "loading bzImage kernel: "));
}

}  // namespace
}  // namespace bulkhead::vmm
