// The runtime's end of a connection to a VM's agent socket (bulkhead-vmm --agent-socket):
// it speaks the host side of the host<->guest protocol (docs/vm-protocol.md). The first
// frame a client gets is the guest's hello; the monitor answers refusals with guest-error.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"
#include "vmproto/decoder.h"
#include "vmproto/message.h"

namespace bulkhead::vmtier {

class AgentClient {
 public:
  static Result<AgentClient> Connect(const std::string& socket_path);
  // Takes over a connected socket (tests).
  explicit AgentClient(UniqueFd fd) : fd_(std::move(fd)) {}

  // Waits for the guest's hello, which is only sent once the guest has booted.
  Result<vmproto::Hello> AwaitHello(std::chrono::milliseconds timeout);
  Status Send(const vmproto::Message& m);
  // The next frame; nullopt once the monitor closed the connection. Times out with
  // ETIMEDOUT.
  Result<std::optional<vmproto::Message>> Next(std::chrono::milliseconds timeout);
  // Stops sending: the monitor then drops this client's channels and closes it.
  void CloseSending();

  // For callers with a poll loop of their own: the socket, one read into the decoder once
  // it is readable (false once the monitor closed the connection), and the next decoded
  // frame without waiting.
  int fd() const { return fd_.get(); }
  Result<bool> ReadSome();
  std::optional<vmproto::Message> Take() { return decoder_.Next(); }

 private:
  UniqueFd fd_;
  vmproto::Decoder decoder_{vmproto::Direction::kGuestToHost};
};

// A guest-error as text: "guest: <text> (<strerror>)".
std::string DescribeGuestError(const vmproto::GuestError& e);

}  // namespace bulkhead::vmtier
