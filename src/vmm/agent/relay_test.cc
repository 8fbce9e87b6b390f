// The relay's main channel and the guest's side: stdio, flow control, the workload's exit,
// and guests that break the protocol.
#include "vmm/agent/relay.h"

#include <gtest/gtest.h>
#include <sys/ioctl.h>

#include "vmm/agent/relay_test_rig.h"

namespace bulkhead::vmm::agent {
namespace {

using namespace testing;
std::vector<uint8_t> Bytes(size_t n, uint8_t v) { return std::vector<uint8_t>(n, v); }

std::vector<uint8_t> Le32(uint32_t v) {
  std::vector<uint8_t> b(4);
  StoreLe32(b.data(), v);
  return b;
}

// A frame as a hostile guest writes it: any header, any payload.
std::vector<uint8_t> RawFrame(Type type, uint32_t channel, const std::vector<uint8_t>& payload,
                              uint8_t version = kVersion) {
  std::vector<uint8_t> f(kHeaderSize + payload.size());
  f[0] = kMagic0;
  f[1] = kMagic1;
  f[2] = version;
  f[3] = static_cast<uint8_t>(type);
  StoreLe32(f.data() + 4, channel);
  StoreLe32(f.data() + 8, static_cast<uint32_t>(payload.size()));
  std::copy(payload.begin(), payload.end(), f.begin() + kHeaderSize);
  return f;
}

uint64_t CreditSum(Peer& guest, uint32_t channel, Stream stream) {
  uint64_t sum = 0;
  for (const Credit& c : guest.All<Credit>()) {
    if (c.channel == channel && c.stream == stream) sum += c.bytes;
  }
  return sum;
}

TEST(AgentRelay, HelloGoesToClientsBeforeAndAfterIt) {
  Rig rig;
  Peer& early = rig.Connect();
  EXPECT_TRUE(early.got.empty());  // no hello yet: nothing to say
  rig.guest.Send(Hello{kVersion, "6.1.0-test"});
  rig.Settle();
  Peer& late = rig.Connect();
  for (Peer* p : {&early, &late}) {
    ASSERT_EQ(p->got.size(), 1u);
    EXPECT_EQ(std::get<Hello>(p->got[0]).kernel_release, "6.1.0-test");
    EXPECT_TRUE(p->status.ok());
  }
  EXPECT_FALSE(rig.Settle());
}

TEST(AgentRelay, StartIsForwardedOnceAndMainOutputReachesStdio) {
  Rig rig;
  Peer& c = rig.Started();
  ASSERT_EQ(rig.guest.All<Start>().size(), 1u);
  EXPECT_EQ(rig.guest.All<Start>()[0].spec_json, R"({"process":{}})");
  EXPECT_EQ(c.All<vmproto::Started>().size(), 1u);  // the starter hears of its process

  rig.guest.Send(Data{1, Stream::kStdout, {'o', 'u', 't', '\n'}});
  rig.guest.Send(Data{1, Stream::kStderr, {'e', 'r', 'r'}});
  EXPECT_FALSE(rig.Settle());
  EXPECT_EQ(rig.ReadAll(rig.stdout_r.get()), "out\n");
  EXPECT_EQ(rig.ReadAll(rig.stderr_r.get()), "err");
  EXPECT_TRUE(c.All<Data>().empty());  // main output is the monitor's stdio, not the client's

  Peer& other = rig.Connect();
  other.Send(Start{"{}"});
  rig.Settle();
  EXPECT_EQ(rig.guest.All<Start>().size(), 1u);
  EXPECT_NE(LastError(other).find("start was sent already"), std::string::npos) << LastError(other);
  EXPECT_EQ(other.All<GuestError>().back().err, static_cast<uint32_t>(EBUSY));
}

TEST(AgentRelay, MainExitEndsWithTheShellStatusAfterOutputIsOut) {
  Rig rig;
  rig.Started();
  rig.guest.Send(Data{1, Stream::kStdout, {'b', 'y', 'e'}});
  rig.guest.Send(Exit{1, ExitKind::kExited, 7, false});
  auto out = rig.Settle();
  ASSERT_TRUE(out);
  EXPECT_EQ(out->kind, Outcome::Kind::kWorkloadExited);
  EXPECT_EQ(out->status, 7);
  EXPECT_EQ(rig.ReadAll(rig.stdout_r.get()), "bye");
  EXPECT_EQ(rig.clients[0]->All<Exit>().size(), 1u);
}

TEST(AgentRelay, KilledWorkloadGives128PlusSignal) {
  Rig rig;
  rig.Started();
  rig.guest.Send(Exit{1, ExitKind::kSignaled, 9, false});
  auto out = rig.Settle();
  ASSERT_TRUE(out);
  EXPECT_EQ(out->status, 137);
}

TEST(AgentRelay, ExitWaitsForABlockedStdout) {
  Rig rig;
  rig.Started();
  ASSERT_EQ(fcntl(rig.stdout_w.get(), F_SETPIPE_SZ, 4096), 4096);
  rig.guest.Send(Data{1, Stream::kStdout, Bytes(20000, 'x')});
  rig.guest.Send(Exit{1, ExitKind::kExited, 0, false});
  EXPECT_FALSE(rig.Settle());  // 16 KiB still queued: not done
  EXPECT_TRUE(rig.relay->main_exited());
  std::string got;
  std::optional<Outcome> out;
  for (int i = 0; i < 100 && !out; ++i) {
    got += rig.ReadAll(rig.stdout_r.get());
    out = rig.Settle();
  }
  got += rig.ReadAll(rig.stdout_r.get());
  ASSERT_TRUE(out);
  EXPECT_EQ(out->status, 0);
  EXPECT_EQ(got.size(), 20000u);
}

TEST(AgentRelay, SlowStdoutThrottlesTheGuest) {
  Rig rig;
  rig.Started();
  ASSERT_EQ(fcntl(rig.stdout_w.get(), F_SETPIPE_SZ, 4096), 4096);
  // The whole window, while nobody reads stdout: no credit comes back.
  rig.guest.Send(Data{1, Stream::kStdout, Bytes(kMaxDataChunk, 'a')});
  rig.guest.Send(Data{1, Stream::kStdout, Bytes(kMaxDataChunk, 'b')});
  EXPECT_FALSE(rig.Settle());
  EXPECT_EQ(CreditSum(rig.guest, 1, Stream::kStdout), 0u);
  // As the reader drains, credit returns, never more than what drained.
  size_t read = 0;
  for (int i = 0; i < 200 && read < 2 * kMaxDataChunk; ++i) {
    read += rig.ReadAll(rig.stdout_r.get()).size();
    rig.Settle();
  }
  EXPECT_EQ(read, 2 * kMaxDataChunk);
  EXPECT_EQ(CreditSum(rig.guest, 1, Stream::kStdout), 2 * kMaxDataChunk);
}

TEST(AgentRelay, AGuestPastItsWindowBreaksTheProtocol) {
  Rig rig;
  rig.Started();
  ASSERT_EQ(fcntl(rig.stdout_w.get(), F_SETPIPE_SZ, 4096), 4096);
  rig.guest.Send(Data{1, Stream::kStdout, Bytes(kMaxDataChunk, 'a')});
  rig.guest.Send(Data{1, Stream::kStdout, Bytes(kMaxDataChunk, 'b')});
  rig.guest.Send(Data{1, Stream::kStdout, {'!'}});
  auto out = rig.Settle();
  ASSERT_TRUE(out);
  EXPECT_EQ(out->kind, Outcome::Kind::kGuestBrokeProtocol);
  EXPECT_NE(out->message.find("flow control"), std::string::npos) << out->message;
}

TEST(AgentRelay, StdinFlowsOnlyAfterStartAndWithinTheWindow) {
  Rig rig;
  rig.guest.Send(Hello{kVersion, "6.1.0-test"});
  ASSERT_EQ(fcntl(rig.stdin_w.get(), F_SETPIPE_SZ, 1 << 20), 1 << 20);
  std::vector<uint8_t> input(100000, 'i');
  ASSERT_EQ(write(rig.stdin_w.get(), input.data(), input.size()), static_cast<ssize_t>(input.size()));
  rig.Settle();
  EXPECT_TRUE(rig.guest.All<Data>().empty());  // before start: nobody to read it
  rig.Connect().Send(Start{"{}"});
  rig.Settle();
  auto sum = [&] {
    size_t n = 0;
    for (const Data& d : rig.guest.All<Data>()) n += d.bytes.size();
    return n;
  };
  EXPECT_EQ(sum(), kInitialWindow);
  rig.guest.Send(Credit{1, Stream::kStdin, 20000});
  rig.Settle();
  EXPECT_EQ(sum(), kInitialWindow + 20000);
  rig.guest.Send(Credit{1, Stream::kStdin, 65536});
  rig.stdin_w.reset();  // EOF
  rig.Settle();
  EXPECT_EQ(sum(), input.size());
  EXPECT_EQ(rig.guest.All<CloseStdin>().size(), 1u);
}

TEST(AgentRelay, MalformedGuestFramesEndTheMonitor) {
  struct Case {
    const char* name;
    std::vector<uint8_t> bytes;
    const char* want;
  };
  std::vector<uint8_t> hello = *Encode(Hello{kVersion, "6.1"});
  std::vector<Case> cases = {
      {"garbage", {'L', 'i', 'n', 'u', 'x', ' ', 'v', 'e', 'r', 's', 'i', 'o', 'n'}, "bad magic"},
      {"oversized", RawFrame(Type::kStdout, 1, Bytes(kMaxDataChunk + 1, 0)),
       "payload length 32769"},
      {"wrong direction", RawFrame(Type::kSignal, 1, Le32(9)), "wrong direction"},
      {"other version", RawFrame(Type::kHello, 0, Le32(1), 1), "unsupported protocol version 1"},
      {"data before start", *Encode(Data{1, Stream::kStdout, {'x'}}), "the guest broke the session"},
      {"unasked stats", *Encode(StatsReply{4, 1, 1, 1}), "never asked for"},
  };
  for (Case& c : cases) {
    Rig rig;
    if (std::string(c.name) != "garbage" && std::string(c.name) != "other version") rig.guest.SendRaw(hello);
    Peer& client = rig.Connect();
    rig.guest.SendRaw(c.bytes);
    auto out = rig.Settle();
    ASSERT_TRUE(out) << c.name;
    EXPECT_EQ(out->kind, Outcome::Kind::kGuestBrokeProtocol) << c.name;
    EXPECT_NE(out->message.find(c.want), std::string::npos) << c.name << ": " << out->message;
    EXPECT_TRUE(client.status.ok()) << c.name;  // nothing malformed was passed on
    EXPECT_TRUE(rig.relay->Run(0)) << c.name;  // and it stays ended
  }
}

TEST(AgentRelay, SessionViolationsOfTheGuestEndTheMonitor) {
  Rig rig;
  rig.Started();
  rig.guest.Send(vmproto::Started{1, 101});
  auto out = rig.Settle();
  ASSERT_TRUE(out);
  EXPECT_NE(out->message.find("a second started on channel 1"), std::string::npos) << out->message;

  Rig rig2;
  rig2.Started();
  rig2.guest.Send(Exit{3, ExitKind::kExited, 0, false});
  out = rig2.Settle();
  ASSERT_TRUE(out);
  EXPECT_NE(out->message.find("exit on channel 3, which the host never opened"), std::string::npos)
      << out->message;
}

TEST(AgentRelay, AGoneStdoutReaderDropsOutputButKeepsTheGuestGoing) {
  Rig rig;
  rig.Started();
  rig.stdout_r.reset();
  for (int i = 0; i < 4; ++i) {
    rig.guest.Send(Data{1, Stream::kStdout, Bytes(kMaxDataChunk, 'z')});
    EXPECT_FALSE(rig.Settle());
  }
  // 128 KiB through a 64 KiB window: only possible because dropped output is credited.
  EXPECT_GE(CreditSum(rig.guest, 1, Stream::kStdout), 3 * kMaxDataChunk);
}

void SetSize(int fd, uint16_t rows, uint16_t cols) {
  winsize ws{};
  ws.ws_row = rows;
  ws.ws_col = cols;
  ASSERT_EQ(ioctl(fd, TIOCSWINSZ, &ws), 0) << strerror(errno);
}

TEST(AgentRelay, ATerminalsSizeGoesToTheGuestAtStartAndOnResize) {
  Rig rig(true);
  SetSize(rig.tty_master.get(), 31, 97);
  rig.guest.Send(Hello{kVersion, "6.1.0-test"});
  rig.Settle();
  rig.relay->ResizeMain();  // before start there is no process to size
  rig.Settle();
  EXPECT_TRUE(rig.guest.All<Resize>().empty());
  Peer& c = rig.Connect();
  c.Send(Start{R"({"process":{"terminal":true}})"});
  rig.Settle();
  ASSERT_EQ(rig.guest.All<Resize>().size(), 1u);
  EXPECT_EQ(rig.guest.All<Resize>()[0], (Resize{kMainChannel, 31, 97}));
  // Start comes first: the guest sizes a process it has.
  EXPECT_TRUE(std::holds_alternative<Start>(rig.guest.got.at(rig.guest.got.size() - 2)));
  rig.guest.Send(vmproto::Started{kMainChannel, 100});
  SetSize(rig.tty_master.get(), 45, 120);
  rig.relay->ResizeMain();  // what SIGWINCH makes the monitor do
  rig.Settle();
  ASSERT_EQ(rig.guest.All<Resize>().size(), 2u);
  EXPECT_EQ(rig.guest.All<Resize>()[1], (Resize{kMainChannel, 45, 120}));
  // Typed bytes are the main stdin, output shows on the terminal.
  ASSERT_EQ(write(rig.tty_master.get(), "ls\r", 3), 3);
  rig.guest.Send(Data{1, Stream::kStdout, Bytes(5, 'o')});
  rig.Settle();
  std::string typed;
  for (const Data& d : rig.guest.All<Data>()) typed.append(d.bytes.begin(), d.bytes.end());
  EXPECT_EQ(typed, "ls\r");
  EXPECT_EQ(rig.ReadAll(rig.tty_master.get()), "ooooo");
}

TEST(AgentRelay, WithoutATerminalNoSizeIsSent) {
  Rig rig;
  rig.Started();
  rig.relay->ResizeMain();
  rig.Settle();
  EXPECT_TRUE(rig.guest.All<Resize>().empty());
}

TEST(AgentSocket, IsPrivateAndNeverReplacesAPath) {
  char dir[] = "/tmp/bh-agent-sock.XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/a.sock";
  auto fd = ListenUnix(path);
  ASSERT_TRUE(fd.ok()) << fd.error().message();
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = ListenUnix(path);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message().find("exists already"), std::string::npos) << again.error().message();
  EXPECT_FALSE(ListenUnix(std::string(200, 'x')).ok());
  unlink(path.c_str());
  rmdir(dir);
}

}  // namespace
}  // namespace bulkhead::vmm::agent
