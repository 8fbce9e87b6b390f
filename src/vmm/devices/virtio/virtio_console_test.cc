#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "vmm/devices/virtio/console.h"
#include "vmm/devices/virtio/mmio.h"
#include "vmm/devices/virtio/test_driver.h"
#include "vmm/devices/virtio/test_ring.h"

namespace bulkhead::vmm {
namespace {

using testing::kDescNext;
using testing::kDescWrite;
using testing::TestDriver;
using testing::TestRing;

constexpr uint64_t kMem = 1 << 20;
constexpr uint64_t kRxBuf = 0x40000;
constexpr uint64_t kTxBuf = 0x80000;

// A console whose input and output are socketpairs; the test holds the peers.
class ConsoleTest : public ::testing::Test {
 protected:
  ConsoleTest()
      : mem_(testing::MakeMemory(kMem)),
        rx_(mem_, 8, 0x1000, 0x2000, 0x3000),
        tx_(mem_, 8, 0x4000, 0x5000, 0x6000) {}

  void SetUp() override {
    int in[2], out[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in), 0);
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, out), 0);
    in_peer_ = UniqueFd(in[0]);
    out_peer_ = UniqueFd(out[0]);
    Start(UniqueFd(in[1]), UniqueFd(out[1]));
  }

  void Start(UniqueFd in, UniqueFd out) {
    auto console = VirtioConsole::Create(std::move(in), std::move(out));
    ASSERT_TRUE(console.ok()) << console.error().message();
    console_ = console->get();
    auto irq = Interrupt::Create();
    ASSERT_TRUE(irq.ok());
    auto t = MmioTransport::Create(mem_, std::move(*console), std::move(*irq));
    ASSERT_TRUE(t.ok()) << t.error().message();
    transport_ = std::move(*t);
    driver_ = std::make_unique<TestDriver>(*transport_);
    ASSERT_TRUE(driver_->Init(kVirtioFVersion1, {&rx_, &tx_}));
  }

  // Posts `n` receive buffers of `len` bytes each and kicks the receive queue.
  void PostRx(uint16_t n, uint32_t len) {
    for (uint16_t i = 0; i < n; ++i) {
      rx_.SetDesc(i, kRxBuf + 0x1000ull * i, len, kDescWrite);
      rx_.Publish(i);
    }
    driver_->Notify(VirtioConsole::kReceiveQueue);
  }
  void Send(const std::string& s) {
    ASSERT_EQ(write(in_peer_.get(), s.data(), s.size()), static_cast<ssize_t>(s.size()));
  }
  std::string Received(uint16_t i) {
    std::string s(rx_.UsedLen(i), '\0');
    EXPECT_TRUE(mem_.Read(GuestAddress(kRxBuf + 0x1000ull * rx_.UsedId(i)),
                          {reinterpret_cast<uint8_t*>(s.data()), s.size()}).ok());
    return s;
  }
  // Queues one transmit chain made of `parts` and kicks the transmit queue.
  void Transmit(const std::vector<std::string>& parts, uint16_t head = 0) {
    uint64_t at = kTxBuf;
    for (size_t i = 0; i < parts.size(); ++i) {
      ASSERT_TRUE(mem_.Write(GuestAddress(at), {reinterpret_cast<const uint8_t*>(parts[i].data()), parts[i].size()}).ok());
      const uint16_t d = static_cast<uint16_t>(head + i);
      tx_.SetDesc(d, at, static_cast<uint32_t>(parts[i].size()), i + 1 < parts.size() ? kDescNext : 0,
                  static_cast<uint16_t>(d + 1));
      at += parts[i].size();
    }
    tx_.Publish(head);
    driver_->Notify(VirtioConsole::kTransmitQueue);
  }
  std::string Output() {
    char buf[65536];
    ssize_t n = recv(out_peer_.get(), buf, sizeof buf, MSG_DONTWAIT);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  }

  GuestMemory mem_;
  TestRing rx_, tx_;
  UniqueFd in_peer_, out_peer_;
  VirtioConsole* console_ = nullptr;
  std::shared_ptr<MmioTransport> transport_;
  std::unique_ptr<TestDriver> driver_;
};

