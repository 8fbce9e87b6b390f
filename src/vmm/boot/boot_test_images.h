// Synthetic kernel images for the loader tests: a bzImage with a chosen setup
// header and an ELF vmlinux with chosen segments and notes. Test-only.
#pragma once

#include <asm/bootparam.h>
#include <elf.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace bulkhead::vmm::testimg {

// EXPECT_TRUE(Says(error_message, "expected words")).
inline ::testing::AssertionResult Says(const std::string& message, const std::string& text) {
  if (message.find(text) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << message << "\" does not say \"" << text << "\"";
}

struct BzImageSpec {
  uint16_t version = 0x20f;
  uint16_t xloadflags = XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G;
  uint8_t loadflags = LOADED_HIGH;
  uint8_t setup_sects = 4;
  uint16_t boot_flag = 0xaa55;
  uint8_t jump_offset = 0x6a;  // header ends at 0x202 + 0x6a = 0x26c, as in 6.x kernels
  uint32_t kernel_bytes = 0x4000;
  uint32_t init_size = 0x200000;
  uint64_t pref_address = 0x1000000;
  uint32_t kernel_alignment = 0x200000;
  uint8_t relocatable = 1;
  uint32_t initrd_addr_max = 0x7fffffff;
  uint32_t cmdline_size = 2047;
};

inline uint8_t KernelByte(size_t i) { return static_cast<uint8_t>(i * 7 + 3); }

inline std::vector<uint8_t> MakeBzImage(const BzImageSpec& spec) {
  const size_t sects = spec.setup_sects == 0 ? 4 : spec.setup_sects;
  const size_t setup = (sects + 1) * 512;
  std::vector<uint8_t> image(setup + spec.kernel_bytes, 0);
  setup_header h;
  std::memset(&h, 0, sizeof h);
  h.setup_sects = spec.setup_sects;
  h.syssize = spec.kernel_bytes / 16;
  h.boot_flag = spec.boot_flag;
  h.jump = static_cast<uint16_t>(0xeb | (spec.jump_offset << 8));
  h.header = 0x53726448;
  h.version = spec.version;
  h.loadflags = spec.loadflags;
  h.code32_start = 0x100000;
  h.initrd_addr_max = spec.initrd_addr_max;
  h.kernel_alignment = spec.kernel_alignment;
  h.relocatable_kernel = spec.relocatable;
  h.xloadflags = spec.xloadflags;
  h.cmdline_size = spec.cmdline_size;
  h.pref_address = spec.pref_address;
  h.init_size = spec.init_size;
  std::memcpy(image.data() + 0x1f1, &h, sizeof h);
  for (size_t i = 0; i < spec.kernel_bytes; ++i) image[setup + i] = KernelByte(i);
  return image;
}

// One ELF note: name (NUL added), type, descriptor; padded to 4 bytes.
inline std::vector<uint8_t> Note(const std::string& name, uint32_t type, const std::vector<uint8_t>& desc) {
  std::vector<uint8_t> out;
  auto put32 = [&](uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
  };
  put32(static_cast<uint32_t>(name.size() + 1));
  put32(static_cast<uint32_t>(desc.size()));
  put32(type);
  out.insert(out.end(), name.begin(), name.end());
  out.push_back(0);
  while (out.size() % 4) out.push_back(0);
  out.insert(out.end(), desc.begin(), desc.end());
  while (out.size() % 4) out.push_back(0);
  return out;
}

inline std::vector<uint8_t> LittleEndian(uint64_t v, size_t bytes) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
  return out;
}

inline std::vector<uint8_t> PvhNote(uint64_t entry, size_t bytes = 8) {
  return Note("Xen", 18, LittleEndian(entry, bytes));
}

struct Segment {
  uint32_t type = PT_LOAD;
  uint64_t paddr = 0;
  std::vector<uint8_t> data;
  uint64_t memsz = 0;  // 0: data.size()
  uint64_t align = 4;
};

inline std::vector<uint8_t> MakeElf(const std::vector<Segment>& segments) {
  const size_t phoff = sizeof(Elf64_Ehdr);
  size_t offset = phoff + segments.size() * sizeof(Elf64_Phdr);
  std::vector<uint8_t> file(offset, 0);
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_EXEC;
  eh.e_machine = EM_X86_64;
  eh.e_version = EV_CURRENT;
  eh.e_entry = 0xffffffff81000000ull;
  eh.e_phoff = phoff;
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = static_cast<uint16_t>(segments.size());
  std::memcpy(file.data(), &eh, sizeof eh);
  for (size_t i = 0; i < segments.size(); ++i) {
    const Segment& s = segments[i];
    offset = (file.size() + 15) & ~size_t{15};
    file.resize(offset, 0);
    file.insert(file.end(), s.data.begin(), s.data.end());
    Elf64_Phdr ph{};
    ph.p_type = s.type;
    ph.p_flags = PF_R | PF_X;
    ph.p_offset = offset;
    ph.p_vaddr = s.paddr + 0xffffffff80000000ull;
    ph.p_paddr = s.paddr;
    ph.p_filesz = s.data.size();
    ph.p_memsz = s.memsz ? s.memsz : s.data.size();
    ph.p_align = s.align;
    std::memcpy(file.data() + phoff + i * sizeof ph, &ph, sizeof ph);
  }
  return file;
}

// Reads, edits and writes back program header i of an ELF file.
template <class F>
void EditPhdr(std::vector<uint8_t>& file, size_t i, F edit) {
  Elf64_Phdr ph;
  std::memcpy(&ph, file.data() + sizeof(Elf64_Ehdr) + i * sizeof ph, sizeof ph);
  edit(ph);
  std::memcpy(file.data() + sizeof(Elf64_Ehdr) + i * sizeof ph, &ph, sizeof ph);
}

template <class F>
void EditEhdr(std::vector<uint8_t>& file, F edit) {
  Elf64_Ehdr eh;
  std::memcpy(&eh, file.data(), sizeof eh);
  edit(eh);
  std::memcpy(file.data(), &eh, sizeof eh);
}

}  // namespace bulkhead::vmm::testimg
