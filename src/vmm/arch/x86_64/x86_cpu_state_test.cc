// GDT descriptors, the identity page tables and the initial registers.
#include <gtest/gtest.h>

#include <optional>

#include "vmm/arch/x86_64/gdt.h"
#include "vmm/arch/x86_64/layout.h"
#include "vmm/arch/x86_64/page_tables.h"
#include "vmm/arch/x86_64/regs.h"

namespace bulkhead::vmm::x86 {
namespace {

TEST(Gdt, DescriptorsMatchTheArchitecturalEncodings) {
  // The well-known flat descriptors, as every x86 boot loader writes them.
  EXPECT_EQ(EncodeDescriptor(0, 0xfffff, kAccessCode, kFlagsCode64), 0x00af9b000000ffffull);
  EXPECT_EQ(EncodeDescriptor(0, 0xfffff, kAccessCode, kFlagsFlat32), 0x00cf9b000000ffffull);
  EXPECT_EQ(EncodeDescriptor(0, 0xfffff, kAccessData, kFlagsFlat32), 0x00cf93000000ffffull);
  EXPECT_EQ(EncodeDescriptor(0, 0x67, kAccessTss, 0), 0x00008b0000000067ull);
  EXPECT_EQ(EncodeDescriptor(0x12345678, 0xabcde, 0x93, 0x4), 0x124a93345678bcdeull);
}

TEST(Gdt, SegmentsDecodeWhatWasEncoded) {
  kvm_segment code = SegmentFromDescriptor(0x00af9b000000ffffull, 0x10);
  EXPECT_EQ(code.base, 0u);
  EXPECT_EQ(code.limit, 0xffffffffu);
  EXPECT_EQ(code.selector, 0x10);
  EXPECT_EQ(code.type, 0xb);
  EXPECT_EQ(code.present, 1);
  EXPECT_EQ(code.s, 1);
  EXPECT_EQ(code.l, 1);
  EXPECT_EQ(code.db, 0);
  EXPECT_EQ(code.g, 1);
  EXPECT_EQ(code.unusable, 0);
  kvm_segment tss = SegmentFromDescriptor(0x00008b0000000067ull, 0x20);
  EXPECT_EQ(tss.limit, 0x67u);
  EXPECT_EQ(tss.g, 0);
  EXPECT_EQ(tss.s, 0);
  EXPECT_EQ(tss.type, 0xb);
  kvm_segment odd = SegmentFromDescriptor(EncodeDescriptor(0x12345678, 0xabcde, 0x93, 0x4), 0x18);
  EXPECT_EQ(odd.base, 0x12345678u);
  EXPECT_EQ(odd.limit, 0xabcdeu);
  EXPECT_EQ(odd.db, 1);
  EXPECT_EQ(odd.g, 0);
  EXPECT_EQ(SegmentFromDescriptor(0, 0).unusable, 1);
}

TEST(Gdt, WrittenTableHoldsTheCodeSegmentOfEachMode) {
  auto mem = GuestMemory::Create(RamRanges(4 * kMiB));
  ASSERT_TRUE(mem.ok());
  ASSERT_TRUE(WriteGdt(*mem, CpuMode::kLong64).ok());
  EXPECT_EQ(*mem->ReadObj<uint64_t>(kGdtAddr.Plus(kBootCodeSelector)), 0x00af9b000000ffffull);
  EXPECT_EQ(*mem->ReadObj<uint64_t>(kGdtAddr.Plus(kBootDataSelector)), 0x00cf93000000ffffull);
  EXPECT_EQ(*mem->ReadObj<uint64_t>(kGdtAddr), 0u);
  ASSERT_TRUE(WriteGdt(*mem, CpuMode::kProtected32).ok());
  EXPECT_EQ(*mem->ReadObj<uint64_t>(kGdtAddr.Plus(kBootCodeSelector)), 0x00cf9b000000ffffull);
  EXPECT_EQ(*mem->ReadObj<uint64_t>(kIdtAddr), 0u);
}

// Walks the tables as the MMU does; nullopt where a level is not present.
std::optional<uint64_t> Translate(const GuestMemory& mem, uint64_t cr3, uint64_t va) {
  uint64_t table = cr3;
  for (int shift : {39, 30, 21}) {
    auto entry = mem.ReadObj<uint64_t>(GuestAddress(table + ((va >> shift) & 511) * 8));
    if (!entry.ok() || !(*entry & kPtePresent)) return std::nullopt;
    if (shift == 21) {
      if (!(*entry & kPteHuge)) return std::nullopt;
      return (*entry & ~((1ull << 21) - 1) & 0x000ffffffffff000ull) | (va & ((1ull << 21) - 1));
    }
    table = *entry & 0x000ffffffffff000ull;
  }
  return std::nullopt;
}

TEST(PageTables, IdentityMapTheFirstFourGiB) {
  auto mem = GuestMemory::Create(RamRanges(64 * kMiB));
  ASSERT_TRUE(mem.ok());
  ASSERT_TRUE(WriteIdentityPageTables(*mem).ok());
  for (uint64_t va : std::initializer_list<uint64_t>{0, 0x7000, 0x100200, 0x1234567, 3 * kGiB + 0x5432,
                      kLapicAddr.raw(), 4 * kGiB - 1}) {
    auto pa = Translate(*mem, kPml4Addr.raw(), va);
    ASSERT_TRUE(pa.has_value()) << std::hex << va;
    EXPECT_EQ(*pa, va);
  }
  EXPECT_FALSE(Translate(*mem, kPml4Addr.raw(), 4 * kGiB).has_value());
  EXPECT_FALSE(Translate(*mem, kPml4Addr.raw(), 1ull << 39).has_value());
  // Writable, so the kernel can use its early stack and zero its bss.
  EXPECT_TRUE(*mem->ReadObj<uint64_t>(kPdAddr) & kPteWritable);
}

TEST(PageTables, FailWithoutLowMemory) {
  auto mem = GuestMemory::Create({{GuestAddress(kHimemStart), kMiB}});
  ASSERT_TRUE(mem.ok());
  EXPECT_FALSE(WriteIdentityPageTables(*mem).ok());
}

kvm_sregs ResetSregs() {
  kvm_sregs s{};
  s.cr0 = 0x60000010;  // KVM's reset value: CD, NW, ET
  s.apic_base = 0xfee00900;
  s.interrupt_bitmap[0] = 0x42;
  return s;
}

TEST(Sregs, LongModeEntry) {
  kvm_sregs s = ResetSregs();
  SetupLongModeSregs(s);
  EXPECT_EQ(s.cr0 & (kCr0Pe | kCr0Pg), kCr0Pe | kCr0Pg);
  EXPECT_EQ(s.cr0 & (kCr0Cd | kCr0Nw), 0u);
  EXPECT_EQ(s.cr3, kPml4Addr.raw());
  EXPECT_EQ(s.cr4 & kCr4Pae, kCr4Pae);
  EXPECT_EQ(s.efer, kEferLme | kEferLma);
  EXPECT_EQ(s.cs.selector, kBootCodeSelector);
  EXPECT_EQ(s.cs.l, 1);
  EXPECT_EQ(s.cs.db, 0);
  EXPECT_EQ(s.ds.selector, kBootDataSelector);
  EXPECT_EQ(s.ss.selector, kBootDataSelector);
  EXPECT_EQ(s.ss.type, 0x3);
  EXPECT_EQ(s.tr.selector, kBootTssSelector);
  EXPECT_EQ(s.tr.type, 0xb);
  EXPECT_EQ(s.gdt.base, kGdtAddr.raw());
  EXPECT_EQ(s.gdt.limit, 6 * 8 - 1);
  EXPECT_EQ(s.idt.base, kIdtAddr.raw());
  EXPECT_EQ(s.apic_base, 0xfee00900u);  // KVM's state passes through
  EXPECT_EQ(s.interrupt_bitmap[0], 0x42u);
}

TEST(Sregs, PvhEntryIsFlatProtectedModeWithoutPaging) {
  kvm_sregs s = ResetSregs();
  s.cr4 = kCr4Pae;
  s.efer = kEferLme;
  SetupPvhSregs(s);
  EXPECT_EQ(s.cr0 & kCr0Pe, kCr0Pe);
  EXPECT_EQ(s.cr0 & kCr0Pg, 0u);
  EXPECT_EQ(s.cr4, 0u);
  EXPECT_EQ(s.efer, 0u);
  EXPECT_EQ(s.cs.l, 0);
  EXPECT_EQ(s.cs.db, 1);
  EXPECT_EQ(s.cs.base, 0u);
  EXPECT_EQ(s.cs.limit, 0xffffffffu);
  EXPECT_EQ(s.ds.limit, 0xffffffffu);
  EXPECT_EQ(s.tr.limit, 0x67u);
  EXPECT_EQ(s.apic_base, 0xfee00900u);
}

TEST(Regs, EachProtocolGetsItsPointer) {
  kvm_regs linux64 = LongModeRegs(GuestAddress(0x100200));
  EXPECT_EQ(linux64.rip, 0x100200u);
  EXPECT_EQ(linux64.rsi, kZeroPageAddr.raw());
  EXPECT_EQ(linux64.rsp, kBootStackPointer.raw());
  EXPECT_EQ(linux64.rflags, 2u);
  kvm_regs pvh = PvhRegs(GuestAddress(0x1000000));
  EXPECT_EQ(pvh.rip, 0x1000000u);
  EXPECT_EQ(pvh.rbx, kPvhStartInfoAddr.raw());
  EXPECT_EQ(pvh.rflags, 2u);
  EXPECT_EQ(pvh.rsi, 0u);
}

}  // namespace
}  // namespace bulkhead::vmm::x86
