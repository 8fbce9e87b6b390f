#include "vmm/devices/legacy/serial.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace bulkhead::vmm {
namespace {

constexpr uint64_t kThr = 0, kIer = 1, kIir = 2, kFcr = 2, kLcr = 3, kMcr = 4, kLsr = 5, kMsr = 6,
                   kScr = 7;

class SerialTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int fds[2];
    ASSERT_EQ(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
    out_r_ = UniqueFd(fds[0]);
    out_w_ = UniqueFd(fds[1]);
    auto irq = Interrupt::Create();
    ASSERT_TRUE(irq.ok());
    irq_fd_ = irq->fd();
    serial_ = std::make_unique<Serial>(std::move(*irq), out_w_.get());
  }

  uint8_t In(uint64_t off) {
    uint8_t b = 0xee;
    serial_->Read(off, {&b, 1});
    return b;
  }
  void Out(uint64_t off, uint8_t v) { serial_->Write(off, {&v, 1}); }
  // How many times the line fired since the last call.
  uint64_t Fired() {
    uint64_t v = 0;
    return read(irq_fd_, &v, sizeof v) == static_cast<ssize_t>(sizeof v) ? v : 0;
  }
  std::string Output() {
    char buf[4096];
    ssize_t n = read(out_r_.get(), buf, sizeof buf);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  }

  UniqueFd out_r_, out_w_;
  int irq_fd_ = -1;
  std::unique_ptr<Serial> serial_;
};

TEST_F(SerialTest, TransmitsToTheFdAndAlwaysReportsThrEmpty) {
  EXPECT_EQ(In(kLsr), 0x60);  // THRE | TEMT, no data
  for (char c : std::string("hi\n")) Out(kThr, static_cast<uint8_t>(c));
  EXPECT_EQ(Output(), "hi\n");
  EXPECT_EQ(In(kLsr), 0x60);
  EXPECT_EQ(Fired(), 0u);  // no interrupt enabled
}

TEST_F(SerialTest, DivisorLatchIsSeparateFromDataAndIer) {
  Out(kIer, 0x05);
  Out(kLcr, 0x83);  // DLAB
  Out(kThr, 0x01);  // DLL
  Out(kIer, 0x00);  // DLM
  EXPECT_EQ(In(kThr), 0x01);
  EXPECT_EQ(In(kIer), 0x00);
  Out(kLcr, 0x03);
  EXPECT_EQ(In(kIer), 0x05);
  EXPECT_EQ(In(kLcr), 0x03);
  EXPECT_EQ(Output(), "");  // the DLL write was not a byte to send
  Out(kScr, 0x5a);
  EXPECT_EQ(In(kScr), 0x5a);
}

TEST_F(SerialTest, IerHoldsOnlyItsFourBitsAsLinuxProbes) {
  Out(kIer, 0);
  EXPECT_EQ(In(kIer) & 0x0f, 0);
  Out(kIer, 0xff);
  EXPECT_EQ(In(kIer), 0x0f);
}

TEST_F(SerialTest, FifoControlShowsAs16550A) {
  EXPECT_EQ(In(kIir), 0x01);
  Out(kFcr, 0x01);
  EXPECT_EQ(In(kIir), 0xc1);
  Out(kFcr, 0x00);
  EXPECT_EQ(In(kIir), 0x01);
}

TEST_F(SerialTest, ThreInterruptOnEnableAcknowledgedByIirRead) {
  Out(kIer, 0x02);
  EXPECT_EQ(Fired(), 1u);
  EXPECT_EQ(In(kIir), 0x02);
  EXPECT_EQ(In(kIir), 0x01);  // the read acknowledged it
  EXPECT_EQ(Fired(), 0u);
  // Re-enabling re-raises it (Linux's startup test relies on this).
  Out(kIer, 0x00);
  Out(kIer, 0x02);
  EXPECT_EQ(In(kIir), 0x02);
  EXPECT_EQ(Fired(), 1u);
  // Each transmitted byte raises it again.
  Out(kThr, 'a');
  Out(kThr, 'b');
  EXPECT_EQ(Fired(), 2u);
  EXPECT_EQ(In(kIir), 0x02);
  EXPECT_EQ(Output(), "ab");
  // Disabling THRI drops it.
  Out(kThr, 'c');
  Out(kIer, 0x00);
  EXPECT_EQ(In(kIir), 0x01);
}

