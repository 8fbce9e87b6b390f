#include "vminit/port.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <vector>

#include "vmproto/encoder.h"

namespace bulkhead::vminit {
namespace {

using vmproto::Message;

// A pty stands in for hvc0: both are ttys, with a line discipline that would rewrite or
// swallow frame bytes unless the port makes it raw.
class PtyPort : public ::testing::Test {
 protected:
  void SetUp() override {
    master_.reset(posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
    ASSERT_TRUE(master_.valid());
    ASSERT_EQ(grantpt(master_.get()), 0);
    ASSERT_EQ(unlockpt(master_.get()), 0);
    Result<Port> p = Port::Open(ptsname(master_.get()));
    ASSERT_TRUE(p.ok()) << p.error().message();
    port_.emplace(std::move(*p));
  }

  // Every byte the port wrote, as the host side reads it.
  std::vector<uint8_t> DrainMaster() {
    std::vector<uint8_t> got;
    for (;;) {
      struct pollfd p {master_.get(), POLLIN, 0};
      if (poll(&p, 1, 200) != 1) break;
      uint8_t buf[4096];
      ssize_t n = read(master_.get(), buf, sizeof buf);
      if (n <= 0) break;
      got.insert(got.end(), buf, buf + n);
    }
    return got;
  }

  std::optional<Message> ReceiveOne() {
    for (int i = 0; i < 50; ++i) {
      struct pollfd p {port_->fd(), POLLIN, 0};
      poll(&p, 1, 100);
      Status st = port_->Receive();
      EXPECT_TRUE(st.ok()) << st.error().message();
      if (!st.ok()) return std::nullopt;
      if (std::optional<Message> m = port_->Next()) return m;
    }
    return std::nullopt;
  }

  UniqueFd master_;
  std::optional<Port> port_;
};

// Bytes a cooked tty would turn into something else: CR, NL, ^C, ^D, ^Q, ^S, ^Z, DEL, ESC.
const std::vector<uint8_t> kTricky = {'\r', '\n', 0x03, 0x04, 0x11, 0x13, 0x1a, 0x7f, 0x1b, 0xff};

TEST_F(PtyPort, FramesToTheHostPassUnaltered) {
  vmproto::Data d{1, vmproto::Stream::kStdout, kTricky};
  ASSERT_TRUE(port_->Send(vmproto::MakeHello("6.1.0")).ok());
  ASSERT_TRUE(port_->Send(d).ok());
  ASSERT_TRUE(port_->FlushAll(2000).ok());
  EXPECT_EQ(port_->backlog(), 0u);
  std::vector<uint8_t> want = *vmproto::Encode(vmproto::MakeHello("6.1.0"));
  std::vector<uint8_t> data = *vmproto::Encode(d);
  want.insert(want.end(), data.begin(), data.end());
  EXPECT_EQ(DrainMaster(), want);
}

TEST_F(PtyPort, FramesFromTheHostPassUnalteredAndAreNotEchoed) {
  vmproto::Data d{1, vmproto::Stream::kStdin, kTricky};
  std::vector<uint8_t> frame = *vmproto::Encode(d);
  ASSERT_EQ(write(master_.get(), frame.data(), frame.size()), static_cast<ssize_t>(frame.size()));
  std::optional<Message> m = ReceiveOne();
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(*m, Message(d));
  EXPECT_TRUE(DrainMaster().empty()) << "the tty echoed the host's bytes back";
}

TEST_F(PtyPort, AMalformedFrameIsAnError) {
  const uint8_t junk[] = {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', '\n'};
  ASSERT_EQ(write(master_.get(), junk, sizeof junk), static_cast<ssize_t>(sizeof junk));
  Status st;
  for (int i = 0; i < 50 && st.ok(); ++i) {
    struct pollfd p {port_->fd(), POLLIN, 0};
    poll(&p, 1, 100);
    st = port_->Receive();
  }
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message().find("magic"), std::string::npos) << st.error().message();
}

}  // namespace
}  // namespace bulkhead::vminit
