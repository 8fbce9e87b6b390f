// The host's end of the protocol for the guest init's integration test: a listening Unix
// socket the monitor connects its virtio-console to (bulkhead-vmm --console socket:PATH), the
// frames from the guest decoded and kept per channel, flow control done as the host would.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "vmproto/decoder.h"
#include "vmproto/flow.h"
#include "vmproto/message.h"

namespace bulkhead::vminit::testing {

// Everything the guest sent on one channel.
struct ChannelLog {
  std::optional<uint32_t> pid;  // from started
  std::string out, err;
  std::optional<vmproto::Exit> exit;
  std::vector<vmproto::GuestError> errors;
  vmproto::FlowWindow stdin_window;     // what the driver may still send
  vmproto::FlowWindow out_windows[3];  // [1] stdout, [2] stderr, as the receiver counts them
};

class Peer {
 public:
  // Listens on `path` and waits up to timeout_ms for the monitor to connect.
  static Result<Peer> Accept(const std::string& path, int timeout_ms);

  Status Send(const vmproto::Message& m);
  // Sends `data` as stdin of `channel` in frames, within the guest's window, waiting for its
  // credit when the window is spent.
  Status SendStdin(uint32_t channel, const std::string& data, int64_t deadline_ms);

  // Takes frames from the guest until done() holds; false when the deadline passed or the
  // stream ended first (eof() tells which).
  bool Until(const std::function<bool()>& done, int64_t deadline_ms);
  // Reads until the monitor closes the socket (it exits when the guest powers off).
  bool UntilEof(int64_t deadline_ms);

  std::optional<vmproto::Hello> hello;
  std::map<uint32_t, ChannelLog> channels;
  std::map<uint32_t, vmproto::StatsReply> stats;
  bool eof() const { return eof_; }
  // The first protocol error: a malformed frame, an overrun window.
  const std::string& failure() const { return failure_; }

 private:
  Peer() = default;
  void ReadOnce(int timeout_ms);
  void Take(vmproto::Message m);

  UniqueFd fd_;
  vmproto::Decoder decoder_{vmproto::Direction::kGuestToHost};
  bool eof_ = false;
  std::string failure_;
};

int64_t NowMs();

}  // namespace bulkhead::vminit::testing
