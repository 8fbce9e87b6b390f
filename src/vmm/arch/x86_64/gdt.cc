#include "vmm/arch/x86_64/gdt.h"

#include "vmm/arch/x86_64/layout.h"

namespace bulkhead::vmm::x86 {

BootGdt MakeBootGdt(CpuMode mode) {
  const uint8_t code_flags = mode == CpuMode::kLong64 ? kFlagsCode64 : kFlagsFlat32;
  return BootGdt{
      0,
      0,
      EncodeDescriptor(0, 0xfffff, kAccessCode, code_flags),
      EncodeDescriptor(0, 0xfffff, kAccessData, kFlagsFlat32),
      EncodeDescriptor(0, 0x67, kAccessTss, 0),
      0,  // upper half of the 16-byte long-mode TSS descriptor: base[63:32] = 0
  };
}

kvm_segment SegmentFromDescriptor(uint64_t descriptor, uint16_t selector) {
  const auto bit = [descriptor](unsigned n) { return static_cast<uint8_t>((descriptor >> n) & 1); };
  kvm_segment seg{};
  seg.base = ((descriptor >> 16) & 0xffffff) | (((descriptor >> 56) & 0xff) << 24);
  uint32_t limit = static_cast<uint32_t>((descriptor & 0xffff) | ((descriptor >> 32) & 0xf0000));
  seg.g = bit(55);
  if (seg.g) limit = (limit << 12) | 0xfff;
  seg.limit = limit;
  seg.selector = selector;
  seg.type = static_cast<uint8_t>((descriptor >> 40) & 0xf);
  seg.s = bit(44);
  seg.dpl = static_cast<uint8_t>((descriptor >> 45) & 3);
  seg.present = bit(47);
  seg.avl = bit(52);
  seg.l = bit(53);
  seg.db = bit(54);
  seg.unusable = seg.present ? 0 : 1;
  return seg;
}

Status WriteGdt(GuestMemory& mem, CpuMode mode) {
  static_assert(sizeof(BootGdt) <= kGdtMaxEntries * 8);
  BH_TRY(mem.WriteObj(kGdtAddr, MakeBootGdt(mode)).Context("writing the GDT"));
  return mem.WriteObj<uint64_t>(kIdtAddr, 0).Context("writing the IDT");
}

}  // namespace bulkhead::vmm::x86
