// CPUID for one vCPU: KVM_GET_SUPPORTED_CPUID's list, adjusted so the guest
// sees a hypervisor, a topology that matches the vCPU count (one thread per
// core, all cores in one package) and none of the features the monitor does
// not emulate. KVM's own leaves (0x40000000...) pass through as KVM reports them.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <vector>

namespace bulkhead::vmm::x86 {

enum class CpuVendor { kIntel, kAmd, kOther };

// From leaf 0's vendor string; Hygon counts as AMD (same topology leaves).
CpuVendor VendorOf(const std::vector<kvm_cpuid_entry2>& entries);

// Bits of x2APIC ID that number the cores of `vcpu_count`: ceil(log2(count)).
uint32_t CoreIdBits(uint32_t vcpu_count);

// Rewrites `entries` in place for vCPU `vcpu_index` (also its APIC ID) of
// `vcpu_count` (1..kMaxVcpus; larger counts are clamped). Leaves 0xB and 0x1F
// are replaced by exactly three subleaves (SMT, core, end) when KVM lists them.
void FilterCpuid(std::vector<kvm_cpuid_entry2>& entries, unsigned vcpu_index, unsigned vcpu_count);

// Offers the LAPIC timer's TSC-deadline mode (leaf 1 ECX bit 24). KVM emulates
// it whenever it reports KVM_CAP_TSC_DEADLINE_TIMER, but KVM_GET_SUPPORTED_CPUID
// leaves the bit to the monitor. Without it Linux calibrates the LAPIC timer
// against the PIT while it boots, which costs a tenth of a second.
void EnableTscDeadlineTimer(std::vector<kvm_cpuid_entry2>& entries);

// Leaf 1 feature bits touched here.
constexpr uint32_t kLeaf1EcxDtes64 = 1u << 2;
constexpr uint32_t kLeaf1EcxMonitor = 1u << 3;
constexpr uint32_t kLeaf1EcxDsCpl = 1u << 4;
constexpr uint32_t kLeaf1EcxEst = 1u << 7;
constexpr uint32_t kLeaf1EcxTm2 = 1u << 8;
constexpr uint32_t kLeaf1EcxPdcm = 1u << 15;
constexpr uint32_t kLeaf1EcxTscDeadline = 1u << 24;
constexpr uint32_t kLeaf1EcxHypervisor = 1u << 31;
constexpr uint32_t kLeaf1EdxDs = 1u << 21;
constexpr uint32_t kLeaf1EdxAcpi = 1u << 22;
constexpr uint32_t kLeaf1EdxHtt = 1u << 28;
constexpr uint32_t kLeaf1EdxTm = 1u << 29;
constexpr uint32_t kLeaf1EdxPbe = 1u << 31;
// Leaf 6 EAX: the APIC timer keeps running in deep C-states.
constexpr uint32_t kLeaf6EaxArat = 1u << 2;
// Leaf 0x80000001 ECX (AMD).
constexpr uint32_t kExtEcxCmpLegacy = 1u << 1;
constexpr uint32_t kExtEcxPerfCtrCore = 1u << 23;
constexpr uint32_t kExtEcxPerfCtrNb = 1u << 24;
constexpr uint32_t kExtEcxMonitorX = 1u << 29;

// Level types of leaves 0xB/0x1F, in ECX[15:8].
constexpr uint32_t kTopologyLevelInvalid = 0;
constexpr uint32_t kTopologyLevelSmt = 1;
constexpr uint32_t kTopologyLevelCore = 2;

}  // namespace bulkhead::vmm::x86
