// Loads an ELF64 vmlinux for PVH entry: PT_LOAD segments at their physical
// addresses, and the entry point from the Xen ELF note
// XEN_ELFNOTE_PHYS32_ENTRY, which a kernel built with CONFIG_PVH carries.
// The file is untrusted input: every offset and size is checked against the
// file and guest RAM before a byte is copied.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "base/result.h"
#include "vmm/boot/kernel_file.h"
#include "vmm/boot/loaded_kernel.h"
#include "vmm/memory/guest_memory.h"

namespace bulkhead::vmm {

constexpr uint32_t kXenElfNotePhys32Entry = 18;
// More program headers than any kernel has; bounds the work a file can ask for.
constexpr uint16_t kMaxProgramHeaders = 64;

// True when the bytes start with the ELF magic.
bool IsElf(std::span<const uint8_t> file);

// The PHYS32_ENTRY address from the notes of one PT_NOTE segment's bytes;
// nullopt when the segment holds no such note, an error when it is malformed.
// `align` is the segment's note alignment (4, or 8 for 8-aligned segments).
Result<std::optional<uint64_t>> FindPvhEntryNote(std::span<const uint8_t> notes, uint64_t align);

// Loads every PT_LOAD segment (p_filesz bytes from the file, zeros up to
// p_memsz) at p_paddr, which must lie in guest RAM at or above 1 MiB.
// Nothing is written unless the whole file checks out, PVH note included. The file is read
// where it is needed: headers, notes, and each segment straight into guest RAM.
Result<LoadedKernel> LoadElfPvh(GuestMemory& mem, const KernelFile& file);
Result<LoadedKernel> LoadElfPvh(GuestMemory& mem, std::span<const uint8_t> file);

}  // namespace bulkhead::vmm
