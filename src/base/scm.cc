#include "base/scm.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

#include "base/syscall.h"

namespace bulkhead {

Status SendWithFd(int sock, std::string_view payload, int fd) {
  struct iovec iov {
    const_cast<char*>(payload.data()), payload.size()
  };
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
  }
  ssize_t n = RetryEintr([&] { return ::sendmsg(sock, &msg, MSG_NOSIGNAL); });
  if (n < 0) return Error::FromErrno("sending a message");
  if (static_cast<size_t>(n) != payload.size()) return Error("short send of a message", EIO);
  return Ok();
}

Result<Received> RecvWithFd(int sock, size_t max_len) {
  Received out;
  out.payload.resize(max_len);
  struct iovec iov {
    out.payload.data(), out.payload.size()
  };
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)] = {};
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n = RetryEintr([&] { return ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC); });
  if (n < 0) return Error::FromErrno("receiving a message");
  out.payload.resize(static_cast<size_t>(n));
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      if (!out.fd.valid()) {
        out.fd.reset(fd);
      } else {
        ::close(fd);
      }
    }
  }
  if (msg.msg_flags & MSG_TRUNC) return Error("message too long", EMSGSIZE);
  return out;
}

Result<UniqueFd> ConnectUnix(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error::FromErrno("creating a socket");
  UniqueFd sock(fd);
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  std::string target = path;
  UniqueFd dir;
  if (target.size() >= sizeof addr.sun_path) {
    // Too long for sun_path: go through an fd of the directory.
    size_t slash = path.rfind('/');
    std::string parent = slash == std::string::npos ? "." : path.substr(0, slash);
    int dfd = ::open(parent.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return Error::FromErrno("opening " + parent);
    dir.reset(dfd);
    target = "/proc/self/fd/" + std::to_string(dfd) + "/" + path.substr(slash + 1);
    if (target.size() >= sizeof addr.sun_path) return Error("socket path too long: " + path);
  }
  memcpy(addr.sun_path, target.c_str(), target.size() + 1);
  int rc = RetryEintr([&] {
    return ::connect(sock.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof addr);
  });
  if (rc != 0) return Error::FromErrno("connecting to " + path);
  return sock;
}

}  // namespace bulkhead
