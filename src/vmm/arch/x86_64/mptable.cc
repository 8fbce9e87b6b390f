#include "vmm/arch/x86_64/mptable.h"

#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "vmm/arch/x86_64/layout.h"

namespace bulkhead::vmm::x86 {

namespace {

constexpr uint8_t kSpecRev = 4;              // MP specification 1.4
constexpr uint8_t kLapicVersion = 0x14;      // what KVM's local APIC reports
constexpr uint8_t kIoapicVersion = 0x11;     // what KVM's IOAPIC reports
constexpr uint32_t kCpuSignature = 0x600;    // family 6
constexpr uint32_t kCpuFeatures = 0x201;     // FPU and APIC, as CPUID leaf 1 EDX
constexpr uint32_t kLocalInterrupts = 2;     // LINT0 and LINT1
constexpr uint32_t kIoInterrupts = kMaxIrq + 1;

uint8_t Checksum(const uint8_t* bytes, size_t n) {
  uint8_t sum = 0;
  for (size_t i = 0; i < n; ++i) sum = static_cast<uint8_t>(sum + bytes[i]);
  return static_cast<uint8_t>(-sum);
}

template <class T>
void Append(std::vector<uint8_t>& out, const T& entry) {
  const auto* p = reinterpret_cast<const uint8_t*>(&entry);
  out.insert(out.end(), p, p + sizeof entry);
}

}  // namespace

uint64_t MpTableSize(uint32_t vcpu_count) {
  return sizeof(MpFloatingPointer) + sizeof(MpConfigHeader) +
         uint64_t{vcpu_count} * sizeof(MpProcessorEntry) + sizeof(MpBusEntry) +
         sizeof(MpIoapicEntry) + (kIoInterrupts + kLocalInterrupts) * sizeof(MpInterruptEntry);
}

Status WriteMpTable(GuestMemory& mem, uint32_t vcpu_count) {
  if (vcpu_count == 0 || vcpu_count > kMaxVcpus) {
    return Error("MP table: " + std::to_string(vcpu_count) + " vCPUs; supported are 1 to " +
                 std::to_string(kMaxVcpus));
  }
  const uint64_t size = MpTableSize(vcpu_count);
  if (size > kMpTableMaxSize) {
    return Error("MP table for " + std::to_string(vcpu_count) + " vCPUs needs " +
                 std::to_string(size) + " bytes; the EBDA has " + std::to_string(kMpTableMaxSize));
  }
  const uint8_t ioapic_id = static_cast<uint8_t>(vcpu_count);  // after the CPUs' APIC IDs

  std::vector<uint8_t> table;
  table.reserve(size);
  Append(table, MpConfigHeader{});  // filled in once the entries are known
  for (uint32_t cpu = 0; cpu < vcpu_count; ++cpu) {
    MpProcessorEntry p{};
    p.type = kMpProcessor;
    p.apic_id = static_cast<uint8_t>(cpu);
    p.apic_version = kLapicVersion;
    p.cpu_flags = static_cast<uint8_t>(kMpCpuEnabled | (cpu == 0 ? kMpCpuBootstrap : 0));
    p.signature = kCpuSignature;
    p.features = kCpuFeatures;
    Append(table, p);
  }
  MpBusEntry bus{kMpBus, kMpIsaBusId, {'I', 'S', 'A', ' ', ' ', ' '}};
  Append(table, bus);
  Append(table, MpIoapicEntry{kMpIoapic, ioapic_id, kIoapicVersion, 1,
                              static_cast<uint32_t>(kIoapicAddr.raw())});
  for (uint32_t irq = 0; irq < kIoInterrupts; ++irq) {
    const auto n = static_cast<uint8_t>(irq);
    Append(table, MpInterruptEntry{kMpIoInterrupt, kMpIrqInt, 0, kMpIsaBusId, n, ioapic_id, n});
  }
  // The 8259 reaches the BSP through LINT0 (virtual wire mode); NMIs reach
  // every CPU through LINT1.
  Append(table, MpInterruptEntry{kMpLocalInterrupt, kMpIrqExtInt, 0, kMpIsaBusId, 0, 0, 0});
  Append(table, MpInterruptEntry{kMpLocalInterrupt, kMpIrqNmi, 0, kMpIsaBusId, 0, 0xff, 1});

  MpConfigHeader header{};
  std::memcpy(header.signature, "PCMP", 4);
  header.base_length = static_cast<uint16_t>(table.size());
  header.spec_rev = kSpecRev;
  std::memcpy(header.oem_id, "BULKHEAD", 8);
  std::memcpy(header.product_id, "MICROVM     ", 12);
  header.entry_count = static_cast<uint16_t>(vcpu_count + 2 + kIoInterrupts + kLocalInterrupts);
  header.lapic_addr = static_cast<uint32_t>(kLapicAddr.raw());
  std::memcpy(table.data(), &header, sizeof header);
  table[offsetof(MpConfigHeader, checksum)] = Checksum(table.data(), table.size());

  MpFloatingPointer fp{};
  std::memcpy(fp.signature, "_MP_", 4);
  fp.config_table = static_cast<uint32_t>(kMpTableAddr.raw() + sizeof fp);
  fp.length = 1;
  fp.spec_rev = kSpecRev;
  fp.checksum = Checksum(reinterpret_cast<const uint8_t*>(&fp), sizeof fp);

  BH_TRY(mem.WriteObj(kMpTableAddr, fp).Context("writing the MP floating pointer"));
  return mem.Write(kMpTableAddr.Plus(sizeof fp), table).Context("writing the MP configuration table");
}

}  // namespace bulkhead::vmm::x86
