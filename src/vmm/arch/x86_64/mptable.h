// An Intel MultiProcessor Specification 1.4 table, so a guest without ACPI
// finds its CPUs, its IOAPIC and how ISA IRQs reach the IOAPIC pins. Linux
// looks for the floating pointer in the last KiB of base memory (kMpTableAddr);
// the configuration table follows it directly.
#pragma once

#include <cstdint>

#include "base/result.h"
#include "vmm/memory/guest_memory.h"

namespace bulkhead::vmm::x86 {

// MP floating pointer structure ("_MP_", 16 bytes).
struct MpFloatingPointer {
  char signature[4];
  uint32_t config_table;  // physical address of the "PCMP" table
  uint8_t length;         // in 16-byte units: 1
  uint8_t spec_rev;       // 4 = version 1.4
  uint8_t checksum;       // all 16 bytes sum to 0
  uint8_t features[5];    // feature1 0: a configuration table is present
};
static_assert(sizeof(MpFloatingPointer) == 16);

// MP configuration table header ("PCMP", 44 bytes), followed by the entries.
struct MpConfigHeader {
  char signature[4];
  uint16_t base_length;  // header plus entries, in bytes
  uint8_t spec_rev;
  uint8_t checksum;  // the base_length bytes sum to 0
  char oem_id[8];
  char product_id[12];
  uint32_t oem_table;
  uint16_t oem_table_size;
  uint16_t entry_count;
  uint32_t lapic_addr;
  uint16_t ext_length;
  uint8_t ext_checksum;
  uint8_t reserved;
};
static_assert(sizeof(MpConfigHeader) == 44);

enum MpEntryType : uint8_t {
  kMpProcessor = 0,
  kMpBus = 1,
  kMpIoapic = 2,
  kMpIoInterrupt = 3,
  kMpLocalInterrupt = 4,
};

struct MpProcessorEntry {
  uint8_t type;
  uint8_t apic_id;
  uint8_t apic_version;
  uint8_t cpu_flags;  // bit 0 enabled, bit 1 bootstrap processor
  uint32_t signature;
  uint32_t features;
  uint32_t reserved[2];
};
static_assert(sizeof(MpProcessorEntry) == 20);

struct MpBusEntry {
  uint8_t type;
  uint8_t bus_id;
  char bus_type[6];
};

struct MpIoapicEntry {
  uint8_t type;
  uint8_t apic_id;
  uint8_t version;
  uint8_t flags;  // bit 0 enabled
  uint32_t addr;
};

// Both I/O (type 3) and local (type 4) interrupt assignments.
struct MpInterruptEntry {
  uint8_t type;
  uint8_t irq_type;  // MpIrqType
  uint16_t flags;    // 0: polarity and trigger mode conform to the bus
  uint8_t src_bus;
  uint8_t src_irq;
  uint8_t dst_apic;  // IOAPIC id, or local APIC id (0xff: all)
  uint8_t dst_pin;   // IOAPIC INTIN# or LINTIN#
};
static_assert(sizeof(MpBusEntry) == 8 && sizeof(MpIoapicEntry) == 8 && sizeof(MpInterruptEntry) == 8);

enum MpIrqType : uint8_t { kMpIrqInt = 0, kMpIrqNmi = 1, kMpIrqSmi = 2, kMpIrqExtInt = 3 };

constexpr uint8_t kMpCpuEnabled = 1;
constexpr uint8_t kMpCpuBootstrap = 2;
constexpr uint8_t kMpIsaBusId = 0;

// Bytes the floating pointer and configuration table take for vcpu_count CPUs.
uint64_t MpTableSize(uint32_t vcpu_count);

// Writes the table for vCPUs with APIC IDs 0..vcpu_count-1 (0 is the BSP),
// one ISA bus, the IOAPIC (ID vcpu_count) with ISA IRQ n on pin n for
// 0..kMaxIrq, LINT0 as ExtINT on the BSP and LINT1 as NMI on all CPUs.
// Fails for 0 or more than kMaxVcpus CPUs, or when kMpTableAddr is not RAM.
Status WriteMpTable(GuestMemory& mem, uint32_t vcpu_count);

}  // namespace bulkhead::vmm::x86
