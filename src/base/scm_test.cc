// The console-socket protocol at the byte level: a pty master travels over a Unix
// socket with SCM_RIGHTS and the pty's name as the message, and stays usable.
#include "base/scm.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <string>

namespace bulkhead {
namespace {

struct Pair {
  UniqueFd a, b;
};

Pair SocketPair() {
  int sv[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  return {UniqueFd(sv[0]), UniqueFd(sv[1])};
}

TEST(Scm, PtyMasterCrossesTheSocketAndStillWorks) {
  int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  ASSERT_GE(master, 0);
  UniqueFd m(master);
  ASSERT_EQ(grantpt(master), 0);
  ASSERT_EQ(unlockpt(master), 0);
  std::string name = ptsname(master);
  UniqueFd slave(open(name.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC));
  ASSERT_TRUE(slave.valid());
  struct termios t {};
  ASSERT_EQ(tcgetattr(slave.get(), &t), 0);
  cfmakeraw(&t);
  ASSERT_EQ(tcsetattr(slave.get(), TCSANOW, &t), 0);

  Pair p = SocketPair();
  ASSERT_TRUE(SendWithFd(p.a.get(), name, master).ok());
  m.reset();  // only the received copy remains
  auto got = RecvWithFd(p.b.get(), 4096);
  ASSERT_TRUE(got.ok()) << got.error().message();
  EXPECT_EQ(got->payload, name);
  ASSERT_TRUE(got->fd.valid());

  // Window size set through the received master is seen on the slave.
  struct winsize ws {};
  ws.ws_row = 33;
  ws.ws_col = 101;
  ASSERT_EQ(ioctl(got->fd.get(), TIOCSWINSZ, &ws), 0);
  struct winsize back {};
  ASSERT_EQ(ioctl(slave.get(), TIOCGWINSZ, &back), 0);
  EXPECT_EQ(back.ws_row, 33);
  EXPECT_EQ(back.ws_col, 101);

  // Bytes flow both ways.
  ASSERT_EQ(write(slave.get(), "out", 3), 3);
  char buf[8] = {};
  ASSERT_EQ(read(got->fd.get(), buf, sizeof buf), 3);
  EXPECT_EQ(std::string(buf, 3), "out");
  ASSERT_EQ(write(got->fd.get(), "in", 2), 2);
  ASSERT_EQ(read(slave.get(), buf, sizeof buf), 2);
  EXPECT_EQ(std::string(buf, 2), "in");

  // The received descriptor is close-on-exec: it must not leak into a workload.
  EXPECT_NE(fcntl(got->fd.get(), F_GETFD) & FD_CLOEXEC, 0);
}

TEST(Scm, MessageWithoutDescriptorAndEof) {
  Pair p = SocketPair();
  ASSERT_TRUE(SendWithFd(p.a.get(), "hello", -1).ok());
  auto got = RecvWithFd(p.b.get(), 64);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->payload, "hello");
  EXPECT_FALSE(got->fd.valid());
  p.a.reset();
  auto eof = RecvWithFd(p.b.get(), 64);
  ASSERT_TRUE(eof.ok());
  EXPECT_TRUE(eof->payload.empty());
}

TEST(Scm, ConnectUnixNamesAMissingSocket) {
  auto r = ConnectUnix("/nonexistent-dir/console.sock");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("/nonexistent-dir/console.sock"), std::string::npos);
}

TEST(Scm, ConnectUnixReachesPathsLongerThanSunPath) {
  char tmpl[] = "/tmp/bh-scm-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  std::string deep = dir + "/" + std::string(100, 'd');
  ASSERT_EQ(mkdir(deep.c_str(), 0700), 0);
  std::string path = deep + "/console.sock";
  ASSERT_GT(path.size(), sizeof(sockaddr_un::sun_path));
  // Bind through the directory fd, as a long path cannot be bound directly.
  UniqueFd dfd(open(deep.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(dfd.valid());
  UniqueFd srv(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  std::string via = "/proc/self/fd/" + std::to_string(dfd.get()) + "/console.sock";
  ASSERT_LT(via.size(), sizeof addr.sun_path);
  memcpy(addr.sun_path, via.c_str(), via.size() + 1);
  ASSERT_EQ(bind(srv.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(srv.get(), 1), 0);
  auto c = ConnectUnix(path);
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message());
  unlink(path.c_str());
  rmdir(deep.c_str());
  rmdir(dir.c_str());
}

}  // namespace
}  // namespace bulkhead
