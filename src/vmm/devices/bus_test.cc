#include "vmm/devices/bus.h"

#include <gtest/gtest.h>

#include <vector>

namespace bulkhead::vmm {
namespace {

// Records the accesses it sees; reads answer the low byte of the offset.
class Recorder : public BusDevice {
 public:
  void Read(uint64_t offset, std::span<uint8_t> data) override {
    for (uint8_t& b : data) b = static_cast<uint8_t>(offset);
    reads.push_back(offset);
  }
  void Write(uint64_t offset, std::span<const uint8_t> data) override {
    writes.push_back({offset, std::vector<uint8_t>(data.begin(), data.end())});
  }
  std::vector<uint64_t> reads;
  std::vector<std::pair<uint64_t, std::vector<uint8_t>>> writes;
};

TEST(Bus, DispatchesWithOffsetFromBase) {
  Bus bus;
  auto a = std::make_shared<Recorder>();
  auto b = std::make_shared<Recorder>();
  ASSERT_TRUE(bus.Insert(a, 0x3f8, 8).ok());
  ASSERT_TRUE(bus.Insert(b, 0xd0000000, 0x1000).ok());

  uint8_t byte = 0;
  EXPECT_TRUE(bus.Read(0x3fd, {&byte, 1}));
  EXPECT_EQ(byte, 5);
  const uint8_t val[4] = {1, 2, 3, 4};
  EXPECT_TRUE(bus.Write(0xd0000050, val));
  ASSERT_EQ(b->writes.size(), 1u);
  EXPECT_EQ(b->writes[0].first, 0x50u);
  EXPECT_EQ(b->writes[0].second, std::vector<uint8_t>({1, 2, 3, 4}));
  EXPECT_EQ(a->reads, std::vector<uint64_t>{5});
}

TEST(Bus, UnmappedAndStraddlingAccessesAreRefused) {
  Bus bus;
  auto a = std::make_shared<Recorder>();
  ASSERT_TRUE(bus.Insert(a, 0x100, 0x10).ok());
  uint8_t buf[4] = {9, 9, 9, 9};
  EXPECT_FALSE(bus.Read(0xff, {buf, 1}));
  EXPECT_FALSE(bus.Read(0x110, {buf, 1}));
  EXPECT_FALSE(bus.Read(0x10e, buf));  // 0x10e..0x111 runs past the end
  EXPECT_TRUE(bus.Read(0x10c, buf));   // 0x10c..0x10f is the last word
  EXPECT_FALSE(bus.Write(UINT64_MAX, {buf, 1}));
  EXPECT_FALSE(bus.Find(0, 1).has_value());
  auto t = bus.Find(0x10f, 1);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->device, a.get());
  EXPECT_EQ(t->offset, 0xfu);
}

TEST(Bus, InsertRefusesOverlapsAndBadRanges) {
  Bus bus;
  auto d = std::make_shared<Recorder>();
  ASSERT_TRUE(bus.Insert(d, 0x100, 0x100).ok());
  EXPECT_FALSE(bus.Insert(d, 0x100, 1).ok());   // same base
  EXPECT_FALSE(bus.Insert(d, 0x1ff, 1).ok());   // last byte
  EXPECT_FALSE(bus.Insert(d, 0xf0, 0x11).ok());  // runs into the start
  EXPECT_FALSE(bus.Insert(d, 0x80, 0x200).ok());  // covers it
  EXPECT_FALSE(bus.Insert(d, 0x300, 0).ok());
  EXPECT_FALSE(bus.Insert(d, UINT64_MAX, 2).ok());
  EXPECT_FALSE(bus.Insert(nullptr, 0x400, 1).ok());
  EXPECT_TRUE(bus.Insert(d, 0xf0, 0x10).ok());   // adjacent below
  EXPECT_TRUE(bus.Insert(d, 0x200, 0x10).ok());  // adjacent above
  EXPECT_TRUE(bus.Insert(d, UINT64_MAX, 1).ok());  // the very last byte
  EXPECT_TRUE(bus.Find(UINT64_MAX, 1).has_value());
}

}  // namespace
}  // namespace bulkhead::vmm
