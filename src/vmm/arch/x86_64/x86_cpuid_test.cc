#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "vmm/arch/x86_64/cpuid.h"

namespace bulkhead::vmm::x86 {
namespace {

kvm_cpuid_entry2 Leaf(uint32_t fn, uint32_t idx, uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
  kvm_cpuid_entry2 e{};
  e.function = fn;
  e.index = idx;
  e.eax = a;
  e.ebx = b;
  e.ecx = c;
  e.edx = d;
  return e;
}

kvm_cpuid_entry2 Vendor(const char (&name)[13]) {
  uint32_t r[3];
  std::memcpy(r, name, sizeof r);
  return Leaf(0, 0, 0x1f, r[0], r[2], r[1]);
}

const kvm_cpuid_entry2* Find(const std::vector<kvm_cpuid_entry2>& v, uint32_t fn, uint32_t idx = 0) {
  for (const auto& e : v) {
    if (e.function == fn && e.index == idx) return &e;
  }
  return nullptr;
}

size_t CountLeaf(const std::vector<kvm_cpuid_entry2>& v, uint32_t fn) {
  size_t n = 0;
  for (const auto& e : v) n += e.function == fn;
  return n;
}

// Shaped like KVM_GET_SUPPORTED_CPUID on an Intel host with 2 threads per core.
std::vector<kvm_cpuid_entry2> IntelHost() {
  return {
      Vendor("GenuineIntel"),
      // leaf 1: APIC id 7, 16 logical, CLFLUSH 8; MONITOR, PDCM, EST, x2APIC set; HTT, ACPI set
      Leaf(1, 0, 0x000806ec, 0x07100800, kLeaf1EcxMonitor | kLeaf1EcxPdcm | kLeaf1EcxEst | (1u << 21),
           kLeaf1EdxHtt | kLeaf1EdxAcpi | 1u),
      Leaf(4, 0, 0x1c004121, 0x01c0003f, 0x3f, 0),  // L1d, 2 threads, 8 cores
      Leaf(4, 1, 0x1c004122, 0x01c0003f, 0x3f, 0),  // L1i
      Leaf(4, 2, 0x1c004143, 0x00c0003f, 0x3ff, 0), // L2
      Leaf(4, 3, 0x1c03c163, 0x02c0003f, 0x3fff, 6), // L3, 16 sharing
      Leaf(4, 4, 0, 0, 0, 0),                       // end of caches
      Leaf(5, 0, 0x40, 0x40, 3, 0x11142120),
      Leaf(6, 0, 0x27f7 | kLeaf6EaxArat, 2, 9, 0),
      Leaf(0xa, 0, 0x07300404, 0, 0, 0x603),
      Leaf(0xb, 0, 1, 2, 0x100, 7),
      Leaf(0xb, 1, 4, 16, 0x201, 7),
      Leaf(0x1f, 0, 1, 2, 0x100, 7),
      Leaf(0x40000000, 0, 0x40000001, 0x4b4d564b, 0x564b4d56, 0x4d),
      Leaf(0x80000008, 0, 0x3027, 0, 0, 0),
  };
}

std::vector<kvm_cpuid_entry2> AmdHost() {
  return {
      Vendor("AuthenticAMD"),
      Leaf(1, 0, 0x00a00f11, 0x0a100800, kLeaf1EcxMonitor, kLeaf1EdxHtt),
      Leaf(0x80000001, 0, 0, 0, kExtEcxPerfCtrCore | kExtEcxMonitorX | (1u << 22), 0),
      Leaf(0x80000008, 0, 0x3030, 0, 0x0000700f, 0),  // 16 threads, 7 ID bits
      Leaf(0x8000001d, 0, 0x00004121, 0, 0, 0),       // L1d shared by 2
      Leaf(0x8000001d, 3, 0x0003c163, 0, 0, 0),       // L3 shared by 16
      Leaf(0x8000001e, 0, 10, 0x00000105, 0x00000100, 0),
      Leaf(0xb, 0, 1, 2, 0x100, 10),
  };
}

TEST(Cpuid, Vendor) {
  EXPECT_EQ(VendorOf(IntelHost()), CpuVendor::kIntel);
  EXPECT_EQ(VendorOf(AmdHost()), CpuVendor::kAmd);
  EXPECT_EQ(VendorOf({Vendor("HygonGenuine")}), CpuVendor::kAmd);
  EXPECT_EQ(VendorOf({Vendor("CentaurHauls")}), CpuVendor::kOther);
  EXPECT_EQ(VendorOf({}), CpuVendor::kOther);
}

TEST(Cpuid, CoreIdBits) {
  EXPECT_EQ(CoreIdBits(1), 0u);
  EXPECT_EQ(CoreIdBits(2), 1u);
  EXPECT_EQ(CoreIdBits(3), 2u);
  EXPECT_EQ(CoreIdBits(4), 2u);
  EXPECT_EQ(CoreIdBits(5), 3u);
  EXPECT_EQ(CoreIdBits(32), 5u);
}

TEST(Cpuid, Leaf1CarriesApicIdCountAndHypervisor) {
  auto v = IntelHost();
  FilterCpuid(v, 2, 3);
  const auto* l1 = Find(v, 1);
  ASSERT_NE(l1, nullptr);
  EXPECT_EQ(l1->ebx >> 24, 2u);
  EXPECT_EQ((l1->ebx >> 16) & 0xff, 3u);
  EXPECT_EQ(l1->ebx & 0xffff, 0x0800u);  // CLFLUSH size kept
  EXPECT_TRUE(l1->ecx & kLeaf1EcxHypervisor);
  EXPECT_FALSE(l1->ecx & kLeaf1EcxMonitor);
  EXPECT_FALSE(l1->ecx & kLeaf1EcxPdcm);
  EXPECT_FALSE(l1->ecx & kLeaf1EcxEst);
  EXPECT_TRUE(l1->ecx & (1u << 21));  // x2APIC stays
  EXPECT_TRUE(l1->edx & kLeaf1EdxHtt);
  EXPECT_FALSE(l1->edx & kLeaf1EdxAcpi);
  EXPECT_EQ(l1->eax, 0x000806ecu);  // signature untouched

  v = IntelHost();
  FilterCpuid(v, 0, 1);
  EXPECT_FALSE(Find(v, 1)->edx & kLeaf1EdxHtt);
  EXPECT_EQ(Find(v, 1)->ebx >> 16, 1u);
}

TEST(Cpuid, TscDeadlineTimerIsOfferedOnlyWhenAsked) {
  auto v = AmdHost();
  FilterCpuid(v, 0, 1);
  EXPECT_FALSE(Find(v, 1)->ecx & kLeaf1EcxTscDeadline);
  const uint32_t before = Find(v, 1)->ecx;
  EnableTscDeadlineTimer(v);
  EXPECT_EQ(Find(v, 1)->ecx, before | kLeaf1EcxTscDeadline);
  EXPECT_EQ(Find(v, 0x80000001)->ecx & kLeaf1EcxTscDeadline, 0u);  // leaf 1 only
}

TEST(Cpuid, PowerPmuAndMwaitLeavesAreCleared) {
  auto v = IntelHost();
  FilterCpuid(v, 0, 2);
  const auto* l5 = Find(v, 5);
  EXPECT_EQ(l5->eax | l5->ebx | l5->ecx | l5->edx, 0u);
  const auto* l6 = Find(v, 6);
  EXPECT_EQ(l6->eax, kLeaf6EaxArat);
  EXPECT_EQ(l6->ebx | l6->ecx | l6->edx, 0u);
  const auto* la = Find(v, 0xa);
  EXPECT_EQ(la->eax | la->ebx | la->ecx | la->edx, 0u);
}

TEST(Cpuid, KvmLeavesPassThrough) {
  auto v = IntelHost();
  const kvm_cpuid_entry2 before = *Find(v, 0x40000000);
  FilterCpuid(v, 1, 4);
  EXPECT_EQ(std::memcmp(Find(v, 0x40000000), &before, sizeof before), 0);
  EXPECT_EQ(Find(v, 0x80000008)->ecx, 0u);  // reserved on Intel: left alone
}

TEST(Cpuid, IntelCacheLeafMatchesTheTopology) {
  auto v = IntelHost();
  FilterCpuid(v, 0, 4);
  for (uint32_t sub : {0u, 1u, 2u}) {
    const auto* c = Find(v, 4, sub);
    EXPECT_EQ((c->eax >> 14) & 0xfff, 0u) << sub;  // per-core caches, one thread each
    EXPECT_EQ(c->eax >> 26, 3u) << sub;           // 4 cores
    EXPECT_EQ(c->eax & 0x3fff, IntelHost()[1 + 1 + sub].eax & 0x3fff) << sub;
  }
  EXPECT_EQ((Find(v, 4, 3)->eax >> 14) & 0xfff, 3u);  // L3 shared by all 4
  EXPECT_EQ(Find(v, 4, 3)->ebx, 0x02c0003fu);         // geometry untouched
  EXPECT_EQ(Find(v, 4, 4)->eax, 0u);                  // the end marker stays empty
}

TEST(Cpuid, X2ApicTopologyLeavesAreRebuilt) {
  for (uint32_t count : {1u, 2u, 3u, 8u, 32u}) {
    auto v = IntelHost();
    const uint32_t index = count - 1;
    FilterCpuid(v, index, count);
    for (uint32_t fn : {0xbu, 0x1fu}) {
      ASSERT_EQ(CountLeaf(v, fn), 3u) << fn;
      const auto* smt = Find(v, fn, 0);
      const auto* core = Find(v, fn, 1);
      const auto* end = Find(v, fn, 2);
      ASSERT_TRUE(smt && core && end);
      EXPECT_EQ(smt->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX, KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
      EXPECT_EQ(smt->eax, 0u);
      EXPECT_EQ(smt->ebx, 1u);
      EXPECT_EQ(smt->ecx, kTopologyLevelSmt << 8);
      EXPECT_EQ(core->ebx, count);
      EXPECT_EQ(core->ecx, (kTopologyLevelCore << 8) | 1);
      // Every APIC ID must fit below the package shift.
      EXPECT_LT(index, 1u << core->eax) << count;
      EXPECT_GE(2 * index + 1, 1u << core->eax) << count;  // and the shift is the smallest
      EXPECT_EQ((end->ecx >> 8) & 0xff, kTopologyLevelInvalid);
      EXPECT_EQ(end->ecx & 0xff, 2u);
      for (const auto* e : {smt, core, end}) EXPECT_EQ(e->edx, index);
    }
  }
}

TEST(Cpuid, TopologyLeavesAreNotInventedWhenAbsent) {
  std::vector<kvm_cpuid_entry2> v = {Vendor("GenuineIntel"), Leaf(1, 0, 0, 0, 0, 0)};
  FilterCpuid(v, 0, 2);
  EXPECT_EQ(v.size(), 2u);
  EXPECT_EQ(CountLeaf(v, 0xb), 0u);
}

TEST(Cpuid, AmdTopologyLeaves) {
  auto v = AmdHost();
  FilterCpuid(v, 5, 6);
  const auto* l1 = Find(v, 1);
  EXPECT_EQ(l1->ebx >> 24, 5u);
  EXPECT_EQ((l1->ebx >> 16) & 0xff, 6u);
  const auto* ext = Find(v, 0x80000001);
  EXPECT_TRUE(ext->ecx & kExtEcxCmpLegacy);
  EXPECT_FALSE(ext->ecx & kExtEcxPerfCtrCore);
  EXPECT_FALSE(ext->ecx & kExtEcxMonitorX);
  EXPECT_TRUE(ext->ecx & (1u << 22));  // TOPOEXT stays: 0x8000001E is filled in
  const auto* sizes = Find(v, 0x80000008);
  EXPECT_EQ(sizes->ecx & 0xff, 5u);          // 6 cores
  EXPECT_EQ((sizes->ecx >> 12) & 0xf, 3u);   // 3 APIC ID bits
  EXPECT_EQ(sizes->eax, 0x3030u);
  EXPECT_EQ((Find(v, 0x8000001d, 0)->eax >> 14) & 0xfff, 0u);
  EXPECT_EQ((Find(v, 0x8000001d, 3)->eax >> 14) & 0xfff, 7u);
  EXPECT_EQ(Find(v, 0x8000001d, 3)->eax >> 26, 0u);  // no Intel cores field on AMD
  const auto* topo = Find(v, 0x8000001e);
  EXPECT_EQ(topo->eax, 5u);
  EXPECT_EQ(topo->ebx & 0xff, 5u);
  EXPECT_EQ((topo->ebx >> 8) & 0xff, 0u);  // one thread per compute unit
  EXPECT_EQ(topo->ecx, 0u);
  EXPECT_EQ(CountLeaf(v, 0xb), 3u);
  EXPECT_EQ(Find(v, 0xb, 1)->edx, 5u);

  v = AmdHost();
  FilterCpuid(v, 0, 1);
  EXPECT_FALSE(Find(v, 0x80000001)->ecx & kExtEcxCmpLegacy);
  EXPECT_EQ(Find(v, 0x80000008)->ecx & 0xf0ff, 0u);
}

TEST(Cpuid, OutOfRangeArgumentsAreClamped) {
  auto v = IntelHost();
  FilterCpuid(v, 99, 1000);
  EXPECT_EQ((Find(v, 1)->ebx >> 16) & 0xff, 32u);
  EXPECT_EQ(Find(v, 1)->ebx >> 24, 31u);
  v = IntelHost();
  FilterCpuid(v, 0, 0);
  EXPECT_EQ((Find(v, 1)->ebx >> 16) & 0xff, 1u);
}

}  // namespace
}  // namespace bulkhead::vmm::x86
