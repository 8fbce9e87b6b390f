#include "vmtier/agent_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "base/fs.h"
#include "base/scm.h"
#include "base/syscall.h"
#include "vmproto/encoder.h"

namespace bulkhead::vmtier {

using Clock = std::chrono::steady_clock;

Result<AgentClient> AgentClient::Connect(const std::string& socket_path) {
  BH_ASSIGN(UniqueFd fd, ConnectUnix(socket_path).Context("connecting to the VM's agent socket"));
  return AgentClient(std::move(fd));
}

Result<std::optional<vmproto::Message>> AgentClient::Next(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    if (std::optional<vmproto::Message> m = decoder_.Next()) return m;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return Error("the VM did not answer in time", ETIMEDOUT);
    pollfd p{fd_.get(), POLLIN, 0};
    int rc = RetryEintr([&] { return poll(&p, 1, static_cast<int>(left.count())); });
    if (rc < 0) return Error::FromErrno("waiting for the VM's agent socket");
    if (rc == 0) continue;
    BH_ASSIGN(bool open, ReadSome());
    if (!open) return std::optional<vmproto::Message>();
  }
}

Result<bool> AgentClient::ReadSome() {
  uint8_t buf[16384];
  ssize_t n = RetryEintr([&] { return read(fd_.get(), buf, sizeof buf); });
  if (n < 0) {
    if (errno == ECONNRESET) return false;
    return Error::FromErrno("reading the VM's agent socket");
  }
  if (n == 0) return false;
  BH_TRY(decoder_.Feed({buf, static_cast<size_t>(n)}).Context("from the VM's agent socket"));
  return true;
}

Result<vmproto::Hello> AgentClient::AwaitHello(std::chrono::milliseconds timeout) {
  BH_ASSIGN(std::optional<vmproto::Message> m, Next(timeout));
  if (!m) return Error("the monitor closed the agent connection before the guest said hello", EPIPE);
  // The decoder accepts nothing before a hello, so the first message is one.
  return std::get<vmproto::Hello>(*m);
}

Status AgentClient::Send(const vmproto::Message& m) {
  BH_ASSIGN(std::vector<uint8_t> frame, vmproto::Encode(m));
  size_t off = 0;
  while (off < frame.size()) {
    ssize_t n = RetryEintr(
        [&] { return send(fd_.get(), frame.data() + off, frame.size() - off, MSG_NOSIGNAL); });
    if (n < 0) return Error::FromErrno("writing to the VM's agent socket");
    off += static_cast<size_t>(n);
  }
  return Ok();
}

void AgentClient::CloseSending() { shutdown(fd_.get(), SHUT_WR); }

std::string DescribeGuestError(const vmproto::GuestError& e) {
  std::string text = "guest: " + e.text;
  // The guest's text usually names the errno already.
  std::string err_text = e.err != 0 ? strerror(static_cast<int>(e.err)) : "";
  if (!err_text.empty() && text.find(err_text) == std::string::npos) text += " (" + err_text + ")";
  return text;
}

}  // namespace bulkhead::vmtier
