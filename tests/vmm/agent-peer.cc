// agent-peer: both ends of the agent-mode check (tests/vmm/in-host.sh, case agent), built
// with bh_vmproto's encoder and decoder and linked static, for the test guest and the test
// host (busybox, no python).
//
//   agent-peer guest echo       in the test guest: on /dev/hvc0, says hello, waits for start,
//                               answers started, sends start's payload as the main process's
//                               stdout, then exit 7
//   agent-peer guest garbage    in the test guest: writes bytes that are no frame, then waits
//   agent-peer guest betray     says hello as bulkhead-init would, then answers start with
//                               bytes that are no frame. Run as a VM's /init (pid 1, no
//                               arguments) it mounts devtmpfs and does this: the hostile
//                               guest of the vm tier's test (tests/vmtier/in-host.sh)
//   agent-peer client SOCKET PAYLOAD [TIMEOUT]
//                               in the test host: connects to the monitor's agent socket
//                               (waiting for it to appear), waits for hello, sends start with
//                               PAYLOAD, prints what comes back, ends at the exit frame
//
// Exit status: 0 done (the client: it got an exit frame), 1 the peer broke off or the time ran
// out, 2 bad usage or setup.
#include <fcntl.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "vmproto/decoder.h"
#include "vmproto/encoder.h"

using bulkhead::Status;
using namespace bulkhead::vmproto;

namespace {

time_t deadline = 0;

int Fail(const std::string& what) {
  fprintf(stderr, "agent-peer: %s\n", what.c_str());
  return 1;
}

bool WriteAll(int fd, const std::vector<uint8_t>& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

bool Send(int fd, const Message& m) {
  auto frame = Encode(m);
  return frame.ok() && WriteAll(fd, *frame);
}

// The next message from fd, or none at EOF, a decode error or the deadline.
std::optional<Message> Receive(int fd, Decoder& decoder) {
  for (;;) {
    if (auto m = decoder.Next()) return m;
    time_t left = deadline - time(nullptr);
    if (left <= 0) {
      Fail("timed out");
      return std::nullopt;
    }
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left * 1000)) <= 0) continue;
    uint8_t buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Fail(n == 0 ? "the other end closed" : std::string("read: ") + strerror(errno));
      return std::nullopt;
    }
    Status st = decoder.Feed(std::span<const uint8_t>(buf, static_cast<size_t>(n)));
    if (!st.ok()) {
      Fail(st.error().message());
      return std::nullopt;
    }
  }
}

int Guest(const std::string& mode) {
  int fd = open("/dev/hvc0", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return Fail(std::string("/dev/hvc0: ") + strerror(errno));
  // Raw: no echo of the host's bytes, no newline translation of ours.
  termios t{};
  if (tcgetattr(fd, &t) == 0) {
    cfmakeraw(&t);
    tcsetattr(fd, TCSANOW, &t);
  }
  if (mode == "garbage") {
    const std::string junk = "this is console text, not a frame\n";
    if (!WriteAll(fd, std::vector<uint8_t>(junk.begin(), junk.end()))) return Fail("write");
    tcdrain(fd);
    for (;;) pause();
  }
  if (mode != "echo" && mode != "betray") return Fail("unknown guest mode " + mode);
  utsname u{};
  uname(&u);
  if (!Send(fd, MakeHello(u.release))) return Fail("sending hello");
  Decoder decoder(Direction::kHostToGuest);
  if (mode == "betray") {
    if (!Receive(fd, decoder)) return 1;
    // A frame header whose magic is wrong and whose length is huge, then noise.
    std::vector<uint8_t> junk(4096);
    for (size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<uint8_t>(0xff - i * 7);
    if (!WriteAll(fd, junk)) return Fail("write");
    tcdrain(fd);
    for (;;) pause();
  }
  std::string payload;
  for (;;) {
    auto m = Receive(fd, decoder);
    if (!m) return 1;
    if (auto* s = std::get_if<Start>(&*m)) {
      payload = s->spec_json;
      break;
    }
  }
  bool ok = Send(fd, Started{kMainChannel, static_cast<uint32_t>(getpid())});
  for (size_t off = 0; ok && off < payload.size(); off += kMaxDataChunk) {
    std::string chunk = payload.substr(off, kMaxDataChunk);
    ok = Send(fd, Data{kMainChannel, Stream::kStdout, std::vector<uint8_t>(chunk.begin(), chunk.end())});
  }
  ok = ok && Send(fd, Exit{kMainChannel, ExitKind::kExited, 7, false});
  tcdrain(fd);
  return ok ? 0 : Fail("sending to the host");
}

int Client(const std::string& path, const std::string& payload) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return Fail("socket path too long");
  memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = -1;
  while (fd < 0) {
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) break;
    close(fd);
    fd = -1;
    if (time(nullptr) >= deadline) return Fail("no agent socket at " + path);
    usleep(100 * 1000);
  }
  Decoder decoder(Direction::kGuestToHost);
  for (;;) {
    auto m = Receive(fd, decoder);
    if (!m) return 1;
    if (auto* h = std::get_if<Hello>(&*m)) {
      printf("agent-peer: hello %s\n", h->kernel_release.c_str());
      if (!Send(fd, Start{payload})) return Fail("sending start");
    } else if (auto* s = std::get_if<Started>(&*m)) {
      printf("agent-peer: started pid %u\n", s->pid);
    } else if (auto* e = std::get_if<GuestError>(&*m)) {
      printf("agent-peer: guest-error %u %s\n", e->err, e->text.c_str());
    } else if (auto* x = std::get_if<Exit>(&*m)) {
      printf("agent-peer: exit %d\n", ShellStatus(*x));
      return 0;
    }
    fflush(stdout);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (getpid() == 1 && argc == 1) {
    // A VM's init: nothing is mounted yet, and returning would panic the guest.
    mount("devtmpfs", "/dev", "devtmpfs", 0, nullptr);
    deadline = time(nullptr) + 3600;
    Guest("betray");
    for (;;) pause();
  }
  std::string role = argc > 1 ? argv[1] : "";
  if (role == "guest" && argc == 3) {
    deadline = time(nullptr) + 600;
    return Guest(argv[2]);
  }
  if (role == "client" && (argc == 4 || argc == 5)) {
    long timeout = argc == 5 ? strtol(argv[4], nullptr, 10) : 60;
    if (timeout <= 0) return 2;
    deadline = time(nullptr) + timeout;
    return Client(argv[2], argv[3]);
  }
  fprintf(stderr, "usage: agent-peer guest echo|garbage|betray | agent-peer client SOCKET PAYLOAD [TIMEOUT]\n");
  return 2;
}
