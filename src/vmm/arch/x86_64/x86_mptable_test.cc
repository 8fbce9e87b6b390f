// Writes the MP table and parses it back as a guest would.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "vmm/arch/x86_64/layout.h"
#include "vmm/arch/x86_64/mptable.h"

namespace bulkhead::vmm::x86 {
namespace {

uint8_t Sum(const std::vector<uint8_t>& bytes) {
  uint8_t s = 0;
  for (uint8_t b : bytes) s = static_cast<uint8_t>(s + b);
  return s;
}

std::vector<uint8_t> ReadBytes(const GuestMemory& mem, uint64_t addr, size_t n) {
  std::vector<uint8_t> out(n);
  EXPECT_TRUE(mem.Read(GuestAddress(addr), out).ok());
  return out;
}

struct Parsed {
  std::vector<MpProcessorEntry> cpus;
  std::vector<MpBusEntry> buses;
  std::vector<MpIoapicEntry> ioapics;
  std::vector<MpInterruptEntry> io_irqs;
  std::vector<MpInterruptEntry> local_irqs;
  uint16_t entry_count = 0;
};

Parsed Parse(const GuestMemory& mem) {
  Parsed out;
  auto fp_bytes = ReadBytes(mem, kMpTableAddr.raw(), sizeof(MpFloatingPointer));
  MpFloatingPointer fp;
  std::memcpy(&fp, fp_bytes.data(), sizeof fp);
  EXPECT_EQ(std::memcmp(fp.signature, "_MP_", 4), 0);
  EXPECT_EQ(Sum(fp_bytes), 0) << "floating pointer checksum";
  EXPECT_EQ(fp.length, 1);
  EXPECT_EQ(fp.spec_rev, 4);
  EXPECT_EQ(fp.features[0], 0);  // the table is present, no default configuration
  auto header = *mem.ReadObj<MpConfigHeader>(GuestAddress(fp.config_table));
  EXPECT_EQ(std::memcmp(header.signature, "PCMP", 4), 0);
  EXPECT_EQ(header.spec_rev, 4);
  EXPECT_EQ(header.lapic_addr, kLapicAddr.raw());
  EXPECT_LE(fp.config_table + header.base_length, kMpTableAddr.raw() + kMpTableMaxSize);
  auto table = ReadBytes(mem, fp.config_table, header.base_length);
  EXPECT_EQ(Sum(table), 0) << "configuration table checksum";
  out.entry_count = header.entry_count;
  size_t off = sizeof(MpConfigHeader);
  for (uint16_t i = 0; i < header.entry_count; ++i) {
    if (off >= table.size()) {
      ADD_FAILURE() << "entry " << i << " past the table's length";
      break;
    }
    const uint8_t type = table[off];
    const size_t len = type == kMpProcessor ? sizeof(MpProcessorEntry) : 8;
    if (off + len > table.size()) {
      ADD_FAILURE() << "entry " << i << " overruns the table";
      break;
    }
    const uint8_t* p = &table[off];
    switch (type) {
      case kMpProcessor: out.cpus.emplace_back(); std::memcpy(&out.cpus.back(), p, len); break;
      case kMpBus: out.buses.emplace_back(); std::memcpy(&out.buses.back(), p, len); break;
      case kMpIoapic: out.ioapics.emplace_back(); std::memcpy(&out.ioapics.back(), p, len); break;
      case kMpIoInterrupt: out.io_irqs.emplace_back(); std::memcpy(&out.io_irqs.back(), p, len); break;
      case kMpLocalInterrupt:
        out.local_irqs.emplace_back();
        std::memcpy(&out.local_irqs.back(), p, len);
        break;
      default: ADD_FAILURE() << "unknown entry type " << int(type); return out;
    }
    off += len;
  }
  EXPECT_EQ(off, table.size()) << "entries fill the table exactly";
  return out;
}

TEST(MpTable, ParsesBackForEachCpuCount) {
  for (uint32_t n : {1u, 2u, 7u, kMaxVcpus}) {
    auto mem = GuestMemory::Create(RamRanges(16 * kMiB));
    ASSERT_TRUE(mem.ok());
    ASSERT_TRUE(WriteMpTable(*mem, n).ok()) << n;
    Parsed t = Parse(*mem);
    EXPECT_EQ(t.entry_count, n + 1 + 1 + 24 + 2);
    ASSERT_EQ(t.cpus.size(), n);
    for (uint32_t i = 0; i < n; ++i) {
      EXPECT_EQ(t.cpus[i].apic_id, i);
      EXPECT_TRUE(t.cpus[i].cpu_flags & kMpCpuEnabled);
      EXPECT_EQ(bool(t.cpus[i].cpu_flags & kMpCpuBootstrap), i == 0) << "only CPU 0 is the BSP";
    }
    ASSERT_EQ(t.buses.size(), 1u);
    EXPECT_EQ(std::memcmp(t.buses[0].bus_type, "ISA   ", 6), 0);
    ASSERT_EQ(t.ioapics.size(), 1u);
    EXPECT_EQ(t.ioapics[0].apic_id, n);  // distinct from every CPU's APIC ID
    EXPECT_EQ(t.ioapics[0].addr, kIoapicAddr.raw());
    EXPECT_EQ(t.ioapics[0].flags & 1, 1);
    ASSERT_EQ(t.io_irqs.size(), kMaxIrq + 1);
    for (uint32_t irq = 0; irq <= kMaxIrq; ++irq) {
      EXPECT_EQ(t.io_irqs[irq].src_irq, irq);
      EXPECT_EQ(t.io_irqs[irq].dst_pin, irq);
      EXPECT_EQ(t.io_irqs[irq].dst_apic, n);
      EXPECT_EQ(t.io_irqs[irq].src_bus, t.buses[0].bus_id);
    }
    ASSERT_EQ(t.local_irqs.size(), 2u);
    EXPECT_EQ(t.local_irqs[0].irq_type, kMpIrqExtInt);
    EXPECT_EQ(t.local_irqs[0].dst_pin, 0);
    EXPECT_EQ(t.local_irqs[1].irq_type, kMpIrqNmi);
    EXPECT_EQ(t.local_irqs[1].dst_pin, 1);
    EXPECT_EQ(t.local_irqs[1].dst_apic, 0xff);
  }
}

TEST(MpTable, FitsTheEbdaKiBAtTheLimit) {
  EXPECT_LE(MpTableSize(kMaxVcpus), kMpTableMaxSize);
  EXPECT_EQ(MpTableSize(1), 16u + 44 + 20 + 8 + 8 + 26 * 8);
}

TEST(MpTable, RefusesBadCpuCounts) {
  auto mem = GuestMemory::Create(RamRanges(16 * kMiB));
  ASSERT_TRUE(mem.ok());
  auto zero = WriteMpTable(*mem, 0);
  ASSERT_FALSE(zero.ok());
  auto many = WriteMpTable(*mem, kMaxVcpus + 1);
  ASSERT_FALSE(many.ok());
  EXPECT_NE(many.error().message().find("33 vCPUs"), std::string::npos) << many.error().message();
  // Nothing was written by the refused calls.
  EXPECT_EQ(*mem->ReadObj<uint32_t>(kMpTableAddr), 0u);
}

TEST(MpTable, FailsWithoutBaseMemory) {
  auto mem = GuestMemory::Create({{kHimemStart, kMiB}});
  ASSERT_TRUE(mem.ok());
  auto st = WriteMpTable(*mem, 1);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message().find("MP"), std::string::npos);
}

}  // namespace
}  // namespace bulkhead::vmm::x86
