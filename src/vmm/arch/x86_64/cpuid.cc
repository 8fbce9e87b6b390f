#include "vmm/arch/x86_64/cpuid.h"

#include <algorithm>
#include <cstring>

#include "vmm/arch/x86_64/layout.h"

namespace bulkhead::vmm::x86 {

namespace {

bool VendorIs(const kvm_cpuid_entry2& leaf0, const char (&name)[13]) {
  uint32_t regs[3];  // the string is spread over EBX, EDX, ECX in that order
  std::memcpy(regs, name, sizeof regs);
  return leaf0.ebx == regs[0] && leaf0.edx == regs[1] && leaf0.ecx == regs[2];
}

// Cache descriptors of leaf 4 (Intel) and 0x8000001D (AMD) share one layout:
// EAX[4:0] type (0 = no more caches), [7:5] level, [25:14] logical CPUs
// sharing it minus one, and on Intel [31:26] cores per package minus one.
void SetCacheSharing(kvm_cpuid_entry2& e, uint32_t addressable, bool intel) {
  if ((e.eax & 0x1f) == 0) return;
  const uint32_t level = (e.eax >> 5) & 7;
  // L1 and L2 belong to one core (one thread each); L3 to the whole package.
  const uint32_t sharing = level >= 3 ? addressable - 1 : 0;
  e.eax = (e.eax & ~(0xfffu << 14)) | (std::min(sharing, 0xfffu) << 14);
  if (intel) e.eax = (e.eax & 0x03ffffff) | (std::min(addressable - 1, 63u) << 26);
}

kvm_cpuid_entry2 TopologyEntry(uint32_t function, uint32_t subleaf, uint32_t shift,
                               uint32_t count, uint32_t level_type, uint32_t x2apic_id) {
  kvm_cpuid_entry2 e{};
  e.function = function;
  e.index = subleaf;
  e.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
  e.eax = shift;   // bits to shift the x2APIC ID right to reach the next level
  e.ebx = count;   // logical processors at this level
  e.ecx = (level_type << 8) | subleaf;
  e.edx = x2apic_id;
  return e;
}

// Leaves 0xB and 0x1F: subleaf 0 the SMT level (one thread per core), subleaf
// 1 the core level holding every vCPU, subleaf 2 ends the list.
void ReplaceTopologyLeaf(std::vector<kvm_cpuid_entry2>& entries, uint32_t function,
                         uint32_t index, uint32_t count) {
  const auto is_leaf = [function](const kvm_cpuid_entry2& e) { return e.function == function; };
  if (std::none_of(entries.begin(), entries.end(), is_leaf)) return;
  std::erase_if(entries, is_leaf);
  entries.push_back(TopologyEntry(function, 0, 0, 1, kTopologyLevelSmt, index));
  entries.push_back(TopologyEntry(function, 1, CoreIdBits(count), count, kTopologyLevelCore, index));
  entries.push_back(TopologyEntry(function, 2, 0, 0, kTopologyLevelInvalid, index));
}

}  // namespace

CpuVendor VendorOf(const std::vector<kvm_cpuid_entry2>& entries) {
  for (const kvm_cpuid_entry2& e : entries) {
    if (e.function != 0) continue;
    if (VendorIs(e, "GenuineIntel")) return CpuVendor::kIntel;
    if (VendorIs(e, "AuthenticAMD") || VendorIs(e, "HygonGenuine")) return CpuVendor::kAmd;
    return CpuVendor::kOther;
  }
  return CpuVendor::kOther;
}

uint32_t CoreIdBits(uint32_t vcpu_count) {
  uint32_t bits = 0;
  while (bits < 32 && (1ull << bits) < vcpu_count) ++bits;
  return bits;
}

void FilterCpuid(std::vector<kvm_cpuid_entry2>& entries, unsigned vcpu_index, unsigned vcpu_count) {
  const uint32_t count = std::clamp<uint32_t>(vcpu_count, 1, kMaxVcpus);
  const uint32_t index = std::min<uint32_t>(vcpu_index, count - 1);
  const uint32_t bits = CoreIdBits(count);
  const uint32_t addressable = 1u << bits;  // APIC IDs the core field can name
  const CpuVendor vendor = VendorOf(entries);
  const bool amd = vendor == CpuVendor::kAmd;

  for (kvm_cpuid_entry2& e : entries) {
    switch (e.function) {
      case 0x1:
        // EBX: [31:24] initial APIC ID, [23:16] logical processors per package.
        e.ebx = (e.ebx & 0xffff) | (index << 24) | (count << 16);
        e.ecx |= kLeaf1EcxHypervisor;
        // No MONITOR/MWAIT (idle is HLT), no debug store, thermal or power
        // management, no perf-capabilities MSR: none of it is emulated.
        e.ecx &= ~(kLeaf1EcxMonitor | kLeaf1EcxDtes64 | kLeaf1EcxDsCpl | kLeaf1EcxEst |
                   kLeaf1EcxTm2 | kLeaf1EcxPdcm);
        e.edx &= ~(kLeaf1EdxDs | kLeaf1EdxAcpi | kLeaf1EdxTm | kLeaf1EdxPbe);
        // HTT tells the guest to read the count in EBX[23:16].
        e.edx = count > 1 ? (e.edx | kLeaf1EdxHtt) : (e.edx & ~kLeaf1EdxHtt);
        break;
      case 0x4:
        if (vendor == CpuVendor::kIntel) SetCacheSharing(e, addressable, true);
        break;
      case 0x5:  // MONITOR/MWAIT parameters
      case 0xa:  // architectural PMU: no counters are offered
        e.eax = e.ebx = e.ecx = e.edx = 0;
        break;
      case 0x6:
        // Thermal and power management: only ARAT is true of a vCPU.
        e.eax &= kLeaf6EaxArat;
        e.ebx = e.ecx = e.edx = 0;
        break;
      case 0x80000001:
        if (!amd) break;
        // CmpLegacy: the HTT count is of cores, not threads.
        e.ecx = count > 1 ? (e.ecx | kExtEcxCmpLegacy) : (e.ecx & ~kExtEcxCmpLegacy);
        e.ecx &= ~(kExtEcxPerfCtrCore | kExtEcxPerfCtrNb | kExtEcxMonitorX);
        break;
      case 0x80000008:
        // AMD ECX: [15:12] APIC ID bits for the core, [7:0] cores minus one.
        if (amd) e.ecx = (e.ecx & ~0xf0ffu) | (bits << 12) | (count - 1);
        break;
      case 0x8000001d:
        if (amd) SetCacheSharing(e, addressable, false);
        break;
      case 0x8000001e:
        if (!amd) break;
        // Extended APIC ID; compute unit = this core, one thread per unit;
        // node 0 of one node.
        e.eax = index;
        e.ebx = (e.ebx & ~0xffffu) | index;
        e.ecx = 0;
        e.edx = 0;
        break;
      default:
        break;
    }
  }
  ReplaceTopologyLeaf(entries, 0xb, index, count);
  ReplaceTopologyLeaf(entries, 0x1f, index, count);
}

void EnableTscDeadlineTimer(std::vector<kvm_cpuid_entry2>& entries) {
  for (kvm_cpuid_entry2& e : entries) {
    if (e.function == 0x1) e.ecx |= kLeaf1EcxTscDeadline;
  }
}

}  // namespace bulkhead::vmm::x86