TEST_F(SerialTest, ReceiveFifoIsBoundedAndRaisesDataAvailable) {
  Out(kIer, 0x01);
  std::vector<uint8_t> input(100);
  for (size_t i = 0; i < input.size(); ++i) input[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(serial_->input_space(), Serial::kFifoSize);
  EXPECT_EQ(serial_->Enqueue(input), Serial::kFifoSize);  // the rest is dropped
  EXPECT_EQ(serial_->input_space(), 0u);
  EXPECT_GE(Fired(), 1u);
  EXPECT_EQ(In(kLsr), 0x61);
  EXPECT_EQ(In(kIir), 0x04);
  for (size_t i = 0; i < Serial::kFifoSize; ++i) ASSERT_EQ(In(kThr), i);
  EXPECT_EQ(In(kLsr), 0x60);
  EXPECT_EQ(In(kIir), 0x01);
  EXPECT_EQ(In(kThr), 0);  // empty RBR reads as 0
}

TEST_F(SerialTest, ReceivedDataTakesPriorityOverThre) {
  Out(kIer, 0x03);
  const uint8_t x = 'x';
  serial_->Enqueue({&x, 1});
  EXPECT_EQ(In(kIir), 0x04);
  EXPECT_EQ(In(kThr), 'x');
  EXPECT_EQ(In(kIir), 0x02);  // THRE still pending behind it
  EXPECT_EQ(In(kIir), 0x01);
}

TEST_F(SerialTest, FifoClearEmptiesReceiveBuffer) {
  const uint8_t x[3] = {1, 2, 3};
  serial_->Enqueue(x);
  Out(kFcr, 0x01 | 0x02);
  EXPECT_EQ(In(kLsr) & 0x01, 0);
}

TEST_F(SerialTest, LoopbackWiresModemLinesAndData) {
  Out(kMcr, 0x10 | 0x0a);  // LOOP | RTS | OUT2, Linux's existence test
  EXPECT_EQ(In(kMsr) & 0xf0, 0x90);
  Out(kMcr, 0x10 | 0x05);  // DTR | OUT1
  EXPECT_EQ(In(kMsr) & 0xf0, 0x60);
  Out(kThr, 'z');
  EXPECT_EQ(Output(), "");
  EXPECT_EQ(In(kLsr) & 0x01, 1);
  EXPECT_EQ(In(kThr), 'z');
  const uint8_t x = 'q';
  EXPECT_EQ(serial_->Enqueue({&x, 1}), 0u);  // host input is cut off in loopback
  Out(kMcr, 0x08);
  EXPECT_EQ(In(kMsr), 0xb0);  // DCD | DSR | CTS
}

TEST_F(SerialTest, OddAccessesAreIgnored) {
  uint8_t wide[4] = {1, 2, 3, 4};
  serial_->Write(kThr, wide);
  serial_->Write(8, {wide, 1});
  EXPECT_EQ(Output(), "");
  serial_->Read(kLsr, wide);
  EXPECT_EQ(wide[0], 0);
  EXPECT_EQ(In(9), 0);
}

TEST_F(SerialTest, FullOutputPipeDropsInsteadOfBlocking) {
  // Fill the pipe; the serial's end of it is blocking-capable only through poll.
  std::vector<char> junk(4096, 'j');
  while (write(out_w_.get(), junk.data(), junk.size()) > 0) {
  }
  int flags = fcntl(out_w_.get(), F_GETFL);
  ASSERT_EQ(fcntl(out_w_.get(), F_SETFL, flags & ~O_NONBLOCK), 0);
  for (int i = 0; i < 100; ++i) Out(kThr, 'x');  // would hang if it blocked
  SUCCEED();
}

TEST(Serial, DiscardsOutputWithoutFd) {
  auto irq = Interrupt::Create();
  ASSERT_TRUE(irq.ok());
  Serial serial(std::move(*irq), -1);
  uint8_t b = 'x';
  serial.Write(kThr, {&b, 1});
  serial.Read(kLsr, {&b, 1});
  EXPECT_EQ(b, 0x60);
}

}  // namespace
}  // namespace bulkhead::vmm
