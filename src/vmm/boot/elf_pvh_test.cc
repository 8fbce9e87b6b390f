#include "vmm/boot/elf_pvh.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "vmm/arch/x86_64/layout.h"
#include "vmm/boot/boot_test_images.h"
#include "vmm/boot/kernel_loader.h"

namespace bulkhead::vmm {
namespace {

using testimg::EditEhdr;
using testimg::EditPhdr;
using testimg::MakeElf;
using testimg::Says;
using testimg::Segment;

constexpr uint64_t kText = 0x1000000;   // 16 MiB, where vmlinux's text sits
constexpr uint64_t kData = 0x1004000;
constexpr uint64_t kEntry = 0x1000040;  // inside the text

std::vector<uint8_t> Bytes(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 13);
  return v;
}

std::vector<uint8_t> Notes(std::vector<uint8_t> pvh) {
  // A build-id note first, as vmlinux has, then the Xen ones.
  std::vector<uint8_t> notes = testimg::Note("GNU", 3, Bytes(20, 1));
  std::vector<uint8_t> other_xen = testimg::Note("Xen", 6, Bytes(6, 9));  // XEN_ELFNOTE_GUEST_OS
  notes.insert(notes.end(), other_xen.begin(), other_xen.end());
  notes.insert(notes.end(), pvh.begin(), pvh.end());
  return notes;
}

// text (file-backed), data with a bss tail, and the notes.
std::vector<uint8_t> Vmlinux(std::vector<uint8_t> pvh = testimg::PvhNote(kEntry)) {
  return MakeElf({
      Segment{PT_LOAD, kText, Bytes(0x3000, 5), 0, 0x200000},
      Segment{PT_LOAD, kData, Bytes(0x100, 7), 0x2000, 0x1000},
      Segment{PT_NOTE, 0, Notes(std::move(pvh)), 0, 4},
  });
}

GuestMemory Ram(uint64_t bytes = 64 * x86::kMiB) {
  auto mem = GuestMemory::Create(x86::RamRanges(bytes));
  EXPECT_TRUE(mem.ok()) << mem.error().message();
  return std::move(mem).value();
}

// The error loading `file` gives ("" when it loads). A refused file leaves
// guest memory as it was.
std::string Refusal(const std::vector<uint8_t>& file) {
  GuestMemory mem = Ram();
  auto loaded = LoadElfPvh(mem, file);
  if (loaded.ok()) return "";
  EXPECT_EQ(*mem.ReadObj<uint64_t>(GuestAddress(kText)), 0u);
  EXPECT_EQ(*mem.ReadObj<uint64_t>(GuestAddress(kData)), 0u);
  return loaded.error().message();
}

TEST(ElfPvh, LoadsSegmentsAndFindsTheEntryNote) {
  GuestMemory mem = Ram();
  // Old contents in the bss must not survive the load.
  std::vector<uint8_t> garbage(0x2000, 0xaa);
  ASSERT_TRUE(mem.Write(GuestAddress(kData), garbage).ok());
  std::vector<uint8_t> file = Vmlinux();
  ASSERT_TRUE(IsElf(file));
  auto k = LoadKernelFromBytes(mem, file);
  ASSERT_TRUE(k.ok()) << k.error().message();
  EXPECT_EQ(k->protocol, BootProtocol::kPvh);
  EXPECT_EQ(k->entry.raw(), kEntry);
  EXPECT_FALSE(k->header.has_value());
  EXPECT_EQ(k->kernel_end.raw(), kData + 0x2000);
  std::vector<uint8_t> text(0x3000);
  ASSERT_TRUE(mem.Read(GuestAddress(kText), text).ok());
  EXPECT_EQ(text, Bytes(0x3000, 5));
  std::vector<uint8_t> data(0x2000);
  ASSERT_TRUE(mem.Read(GuestAddress(kData), data).ok());
  EXPECT_EQ(std::vector<uint8_t>(data.begin(), data.begin() + 0x100), Bytes(0x100, 7));
  for (size_t i = 0x100; i < data.size(); ++i) ASSERT_EQ(data[i], 0) << "bss byte " << i;
}

TEST(ElfPvh, AcceptsAFourByteEntry) {
  GuestMemory mem = Ram();
  auto k = LoadElfPvh(mem, Vmlinux(testimg::PvhNote(kEntry, 4)));
  ASSERT_TRUE(k.ok()) << k.error().message();
  EXPECT_EQ(k->entry.raw(), kEntry);
}

TEST(ElfPvh, NoPvhNoteIsAClearError) {
  // Xen notes of other types do not count.
  EXPECT_TRUE(Says(Refusal(Vmlinux({})), "kernel has no PVH entry note"));
  EXPECT_TRUE(Says(Refusal(Vmlinux({})), "CONFIG_PVH"));
  std::vector<uint8_t> no_notes = MakeElf({Segment{PT_LOAD, kText, Bytes(0x100, 1)}});
  EXPECT_TRUE(Says(Refusal(no_notes), "no PVH entry note"));
  // The right type under another name is not the Xen note.
  EXPECT_TRUE(Says(Refusal(Vmlinux(testimg::Note("Xe", 18, testimg::LittleEndian(kEntry, 8)))),
                   "no PVH entry note"));
}

TEST(ElfPvh, RefusesBadEntries) {
  EXPECT_TRUE(Says(Refusal(Vmlinux(testimg::Note("Xen", 18, Bytes(6, 0)))), "6-byte value"));
  EXPECT_TRUE(Says(Refusal(Vmlinux(testimg::PvhNote(0x200000))), "PVH entry 0x200000 is not in"));
  // Inside the data's bss: not code that was loaded from the file.
  EXPECT_TRUE(Says(Refusal(Vmlinux(testimg::PvhNote(kData + 0x1000))), "is not in the kernel's loaded code"));
}

TEST(ElfPvh, RefusesMalformedHeaders) {
  std::vector<uint8_t> good = Vmlinux();
  EXPECT_TRUE(Says(Refusal({good.begin(), good.begin() + 40}), "ELF truncated"));
  auto edited = [&](auto edit) {
    std::vector<uint8_t> f = good;
    EditEhdr(f, edit);
    return Refusal(f);
  };
  EXPECT_TRUE(Says(edited([](Elf64_Ehdr& e) { e.e_ident[EI_CLASS] = ELFCLASS32; }), "not 64-bit"));
  EXPECT_TRUE(Says(edited([](Elf64_Ehdr& e) { e.e_ident[EI_DATA] = ELFDATA2MSB; }), "little-endian"));
  EXPECT_TRUE(Says(edited([](Elf64_Ehdr& e) { e.e_machine = EM_AARCH64; }), "not x86_64"));
  EXPECT_TRUE(Says(edited([](Elf64_Ehdr& e) { e.e_type = ET_DYN; }), "not an executable"));
  EXPECT_TRUE(Says(edited([](Elf64_Ehdr& e) { e.e_phentsize = 32; }), "program header size is 32"));
  EXPECT_TRUE(Says(edited([](Elf64_Ehdr& e) { e.e_phnum = 0; }), "0 program headers"));
  EXPECT_TRUE(Says(edited([](Elf64_Ehdr& e) { e.e_phnum = 65; }), "65 program headers"));
  EXPECT_TRUE(Says(edited([](Elf64_Ehdr& e) { e.e_phoff = 1u << 20; }), "run past the end"));
  EXPECT_TRUE(Says(edited([](Elf64_Ehdr& e) { e.e_phoff = UINT64_MAX - 8; }), "run past the end"));
  // Program headers that end one byte past the file.
  EXPECT_TRUE(Says(edited([&](Elf64_Ehdr& e) { e.e_phoff = good.size() - 3 * sizeof(Elf64_Phdr) + 1; }),
                   "run past the end"));
}

TEST(ElfPvh, RefusesBadSegments) {
  const std::vector<uint8_t> good = Vmlinux();
  auto edited = [&](size_t i, auto edit) {
    std::vector<uint8_t> f = good;
    EditPhdr(f, i, edit);
    return Refusal(f);
  };
  EXPECT_TRUE(Says(edited(0, [&](Elf64_Phdr& p) { p.p_filesz = p.p_memsz = good.size(); }), "run past the end of the"));
  EXPECT_TRUE(Says(edited(0, [](Elf64_Phdr& p) { p.p_offset = UINT64_MAX - 0x10; }), "run past the end"));
  EXPECT_TRUE(Says(edited(1, [](Elf64_Phdr& p) { p.p_filesz = 0x3000; }), "exceeds p_memsz"));
  EXPECT_TRUE(Says(edited(0, [](Elf64_Phdr& p) { p.p_paddr = 0x7000; }), "below 1 MiB"));
  EXPECT_TRUE(Says(edited(1, [](Elf64_Phdr& p) { p.p_paddr = 64 * x86::kMiB - 0x1000; }),
                   "is not inside guest RAM"));
  EXPECT_TRUE(Says(edited(1, [](Elf64_Phdr& p) { p.p_paddr = 5 * x86::kGiB; }), "not inside guest RAM"));
  EXPECT_TRUE(Says(edited(1, [](Elf64_Phdr& p) {
                     p.p_paddr = UINT64_MAX - 0xfff;
                     p.p_memsz = 0x2000;
                   }),
                   "not inside guest RAM"));
  EXPECT_TRUE(Says(edited(1, [](Elf64_Phdr& p) { p.p_memsz = UINT64_MAX; }), "not inside guest RAM"));
  EXPECT_TRUE(Says(edited(2, [&](Elf64_Phdr& p) { p.p_offset = good.size(); p.p_filesz = 1; }),
                   "note segment 2 runs past"));
  std::vector<uint8_t> no_load = MakeElf({Segment{PT_NOTE, 0, testimg::PvhNote(kEntry)}});
  EXPECT_TRUE(Says(Refusal(no_load), "no PT_LOAD"));
}

TEST(ElfPvh, NoteWalkIsBounded) {
  // A note whose descriptor claims 4 GiB.
  std::vector<uint8_t> huge = testimg::Note("Xen", 18, {});
  huge[4] = huge[5] = huge[6] = huge[7] = 0xff;
  auto r = FindPvhEntryNote(huge, 4);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Says(r.error().message(), "runs past the end of its segment"));
  EXPECT_TRUE(Says(Refusal(Vmlinux(huge)), "runs past the end of its segment"));
  // A name length near 2^32 cannot wrap the arithmetic.
  std::vector<uint8_t> name = testimg::Note("Xen", 18, {1, 2, 3, 4});
  name[0] = name[1] = name[2] = name[3] = 0xff;
  EXPECT_FALSE(FindPvhEntryNote(name, 4).ok());
  // Empty and short segments hold no note.
  auto empty = FindPvhEntryNote({}, 4);
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->has_value());
  std::vector<uint8_t> short_bytes(11, 0);
  EXPECT_FALSE(FindPvhEntryNote(short_bytes, 4)->has_value());
}

TEST(ElfPvh, EightByteAlignedNotes) {
  // A 20-byte note first: with 8-byte alignment the next one starts at 24.
  std::vector<uint8_t> notes = {4, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 'G', 'N', 'U', 0, 9, 9, 9, 9, 0, 0, 0, 0};
  std::vector<uint8_t> pvh = {4, 0, 0, 0, 8, 0, 0, 0, 18, 0, 0, 0, 'X', 'e', 'n', 0};
  std::vector<uint8_t> entry = testimg::LittleEndian(kEntry, 8);
  notes.insert(notes.end(), pvh.begin(), pvh.end());
  notes.insert(notes.end(), entry.begin(), entry.end());
  auto r = FindPvhEntryNote(notes, 8);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->value_or(0), kEntry);
  // Read with 4-byte alignment the same bytes misparse and hold no entry.
  auto misread = FindPvhEntryNote(notes, 4);
  EXPECT_FALSE(misread.ok() && misread->has_value());
}

}  // namespace
}  // namespace bulkhead::vmm