TEST_F(ConsoleTest, OutputChainIsWrittenInOrderAndReturned) {
  Transmit({"hello, ", "world\n"});
  EXPECT_EQ(Output(), "hello, world\n");
  EXPECT_EQ(tx_.UsedIdx(), 1);
  EXPECT_EQ(tx_.UsedLen(0), 0u);
  EXPECT_EQ(driver_->TakeInterrupt(), mmio::kInterruptUsedBuffer);
}

TEST_F(ConsoleTest, InputWaitsInTheFdUntilTheGuestPostsBuffers) {
  Send("abc");
  transport_->ProcessDeviceEvent();  // nowhere to put it yet
  EXPECT_EQ(rx_.UsedIdx(), 0);
  PostRx(1, 64);
  ASSERT_EQ(rx_.UsedIdx(), 1);
  EXPECT_EQ(Received(0), "abc");
}

TEST_F(ConsoleTest, InputArrivingAfterBuffersFillsThem) {
  PostRx(4, 32);
  EXPECT_EQ(rx_.UsedIdx(), 0);  // nothing to read yet
  std::string big(100, 'x');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  Send(big);
  transport_->ProcessDeviceEvent();
  ASSERT_EQ(rx_.UsedIdx(), 4);
  std::string got;
  for (uint16_t i = 0; i < 4; ++i) got += Received(i);
  EXPECT_EQ(got, big);
  EXPECT_EQ(rx_.UsedLen(3), 4u);
}

