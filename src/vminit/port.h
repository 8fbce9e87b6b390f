// The guest's end of the protocol: the virtio-console port (a tty, put in raw mode so frames
// pass unaltered), frames queued for the host, and the decoder of the host's frames.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "vmproto/decoder.h"
#include "vmproto/message.h"

namespace bulkhead::vminit {

class Port {
 public:
  // Opens the tty non-blocking and makes it raw: no echo, no line editing, no CR/NL mapping,
  // no flow-control characters; any of those would corrupt binary frames.
  static Result<Port> Open(const std::string& path);

  int fd() const { return fd_.get(); }

  // Queues the frame for m (the encoder refuses a message the host would reject).
  Status Send(const vmproto::Message& m);
  // Bytes queued and not yet written.
  size_t backlog() const { return out_.size() - sent_; }

  // Writes what it can without blocking.
  Status Flush();
  // Writes until at most `backlog` bytes are left queued, waiting at most timeout_ms for the
  // host to take them.
  Status FlushTo(size_t backlog, int timeout_ms);
  // Writes everything, waiting at most timeout_ms, then waits for the tty to hand it all to
  // the device: the last frames before power-off must reach the host.
  Status FlushAll(int timeout_ms);

  // Reads what is there and decodes it. A malformed frame is an error (the decoder is then
  // poisoned for good).
  Status Receive();
  std::optional<vmproto::Message> Next() { return decoder_.Next(); }

 private:
  explicit Port(UniqueFd fd) : fd_(std::move(fd)) {}

  UniqueFd fd_;
  vmproto::Decoder decoder_{vmproto::Direction::kHostToGuest};
  std::vector<uint8_t> out_;
  size_t sent_ = 0;  // bytes of out_ already written
};

}  // namespace bulkhead::vminit
