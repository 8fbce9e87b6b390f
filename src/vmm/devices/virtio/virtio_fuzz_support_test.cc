#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <random>
#include <vector>

#include "vmm/devices/virtio/block.h"
#include "vmm/devices/virtio/fuzz_support.h"

namespace bulkhead::vmm {
namespace {

constexpr size_t kControl = 8;

void Put16(std::vector<uint8_t>& in, size_t guest_addr, uint16_t v) {
  memcpy(in.data() + kControl + guest_addr, &v, 2);
}
void Put32(std::vector<uint8_t>& in, size_t guest_addr, uint32_t v) {
  memcpy(in.data() + kControl + guest_addr, &v, 4);
}
void Put64(std::vector<uint8_t>& in, size_t guest_addr, uint64_t v) {
  memcpy(in.data() + kControl + guest_addr, &v, 8);
}
void Desc(std::vector<uint8_t>& in, size_t table, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
          uint16_t next) {
  Put64(in, table + 16u * i, addr);
  Put32(in, table + 16u * i + 8, len);
  Put16(in, table + 16u * i + 12, flags);
  Put16(in, table + 16u * i + 14, next);
}

// Queue of 8 with indirect allowed: desc 0x0, avail 0x1000, used 0x2000,
// two chains, the second through an indirect table.
std::vector<uint8_t> ValidQueueInput() {
  std::vector<uint8_t> in(kControl + 0x5000, 0);
  in[0] = 3;  // 1 << 3
  in[1] = 1;
  in[2] = 0x00, in[3] = 0x00;  // desc at 0
  in[4] = 0x00, in[5] = 0x01;  // 0x100 -> 0x1000
  in[6] = 0x00, in[7] = 0x02;  // 0x200 -> 0x2000
  Desc(in, 0, 0, 0x3000, 16, 1, 1);
  Desc(in, 0, 1, 0x3100, 64, 2, 0);
  Desc(in, 0, 2, 0x4000, 32, 4, 0);
  Desc(in, 0x4000, 0, 0x3200, 8, 1, 1);
  Desc(in, 0x4000, 1, 0x3300, 8, 2, 0);
  Put16(in, 0x1000 + 4, 0);
  Put16(in, 0x1000 + 6, 2);
  Put16(in, 0x1000 + 2, 2);
  return in;
}

// A block IN request of one sector plus a FLUSH, on a queue of 8.
std::vector<uint8_t> ValidBlockInput() {
  std::vector<uint8_t> in(kControl + 0x5000, 0);
  in[0] = 3;
  in[1] = 0;
  Put32(in, 0x3000, kVirtioBlkTIn);
  Put64(in, 0x3008, 2);
  Desc(in, 0, 0, 0x3000, 16, 1, 1);
  Desc(in, 0, 1, 0x4000, 512, 3, 2);
  Desc(in, 0, 2, 0x3fff, 1, 2, 0);
  Put32(in, 0x3020, kVirtioBlkTFlush);
  Desc(in, 0, 3, 0x3020, 16, 1, 4);
  Desc(in, 0, 4, 0x3ffe, 1, 2, 0);
  Put16(in, 0x1000 + 4, 0);
  Put16(in, 0x1000 + 6, 3);
  Put16(in, 0x1000 + 2, 2);
  return in;
}

TEST(FuzzSupport, ValidInputsReachTheDevices) {
  EXPECT_EQ(FuzzVirtqueue(ValidQueueInput()), 2u);
  EXPECT_EQ(FuzzBlockRequests(ValidBlockInput()), 2u);
  auto read_only = ValidBlockInput();
  read_only[1] = 1;
  EXPECT_EQ(FuzzBlockRequests(read_only), 2u);
}

size_t OpenFds() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

// A fuzzer runs millions of inputs in one process: nothing may accumulate.
TEST(FuzzSupport, NoFdIsLeftBehind) {
  const size_t before = OpenFds();
  auto block = ValidBlockInput();
  block[1] = 1;  // read-only: the memfd is reopened
  for (int i = 0; i < 50; ++i) {
    FuzzBlockRequests(block);
    FuzzBlockRequests(ValidBlockInput());
    FuzzVirtqueue(ValidQueueInput());
  }
  EXPECT_EQ(OpenFds(), before);
}

TEST(FuzzSupport, ShortInputsAreIgnored) {
  std::vector<uint8_t> tiny(3, 0xff);
  EXPECT_EQ(FuzzVirtqueue(tiny), 0u);
  EXPECT_EQ(FuzzBlockRequests(tiny), 0u);
  EXPECT_EQ(FuzzVirtqueue({}), 0u);
}

// Every byte of the valid inputs' interesting part, set to edge values: the
// near-valid inputs a fuzzer finds first.
TEST(FuzzSupport, SingleByteMutationsOfValidInputsSurvive) {
  const uint8_t values[] = {0x00, 0x01, 0x02, 0x04, 0x07, 0x10, 0x7f, 0x80, 0xff};
  auto mutate = [&](std::vector<uint8_t> base, auto fn, const std::vector<size_t>& regions) {
    for (size_t start : regions) {
      for (size_t i = start; i < start + 64 && i < base.size(); ++i) {
        const uint8_t saved = base[i];
        for (uint8_t v : values) {
          base[i] = v;
          fn(base);
        }
        base[i] = saved;
      }
    }
  };
  const std::vector<size_t> regions = {0, kControl, kControl + 0x1000, kControl + 0x3000, kControl + 0x4000};
  mutate(ValidQueueInput(), [](const std::vector<uint8_t>& in) { FuzzVirtqueue(in); }, regions);
  mutate(ValidBlockInput(), [](const std::vector<uint8_t>& in) { FuzzBlockRequests(in); }, regions);
}

TEST(FuzzSupport, RandomInputsSurvive) {
  std::mt19937_64 rng(12345);
  for (int round = 0; round < 3000; ++round) {
    std::vector<uint8_t> in(rng() % 0x3000);
    for (uint8_t& b : in) b = static_cast<uint8_t>(rng());
    // Bias toward small indexes and lengths so chains get somewhere.
    for (size_t i = kControl; i + 16 <= in.size() && i < kControl + 0x800; i += 16) {
      if (rng() % 2) in[i + 2] = in[i + 3] = in[i + 4] = in[i + 5] = in[i + 6] = in[i + 7] = 0;
      if (rng() % 2) in[i + 15] = 0, in[i + 14] %= 16;
    }
    FuzzVirtqueue(in);
    if (round % 3 == 0) FuzzBlockRequests(in);
  }
}

}  // namespace
}  // namespace bulkhead::vmm
