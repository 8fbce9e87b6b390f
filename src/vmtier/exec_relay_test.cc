#include "vmtier/exec_relay.h"

#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "base/fs.h"
#include "vmtier/fake_monitor_test.h"

namespace bulkhead::vmtier {
namespace {

using namespace std::chrono_literals;

// A connection whose guest has said hello.
struct Monitor : FakeMonitor {
  Monitor() { SayHello(); }
};

struct Pipe {
  Pipe() {
    int p[2];
    EXPECT_EQ(pipe2(p, O_CLOEXEC), 0);
    r = UniqueFd(p[0]);
    w = UniqueFd(p[1]);
  }
  UniqueFd r, w;
};

std::string Drain(int fd) {
  fcntl(fd, F_SETFL, O_NONBLOCK);
  std::string out;
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

TEST(OpenExec, ATakenChannelIsPickedAgainAndStartedGivesThePid) {
  Monitor m;
  uint32_t refused = 0;
  std::thread guest([&] {
    auto first = m.Receive();
    ASSERT_TRUE(first && std::holds_alternative<vmproto::Exec>(*first));
    const auto& e1 = std::get<vmproto::Exec>(*first);
    EXPECT_EQ(e1.spec_json, R"({"process":{}})");
    EXPECT_GE(e1.channel, vmproto::kFirstExecChannel);
    refused = e1.channel;
    m.Send(vmproto::GuestError{e1.channel, EBUSY, "channel taken"});
    auto second = m.Receive();
    ASSERT_TRUE(second && std::holds_alternative<vmproto::Exec>(*second));
    uint32_t ch = std::get<vmproto::Exec>(*second).channel;
    m.Send(vmproto::Started{ch + 1 > vmproto::kMaxChannel ? 2 : ch + 1, 7});  // not ours
    m.Send(vmproto::Started{ch, 42});
  });
  Result<OpenedExec> opened = OpenExec(*m.client, R"({"process":{}})");
  guest.join();
  ASSERT_TRUE(opened.ok()) << opened.error().message();
  EXPECT_EQ(opened->guest_pid, 42u);
  EXPECT_NE(opened->channel, 0u);
  EXPECT_NE(opened->channel, refused);
}

TEST(OpenExec, AGuestErrorIsTheExecsError) {
  Monitor m;
  std::thread guest([&] {
    auto e = m.Receive();
    ASSERT_TRUE(e && std::holds_alternative<vmproto::Exec>(*e));
    m.Send(vmproto::GuestError{std::get<vmproto::Exec>(*e).channel, ENOENT,
                               "exec: /no/such/binary: No such file or directory"});
  });
  Result<OpenedExec> opened = OpenExec(*m.client, "{}");
  guest.join();
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().errno_value(), ENOENT);
  EXPECT_NE(opened.error().message().find("/no/such/binary"), std::string::npos);
}

TEST(RelayExec, StdioBothWaysThenTheSignalStatus) {
  Monitor m;
  Pipe in, out, err;
  ASSERT_TRUE(WriteAll(in.w.get(), "abc").ok());
  in.w.reset();
  std::string got_stdin;
  bool closed = false;
  std::thread guest([&] {
    while (!closed) {
      auto f = m.Receive();
      ASSERT_TRUE(f.has_value());
      if (auto* d = std::get_if<vmproto::Data>(&*f)) {
        EXPECT_EQ(d->channel, 5u);
        got_stdin.append(d->bytes.begin(), d->bytes.end());
      } else if (std::holds_alternative<vmproto::CloseStdin>(*f)) {
        closed = true;
      }
    }
    m.Send(vmproto::Data{5, vmproto::Stream::kStdout, {'o', 'u', 't'}});
    m.Send(vmproto::Data{9, vmproto::Stream::kStdout, {'x'}});  // another client's channel
    m.Send(vmproto::Data{5, vmproto::Stream::kStderr, {'e', 'r', 'r'}});
    m.Send(vmproto::Exit{5, vmproto::ExitKind::kSignaled, 9, false});
  });
  ExecIo io{in.r.get(), out.w.get(), err.w.get(), -1};
  Result<int> status = RelayExec(*m.client, 5, io);
  guest.join();
  ASSERT_TRUE(status.ok()) << status.error().message();
  EXPECT_EQ(*status, 128 + 9);
  EXPECT_EQ(got_stdin, "abc");
  EXPECT_EQ(Drain(out.r.get()), "out");
  EXPECT_EQ(Drain(err.r.get()), "err");
}

TEST(RelayExec, OutputIsWrittenOutAndNeverCreditedByTheClient) {
  Monitor m;
  Pipe out;
  std::vector<uint8_t> chunk(vmproto::kMaxDataChunk, 'y');
  // Three chunks, more than one window: the monitor grants the guest's output credit itself
  // (it refuses a client's), so the client only writes.
  for (int i = 0; i < 3; ++i) m.Send(vmproto::Data{3, vmproto::Stream::kStdout, chunk});
  m.Send(vmproto::Exit{3, vmproto::ExitKind::kExited, 0, false});
  std::string got;
  std::thread reader([&] {
    char buf[65536];
    ssize_t n;
    while ((n = read(out.r.get(), buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
  });
  ExecIo io{-1, out.w.get(), out.w.get(), -1};
  Result<int> status = RelayExec(*m.client, 3, io);
  out.w.reset();
  reader.join();
  ASSERT_TRUE(status.ok()) << status.error().message();
  EXPECT_EQ(*status, 0);
  EXPECT_EQ(got.size(), 3 * chunk.size());
  // All the client said: its stdin is closed.
  m.client.reset();
  auto f = m.Receive();
  ASSERT_TRUE(f && std::holds_alternative<vmproto::CloseStdin>(*f));
  EXPECT_FALSE(m.Receive().has_value());
}

TEST(RelayExec, ATerminalsSizeGoesFirstAndEveryResizeAfter) {
  Monitor m;
  int master = -1, slave = -1;
  winsize first{24, 80, 0, 0};
  ASSERT_EQ(openpty(&master, &slave, nullptr, nullptr, &first), 0);
  UniqueFd pm(master), ps(slave);
  sigset_t winch;
  sigemptyset(&winch);
  sigaddset(&winch, SIGWINCH);
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &winch, nullptr), 0);  // the guest thread inherits it
  UniqueFd sfd(signalfd(-1, &winch, SFD_CLOEXEC));
  ASSERT_TRUE(sfd.valid());
  std::thread guest([&] {
    auto f = m.Receive();
    ASSERT_TRUE(f && std::holds_alternative<vmproto::CloseStdin>(*f));  // no stdin here
    f = m.Receive();
    ASSERT_TRUE(f && std::holds_alternative<vmproto::Resize>(*f));
    EXPECT_EQ(std::get<vmproto::Resize>(*f), (vmproto::Resize{8, 24, 80}));
    winsize second{50, 132, 0, 0};
    ASSERT_EQ(ioctl(pm.get(), TIOCSWINSZ, &second), 0);
    kill(getpid(), SIGWINCH);  // what the kernel sends the terminal's session
    f = m.Receive();
    ASSERT_TRUE(f && std::holds_alternative<vmproto::Resize>(*f));
    EXPECT_EQ(std::get<vmproto::Resize>(*f), (vmproto::Resize{8, 50, 132}));
    m.Send(vmproto::Exit{8, vmproto::ExitKind::kExited, 0, false});
  });
  ExecIo io{-1, ps.get(), ps.get(), sfd.get(), ps.get()};
  Result<int> status = RelayExec(*m.client, 8, io);
  guest.join();
  pthread_sigmask(SIG_UNBLOCK, &winch, nullptr);
  ASSERT_TRUE(status.ok()) << status.error().message();
  EXPECT_EQ(*status, 0);
}

TEST(RelayExec, ASignalRefusedAfterTheExitRaceIsNoErrorButOthersAre) {
  Monitor m;
  Pipe out;
  m.Send(vmproto::GuestError{4, ESRCH, "no process on channel 4"});
  m.Send(vmproto::GuestError{6, EIO, "another client's trouble"});
  m.Send(vmproto::Exit{4, vmproto::ExitKind::kExited, 3, false});
  ExecIo io{-1, out.w.get(), out.w.get(), -1};
  Result<int> status = RelayExec(*m.client, 4, io);
  ASSERT_TRUE(status.ok()) << status.error().message();
  EXPECT_EQ(*status, 3);

  Monitor m2;
  m2.Send(vmproto::GuestError{4, EACCES, "something broke"});
  status = RelayExec(*m2.client, 4, io);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().errno_value(), EACCES);
}

TEST(RelayExec, TheMonitorGoingAwayMeansTheVmStopped) {
  Monitor m;
  Pipe out;
  m.fd.reset();
  ExecIo io{-1, out.w.get(), out.w.get(), -1};
  Result<int> status = RelayExec(*m.client, 4, io);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().errno_value(), EPIPE);
  EXPECT_NE(status.error().message().find("VM"), std::string::npos) << status.error().message();
}

}  // namespace
}  // namespace bulkhead::vmtier
