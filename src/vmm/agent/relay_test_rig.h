// A relay under test with real peers: a socketpair stands in for the console port (the test
// plays the guest on its end with bh_vmproto's encoder), pipes are the main stdio, and
// clients connect to a real agent socket. The relay runs in the test's thread: Settle() turns
// it until nothing more happens.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "vmm/agent/listen_socket.h"
#include "vmm/agent/relay.h"
#include "vmproto/decoder.h"
#include "vmproto/encoder.h"

namespace bulkhead::vmm::agent::testing {

using namespace vmproto;

// Everything one end of a stream decoded so far.
struct Peer {
  UniqueFd fd;
  Decoder decoder;
  std::vector<Message> got;
  Status status = Ok();
  bool eof = false;

  explicit Peer(Direction from) : decoder(from) {}

  void Send(const Message& m) {
    auto frame = Encode(m);
    ASSERT_TRUE(frame.ok()) << frame.error().message();
    SendRaw(*frame);
  }
  void SendRaw(const std::vector<uint8_t>& bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = write(fd.get(), bytes.data() + done, bytes.size() - done);
      ASSERT_GT(n, 0) << "peer write: " << strerror(errno);
      done += static_cast<size_t>(n);
    }
  }
  // Reads what is there (non-blocking) and decodes it.
  void Poll() {
    uint8_t buf[65536];
    for (;;) {
      ssize_t n = read(fd.get(), buf, sizeof buf);
      if (n == 0) eof = true;
      if (n <= 0) return;
      if (status.ok()) status = decoder.Feed(std::span<const uint8_t>(buf, static_cast<size_t>(n)));
      while (auto m = decoder.Next()) got.push_back(std::move(*m));
    }
  }
  template <class T>
  std::vector<T> All() {
    std::vector<T> out;
    for (const Message& m : got) {
      if (auto* t = std::get_if<T>(&m)) out.push_back(*t);
    }
    return out;
  }
};

class Rig {
 public:
  // With `tty` the main stdio is a pty's slave (raw), as a vm-tier container with a terminal
  // has it, and `tty_master` is the console's end.
  // `writeback` are the VM's writable volumes.
  explicit Rig(bool tty = false, std::vector<WritebackTarget> writeback = {})
      : guest(Direction::kHostToGuest) {
    signal(SIGPIPE, SIG_IGN);  // a reader the test closes must not kill the test
    char dir[] = "/tmp/bh-relay-test.XXXXXX";
    EXPECT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    path = dir_ + "/agent.sock";
    int sp[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
    guest.fd = UniqueFd(sp[0]);
    fcntl(sp[0], F_SETFL, O_NONBLOCK);
    int in[2], out[2], err[2];
    EXPECT_EQ(pipe2(in, O_CLOEXEC), 0);
    EXPECT_EQ(pipe2(out, O_CLOEXEC), 0);
    EXPECT_EQ(pipe2(err, O_CLOEXEC), 0);
    stdin_w = UniqueFd(in[1]);
    stdin_r = UniqueFd(in[0]);
    stdout_r = UniqueFd(out[0]);
    stdout_w = UniqueFd(out[1]);
    stderr_r = UniqueFd(err[0]);
    stderr_w = UniqueFd(err[1]);
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    fcntl(err[0], F_SETFL, O_NONBLOCK);
    auto listen = ListenUnix(path);
    EXPECT_TRUE(listen.ok()) << listen.error().message();
    RelayFds fds{UniqueFd(sp[1]), std::move(*listen), stdin_r.get(), stdout_w.get(), stderr_w.get()};
    fds.writeback = std::move(writeback);
    if (tty) {
      tty_master = UniqueFd(posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
      EXPECT_TRUE(tty_master.valid() && unlockpt(tty_master.get()) == 0);
      tty_slave = UniqueFd(ioctl(tty_master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
      EXPECT_TRUE(tty_slave.valid()) << strerror(errno);
      termios t{};
      tcgetattr(tty_slave.get(), &t);
      cfmakeraw(&t);
      tcsetattr(tty_slave.get(), TCSANOW, &t);
      fcntl(tty_master.get(), F_SETFL, O_NONBLOCK);
      // Three fds, as the monitor's 0, 1 and 2 are: one open file, three epoll entries.
      tty_out = UniqueFd(fcntl(tty_slave.get(), F_DUPFD_CLOEXEC, 0));
      tty_err = UniqueFd(fcntl(tty_slave.get(), F_DUPFD_CLOEXEC, 0));
      fds.in = tty_slave.get();
      fds.out = tty_out.get();
      fds.err = tty_err.get();
      fds.tty = true;
    }
    auto r = Relay::Create(std::move(fds));
    EXPECT_TRUE(r.ok()) << r.error().message();
    relay = std::move(*r);
  }
  ~Rig() {
    relay.reset();
    unlink(path.c_str());
    rmdir(dir_.c_str());
  }

  // Turns the relay until it has nothing left to do; the outcome, if it ended.
  std::optional<Outcome> Settle() {
    std::optional<Outcome> out;
    for (int i = 0; i < 40 && !out; ++i) out = relay->Run(i < 30 ? 0 : 1);
    guest.Poll();
    for (auto& c : clients) c->Poll();
    return out;
  }

  // A client connected to the agent socket (and accepted).
  Peer& Connect() {
    auto p = std::make_unique<Peer>(Direction::kGuestToHost);
    p->fd = UniqueFd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    EXPECT_EQ(connect(p->fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << strerror(errno);
    fcntl(p->fd.get(), F_SETFL, O_NONBLOCK);
    clients.push_back(std::move(p));
    Settle();
    return *clients.back();
  }

  // The guest says hello; a client connects and starts the main process.
  Peer& Started() {
    guest.Send(Hello{kVersion, "6.1.0-test"});
    Peer& c = Connect();
    c.Send(Start{R"({"process":{}})"});
    Settle();
    guest.Send(vmproto::Started{kMainChannel, 100});
    Settle();
    return c;
  }

  std::string ReadAll(int fd) {
    std::string s;
    char buf[65536];
    for (;;) {
      ssize_t n = read(fd, buf, sizeof buf);
      if (n <= 0) return s;
      s.append(buf, static_cast<size_t>(n));
    }
  }

  std::string path;
  Peer guest;
  UniqueFd stdin_r, stdin_w, stdout_r, stdout_w, stderr_r, stderr_w;
  UniqueFd tty_master, tty_slave, tty_out, tty_err;
  std::vector<std::unique_ptr<Peer>> clients;
  std::unique_ptr<Relay> relay;

 private:
  std::string dir_;
};

// The guest-error a client got last, "" when none.
inline std::string LastError(Peer& p) {
  auto errs = p.All<GuestError>();
  return errs.empty() ? "" : errs.back().text;
}

}  // namespace bulkhead::vmm::agent::testing
