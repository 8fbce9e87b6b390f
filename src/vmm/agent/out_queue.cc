#include "vmm/agent/out_queue.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>

#include "base/syscall.h"

namespace bulkhead::vmm::agent {

void OutQueue::Push(std::vector<uint8_t> bytes, Output output) {
  if (bytes.empty()) return;
  bytes_ += bytes.size();
  output_bytes_ += output.bytes;
  chunks_.push_back({std::move(bytes), output});
}

void OutQueue::PopFront(const OnDrained& drained) {
  Chunk& c = chunks_.front();
  bytes_ -= c.bytes.size() - offset_;
  output_bytes_ -= c.output.bytes;
  Output out = c.output;
  chunks_.pop_front();
  offset_ = 0;
  if (out.bytes != 0 && drained) drained(out);
}

Status OutQueue::Flush(int fd, const OnDrained& drained) {
  while (!chunks_.empty()) {
    // Several chunks per call; a bounded iovec keeps the stack small.
    std::array<iovec, 32> iov;
    size_t n = 0;
    for (size_t i = 0; i < chunks_.size() && n < iov.size(); ++i, ++n) {
      size_t skip = i == 0 ? offset_ : 0;
      iov[n].iov_base = chunks_[i].bytes.data() + skip;
      iov[n].iov_len = chunks_[i].bytes.size() - skip;
    }
    ssize_t wrote;
    if (socket_) {
      msghdr msg{};
      msg.msg_iov = iov.data();
      msg.msg_iovlen = n;
      wrote = RetryEintr([&] { return sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT); });
    } else {
      wrote = RetryEintr([&] { return writev(fd, iov.data(), static_cast<int>(n)); });
    }
    if (wrote < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Ok();
    if (wrote < 0) return Error::FromErrno("writing");
    if (wrote == 0) return Error("writing: the fd took nothing");
    auto left = static_cast<size_t>(wrote);
    while (left > 0) {
      size_t rest = chunks_.front().bytes.size() - offset_;
      if (left < rest) {
        offset_ += left;
        bytes_ -= left;
        break;
      }
      left -= rest;
      PopFront(drained);
    }
  }
  return Ok();
}

void OutQueue::Discard(const OnDrained& drained) {
  while (!chunks_.empty()) PopFront(drained);
}

}  // namespace bulkhead::vmm::agent
