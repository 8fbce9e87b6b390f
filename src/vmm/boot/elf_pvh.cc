#include "vmm/boot/elf_pvh.h"

#include <elf.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "vmm/arch/x86_64/layout.h"
#include "vmm/memory/hex.h"

namespace bulkhead::vmm {

namespace {

constexpr uint64_t AlignUp(uint64_t v, uint64_t align) { return (v + align - 1) & ~(align - 1); }

Result<Elf64_Ehdr> CheckHeader(const KernelFile& file) {
  if (file.size() < sizeof(Elf64_Ehdr)) {
    return Error("ELF truncated: " + std::to_string(file.size()) + " bytes, the header alone is 64");
  }
  Elf64_Ehdr eh;
  BH_TRY(file.ReadAt(0, {reinterpret_cast<uint8_t*>(&eh), sizeof eh}));
  if (eh.e_ident[EI_CLASS] != ELFCLASS64) return Error("ELF is not 64-bit");
  if (eh.e_ident[EI_DATA] != ELFDATA2LSB) return Error("ELF is not little-endian");
  if (eh.e_machine != EM_X86_64) return Error("ELF machine is " + std::to_string(eh.e_machine) + ", not x86_64");
  if (eh.e_type != ET_EXEC) return Error("ELF is not an executable (e_type " + std::to_string(eh.e_type) + ")");
  if (eh.e_phentsize != sizeof(Elf64_Phdr)) {
    return Error("ELF program header size is " + std::to_string(eh.e_phentsize) + ", not 56");
  }
  if (eh.e_phnum == 0 || eh.e_phnum > kMaxProgramHeaders) {
    return Error("ELF has " + std::to_string(eh.e_phnum) + " program headers; 1 to " +
                 std::to_string(kMaxProgramHeaders) + " are accepted");
  }
  if (!file.Contains(eh.e_phoff, uint64_t{eh.e_phnum} * sizeof(Elf64_Phdr))) {
    return Error("ELF program headers at " + Hex(eh.e_phoff) + " run past the end of the file");
  }
  return eh;
}

Status CheckLoadSegment(const GuestMemory& mem, const Elf64_Phdr& ph, size_t i, const KernelFile& file) {
  const std::string what = "ELF segment " + std::to_string(i);
  if (ph.p_filesz > ph.p_memsz) {
    return Error(what + ": p_filesz " + Hex(ph.p_filesz) + " exceeds p_memsz " + Hex(ph.p_memsz));
  }
  if (!file.Contains(ph.p_offset, ph.p_filesz)) {
    return Error(what + ": bytes at " + Hex(ph.p_offset) + " + " + Hex(ph.p_filesz) +
                 " run past the end of the " + std::to_string(file.size()) + "-byte file");
  }
  if (ph.p_paddr < x86::kHimemStart.raw()) {
    return Error(what + ": loads at " + Hex(ph.p_paddr) + ", below 1 MiB where the boot structures live");
  }
  if (!mem.Contains(GuestAddress(ph.p_paddr), ph.p_memsz)) {
    return Error(what + ": " + Hex(ph.p_paddr) + " + " + Hex(ph.p_memsz) + " is not inside guest RAM");
  }
  return Ok();
}

}  // namespace

bool IsElf(std::span<const uint8_t> file) {
  return file.size() >= SELFMAG && std::memcmp(file.data(), ELFMAG, SELFMAG) == 0;
}

Result<std::optional<uint64_t>> FindPvhEntryNote(std::span<const uint8_t> notes, uint64_t align) {
  if (align != 8) align = 4;
  uint64_t pos = 0;
  // Every note advances pos by at least its 12-byte header: the loop is bounded.
  while (notes.size() - pos >= sizeof(Elf64_Nhdr)) {
    Elf64_Nhdr nh;
    std::memcpy(&nh, notes.data() + pos, sizeof nh);
    const uint64_t name_at = pos + sizeof nh;
    const uint64_t desc_at = AlignUp(name_at + nh.n_namesz, align);
    const uint64_t next = AlignUp(desc_at + nh.n_descsz, align);  // pos < size, sizes < 2^32: no wrap
    if (desc_at + nh.n_descsz > notes.size()) {
      return Error("ELF note at " + Hex(pos) + " runs past the end of its segment");
    }
    const bool xen = nh.n_namesz == 4 && std::memcmp(notes.data() + name_at, "Xen", 4) == 0;
    if (xen && nh.n_type == kXenElfNotePhys32Entry) {
      if (nh.n_descsz == 4) {
        uint32_t entry;
        std::memcpy(&entry, notes.data() + desc_at, sizeof entry);
        return std::optional<uint64_t>(entry);
      }
      if (nh.n_descsz == 8) {
        uint64_t entry;
        std::memcpy(&entry, notes.data() + desc_at, sizeof entry);
        return std::optional<uint64_t>(entry);
      }
      return Error("PVH entry note has a " + std::to_string(nh.n_descsz) + "-byte value; 4 or 8 expected");
    }
    if (next >= notes.size()) break;
    pos = next;
  }
  return std::optional<uint64_t>();
}

Result<LoadedKernel> LoadElfPvh(GuestMemory& mem, std::span<const uint8_t> file) {
  return LoadElfPvh(mem, KernelFile::FromBytes(file));
}

Result<LoadedKernel> LoadElfPvh(GuestMemory& mem, const KernelFile& file) {
  uint8_t magic[SELFMAG] = {};
  if (file.size() < SELFMAG || !file.ReadAt(0, magic).ok() || !IsElf(magic)) return Error("not an ELF file");
  BH_ASSIGN(Elf64_Ehdr eh, CheckHeader(file));
  std::vector<Elf64_Phdr> phdrs(eh.e_phnum);
  BH_TRY(file.ReadAt(eh.e_phoff, {reinterpret_cast<uint8_t*>(phdrs.data()), phdrs.size() * sizeof(Elf64_Phdr)}));

  std::optional<uint64_t> entry;
  uint64_t kernel_end = 0;
  size_t loads = 0;
  for (size_t i = 0; i < phdrs.size(); ++i) {
    const Elf64_Phdr& ph = phdrs[i];
    if (ph.p_type == PT_LOAD) {
      BH_TRY(CheckLoadSegment(mem, ph, i, file));
      kernel_end = std::max(kernel_end, ph.p_paddr + ph.p_memsz);  // checked by Contains
      ++loads;
    } else if (ph.p_type == PT_NOTE && !entry) {
      if (!file.Contains(ph.p_offset, ph.p_filesz)) {
        return Error("ELF note segment " + std::to_string(i) + " runs past the end of the file");
      }
      BH_ASSIGN(std::vector<uint8_t> notes, file.Read(ph.p_offset, ph.p_filesz));
      BH_ASSIGN(entry, FindPvhEntryNote(notes, ph.p_align));
    }
  }
  if (loads == 0) return Error("ELF has no PT_LOAD segment");
  if (!entry) {
    return Error("kernel has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); build it with CONFIG_PVH=y");
  }
  const bool entry_loaded = std::any_of(phdrs.begin(), phdrs.end(), [&](const Elf64_Phdr& ph) {
    return ph.p_type == PT_LOAD && *entry >= ph.p_paddr && *entry - ph.p_paddr < ph.p_filesz;
  });
  if (!entry_loaded || *entry >= x86::kMmioGapEnd.raw()) {
    return Error("PVH entry " + Hex(*entry) + " is not in the kernel's loaded code below 4 GiB");
  }

  for (const Elf64_Phdr& ph : phdrs) {
    if (ph.p_type != PT_LOAD) continue;
    const GuestAddress at(ph.p_paddr);
    if (ph.p_filesz > 0) {
      // Straight from the file into guest RAM (checked above to lie inside both).
      BH_ASSIGN(std::span<uint8_t> dest, mem.Slice(at, ph.p_filesz));
      BH_TRY(file.ReadAt(ph.p_offset, dest).Context("loading an ELF segment"));
    }
    // The rest up to p_memsz (bss) is zero, whatever the memory held before.
    if (ph.p_memsz > ph.p_filesz) {
      BH_ASSIGN(std::span<uint8_t> tail, mem.Slice(at.Plus(ph.p_filesz), ph.p_memsz - ph.p_filesz));
      std::fill(tail.begin(), tail.end(), uint8_t{0});
    }
  }

  LoadedKernel loaded;
  loaded.protocol = BootProtocol::kPvh;
  loaded.entry = GuestAddress(*entry);
  loaded.kernel_end = GuestAddress(kernel_end);
  return loaded;
}

}  // namespace bulkhead::vmm