TEST_F(ConsoleTest, FullOutputSocketHoldsTheChainUntilWritable) {
  int small = 4096;
  ASSERT_EQ(setsockopt(console_->output_fd(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
  // Fill the socket from the console's side until it would block.
  std::string junk(4096, 'j');
  size_t queued = 0;
  while (true) {
    ssize_t n = send(console_->output_fd(), junk.data(), junk.size(), MSG_DONTWAIT);
    if (n <= 0) break;
    queued += static_cast<size_t>(n);
  }
  Transmit({"after the junk"});
  EXPECT_EQ(tx_.UsedIdx(), 0);  // in flight: the guest waits for it
  // The peer reads everything; EPOLLOUT would fire and the loop calls back.
  std::string seen;
  while (seen.size() < queued) {
    std::string chunk = Output();
    if (chunk.empty()) break;
    seen += chunk;
  }
  transport_->ProcessDeviceEvent();
  EXPECT_EQ(tx_.UsedIdx(), 1);
  seen += Output();
  EXPECT_EQ(seen.substr(queued), "after the junk");
}

TEST_F(ConsoleTest, OutputToAClosedPeerIsDroppedWithoutSignal) {
  out_peer_.reset();
  Transmit({"nobody listens"});  // EPIPE, not SIGPIPE
  EXPECT_EQ(tx_.UsedIdx(), 1);
  Transmit({"still nobody"}, 2);
  EXPECT_EQ(tx_.UsedIdx(), 2);
}

TEST_F(ConsoleTest, InputEofStopsReading) {
  PostRx(2, 16);
  in_peer_.reset();
  transport_->ProcessDeviceEvent();
  EXPECT_EQ(rx_.UsedIdx(), 0);
  EXPECT_EQ(transport_->status() & kStatusNeedsReset, 0u);
  Transmit({"output still works"});
  EXPECT_EQ(Output(), "output still works");
}

TEST_F(ConsoleTest, EventSourcesNameBothFds) {
  auto sources = transport_->device_event_sources();
  ASSERT_EQ(sources.size(), 2u);
  EXPECT_EQ(sources[0].fd, console_->input_fd());
  EXPECT_EQ(sources[0].events, static_cast<uint32_t>(EPOLLIN | EPOLLET));
  EXPECT_EQ(sources[1].fd, console_->output_fd());
  EXPECT_EQ(sources[1].events, static_cast<uint32_t>(EPOLLOUT | EPOLLET));
  EXPECT_NE(fcntl(console_->input_fd(), F_GETFL) & O_NONBLOCK, 0);
}

// The event loop's view: with no guest buffer posted, pending input wakes it
// once, not again and again.
TEST_F(ConsoleTest, PendingInputDoesNotSpinTheEventLoop) {
  UniqueFd ep(epoll_create1(EPOLL_CLOEXEC));
  ASSERT_TRUE(ep.valid());
  for (const DeviceEventSource& src : transport_->device_event_sources()) {
    epoll_event ev{};
    ev.events = src.events;
    ev.data.fd = src.fd;
    ASSERT_EQ(epoll_ctl(ep.get(), EPOLL_CTL_ADD, src.fd, &ev), 0);
  }
  epoll_event events[4];
  auto ready = [&] {
    int n = epoll_wait(ep.get(), events, 4, 0);
    for (int i = 0; i < n; ++i) transport_->ProcessDeviceEvent();
    return n;
  };
  ready();  // the output fd's first "writable"
  Send("wake once");
  EXPECT_EQ(ready(), 1);
  EXPECT_EQ(ready(), 0);  // the data is still there, but no new event
  EXPECT_EQ(ready(), 0);
  PostRx(1, 64);  // the guest's kick resumes reading
  ASSERT_EQ(rx_.UsedIdx(), 1);
  EXPECT_EQ(Received(0), "wake once");
}

TEST_F(ConsoleTest, ResetForgetsInFlightBuffers) {
  PostRx(1, 16);  // held by the console, waiting for input
  driver_->Write32(mmio::kStatus, 0);
  Send("after reset");
  transport_->ProcessDeviceEvent();  // not active: ignored, the bytes stay in the fd
  EXPECT_EQ(rx_.UsedIdx(), 0);
  // The driver brings the device up again on fresh rings; the old buffer is
  // forgotten and the input lands in the new one.
  TestRing rx2(mem_, 8, 0x7000, 0x8000, 0x9000), tx2(mem_, 8, 0xa000, 0xb000, 0xc000);
  ASSERT_TRUE(driver_->Init(kVirtioFVersion1, {&rx2, &tx2}));
  rx2.SetDesc(0, kRxBuf + 0x8000, 64, kDescWrite);
  rx2.Publish(0);
  driver_->Notify(VirtioConsole::kReceiveQueue);
  ASSERT_EQ(rx2.UsedIdx(), 1);
  EXPECT_EQ(rx2.UsedLen(0), 11u);
  EXPECT_EQ(rx_.UsedIdx(), 0);
}

TEST(Console, WithoutFdsOutputIsDroppedAndNothingIsRead) {
  GuestMemory mem = testing::MakeMemory(kMem);
  TestRing rx(mem, 8, 0x1000, 0x2000, 0x3000), tx(mem, 8, 0x4000, 0x5000, 0x6000);
  auto console = VirtioConsole::Create(UniqueFd(), UniqueFd());
  ASSERT_TRUE(console.ok());
  EXPECT_TRUE((*console)->event_sources().empty());
  auto irq = Interrupt::Create();
  ASSERT_TRUE(irq.ok());
  auto t = MmioTransport::Create(mem, std::move(*console), std::move(*irq));
  ASSERT_TRUE(t.ok());
  TestDriver driver(**t);
  ASSERT_TRUE(driver.Init(kVirtioFVersion1, {&rx, &tx}));
  tx.SetDesc(0, kTxBuf, 10);
  tx.Publish(0);
  driver.Notify(1);
  EXPECT_EQ(tx.UsedIdx(), 1);
  rx.SetDesc(0, kRxBuf, 10, kDescWrite);
  rx.Publish(0);
  driver.Notify(0);
  EXPECT_EQ(rx.UsedIdx(), 0);
}

}  // namespace
}  // namespace bulkhead::vmm
