#include "vmm/devices/legacy/i8042.h"

#include <gtest/gtest.h>
#include <poll.h>

namespace bulkhead::vmm {
namespace {

class I8042Test : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dev = I8042::Create();
    ASSERT_TRUE(dev.ok()) << dev.error().message();
    dev_ = std::move(*dev);
  }
  uint8_t Status() { return In(I8042::kCommandOffset); }
  uint8_t In(uint64_t off) {
    uint8_t b = 0xee;
    dev_->Read(off, {&b, 1});
    return b;
  }
  void Command(uint8_t c) { dev_->Write(I8042::kCommandOffset, {&c, 1}); }
  void Data(uint8_t d) { dev_->Write(I8042::kDataOffset, {&d, 1}); }
  bool ResetSignalled() {
    pollfd p{dev_->reset_fd(), POLLIN, 0};
    return poll(&p, 1, 0) == 1;
  }
  std::unique_ptr<I8042> dev_;
};

TEST_F(I8042Test, IdleStatusLetsRebootPathWrite) {
  // Linux's kb_wait() spins while bit 1 (input buffer full) is set.
  EXPECT_EQ(Status() & 0x02, 0);
  EXPECT_EQ(Status() & 0x01, 0);  // nothing to read: a flush finds it empty
  EXPECT_NE(Status() & 0x04, 0);
  EXPECT_FALSE(dev_->reset_requested());
  EXPECT_FALSE(ResetSignalled());
}

TEST_F(I8042Test, ResetCommandSignalsTheEventFd) {
  Command(0xfe);
  EXPECT_TRUE(dev_->reset_requested());
  EXPECT_TRUE(ResetSignalled());
}

TEST_F(I8042Test, OutputPortWriteWithResetBitLowResets) {
  Command(0xd1);
  Data(0x03);  // bit 0 high: no reset
  EXPECT_FALSE(dev_->reset_requested());
  Command(0xd1);
  Data(0x02);
  EXPECT_TRUE(dev_->reset_requested());
}

TEST_F(I8042Test, PulsesOtherThanLineZeroDoNotReset) {
  Command(0xff);
  Command(0xfd);
  EXPECT_FALSE(dev_->reset_requested());
  Command(0xf0);  // pulses all four lines, reset among them
  EXPECT_TRUE(dev_->reset_requested());
}

TEST_F(I8042Test, SelfTestAndCommandByteAsAProbingDriverSeesThem) {
  Command(0xaa);
  EXPECT_EQ(Status() & 0x01, 1);
  EXPECT_NE(Status() & 0x08, 0);  // last write was a command
  EXPECT_EQ(In(I8042::kDataOffset), 0x55);
  EXPECT_EQ(Status() & 0x01, 0);

  Command(0x20);
  const uint8_t ctr = In(I8042::kDataOffset);
  Command(0x60);
  Data(static_cast<uint8_t>(ctr | 0x10));
  Command(0x20);
  EXPECT_EQ(In(I8042::kDataOffset), ctr | 0x10);
  Command(0xae);  // enable keyboard clears the disable bit
  Command(0x20);
  EXPECT_EQ(In(I8042::kDataOffset), ctr & ~0x10);
  Command(0xa7);
  Command(0x20);
  EXPECT_NE(In(I8042::kDataOffset) & 0x20, 0);
}

TEST_F(I8042Test, KeyboardBytesAndOddAccessesGoNowhere) {
  Data(0xf2);  // keyboard "get id": no keyboard answers
  EXPECT_EQ(Status() & 0x01, 0);
  Command(0xd4);
  Data(0xff);  // to the mouse: dropped
  EXPECT_EQ(Status() & 0x01, 0);
  uint8_t wide[2] = {0xfe, 0xfe};
  dev_->Write(I8042::kCommandOffset, wide);
  dev_->Write(2, {wide, 1});
  EXPECT_FALSE(dev_->reset_requested());
  EXPECT_EQ(In(1), 0);
  dev_->Read(I8042::kCommandOffset, wide);
  EXPECT_EQ(wide[0], 0);
}

}  // namespace
}  // namespace bulkhead::vmm
