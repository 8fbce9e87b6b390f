// Bytes waiting for one non-blocking fd (the console port, a client, fd 1 or 2), in chunks
// written in order. A chunk may carry process output of one channel's stream; once all of it
// has left, the queue reports it, so the relay can return flow-control credit only for what
// really drained (a slow reader throttles the guest instead of growing the queue).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <vector>

#include "base/result.h"
#include "vmproto/message.h"

namespace bulkhead::vmm::agent {

class OutQueue {
 public:
  // Output of `channel`'s `stream` inside a chunk: `bytes` of it.
  struct Output {
    uint32_t channel = 0;
    vmproto::Stream stream = vmproto::Stream::kStdout;
    size_t bytes = 0;
  };
  using OnDrained = std::function<void(const Output&)>;

  // Sockets are written with sendmsg(MSG_NOSIGNAL): a client gone is an error, not SIGPIPE.
  explicit OutQueue(bool socket) : socket_(socket) {}

  void Push(std::vector<uint8_t> bytes, Output output);
  void Push(std::vector<uint8_t> bytes) { Push(std::move(bytes), Output{0, vmproto::Stream::kStdout, 0}); }

  // Writes what the fd takes now. Ok when the queue is empty or the fd is full (EAGAIN);
  // an error when the fd failed (the reader is gone), with the queue left as it was.
  Status Flush(int fd, const OnDrained& drained);

  // Forgets everything, reporting the output as drained (its reader is gone).
  void Discard(const OnDrained& drained);

  bool empty() const { return chunks_.empty(); }
  size_t size() const { return bytes_; }
  // Bytes queued that are not process output: those flow control does not bound.
  size_t control_bytes() const { return bytes_ - output_bytes_; }

 private:
  struct Chunk {
    std::vector<uint8_t> bytes;
    Output output;
  };
  void PopFront(const OnDrained& drained);

  bool socket_;
  std::deque<Chunk> chunks_;
  size_t offset_ = 0;  // into chunks_.front()
  size_t bytes_ = 0;   // all chunks, less what of the first is written
  size_t output_bytes_ = 0;
};

}  // namespace bulkhead::vmm::agent
