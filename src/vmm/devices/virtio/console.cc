#include "vmm/devices/virtio/console.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <climits>

#include "base/syscall.h"
#include "vmm/devices/virtio/chain_io.h"

namespace bulkhead::vmm {
namespace {

Status SetNonBlocking(int fd) {
  if (fd < 0) return Ok();
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return Error::FromErrno("making console fd non-blocking");
  return Ok();
}

}  // namespace

Result<std::unique_ptr<VirtioConsole>> VirtioConsole::Create(UniqueFd input, UniqueFd output) {
  BH_TRY(SetNonBlocking(input.get()));
  BH_TRY(SetNonBlocking(output.get()));
  return std::unique_ptr<VirtioConsole>(new VirtioConsole(std::move(input), std::move(output)));
}

std::vector<DeviceEventSource> VirtioConsole::event_sources() const {
  std::vector<DeviceEventSource> sources;
  // Edge-triggered: the console drains input until EAGAIN or until the guest
  // has no buffer, and an output fd is writable nearly always.
  if (input_.valid()) sources.push_back({input_.get(), EPOLLIN | EPOLLET});
  if (output_.valid()) sources.push_back({output_.get(), EPOLLOUT | EPOLLET});
  return sources;
}

Result<QueueWork> VirtioConsole::ProcessQueue(uint16_t index, GuestMemory& mem, std::span<Virtqueue> queues) {
  if (queues.size() < 2) return QueueWork::kDone;
  if (index == kReceiveQueue) return Receive(mem, queues[kReceiveQueue]);
  if (index == kTransmitQueue) return Transmit(mem, queues[kTransmitQueue]);
  return QueueWork::kDone;
}

Result<QueueWork> VirtioConsole::OnEvent(GuestMemory& mem, std::span<Virtqueue> queues) {
  if (queues.size() < 2) return QueueWork::kDone;
  BH_ASSIGN(QueueWork rx, Receive(mem, queues[kReceiveQueue]));
  BH_ASSIGN(QueueWork tx, Transmit(mem, queues[kTransmitQueue]));
  return rx == QueueWork::kMore || tx == QueueWork::kMore ? QueueWork::kMore : QueueWork::kDone;
}

void VirtioConsole::Reset() {
  // The rings are gone with the reset; in-flight chains are simply forgotten.
  rx_.reset();
  tx_.reset();
  tx_done_ = 0;
}

Result<QueueWork> VirtioConsole::Receive(GuestMemory& mem, Virtqueue& q) {
  if (!input_.valid() || input_closed_) return QueueWork::kDone;
  for (uint32_t n = 0; n < kQueueBudget; ++n) {
    if (!rx_) {
      BH_ASSIGN(rx_, q.Pop(mem));
      if (!rx_) return QueueWork::kDone;  // no buffer: the input waits in the fd
    }
    if (rx_->writable_bytes == 0) {  // nothing to fill: hand it straight back
      BH_TRY(q.AddUsed(mem, rx_->head, 0));
      rx_.reset();
      continue;
    }
    // A chain holds at most 256 buffers (below IOV_MAX); cap the size at what
    // one used entry can report.
    const uint64_t room = std::min<uint64_t>(rx_->writable_bytes, UINT32_MAX);
    BH_ASSIGN(auto iov, ChainIovecs(mem, *rx_, /*writable=*/true, 0, room));
    ssize_t got = RetryEintr([&] { return readv(input_.get(), iov.data(), static_cast<int>(iov.size())); });
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return QueueWork::kDone;
    if (got <= 0) {
      // EOF, or the fd failed: there will be no more input. The posted
      // buffer stays with us; the driver gets it back at reset.
      input_closed_ = true;
      return QueueWork::kDone;
    }
    BH_TRY(q.AddUsed(mem, rx_->head, static_cast<uint32_t>(got)));
    rx_.reset();
  }
  return QueueWork::kMore;
}

Result<QueueWork> VirtioConsole::Transmit(GuestMemory& mem, Virtqueue& q) {
  for (uint32_t n = 0; n < kQueueBudget; ++n) {
    if (!tx_) {
      BH_ASSIGN(tx_, q.Pop(mem));
      if (!tx_) return QueueWork::kDone;
      tx_done_ = 0;
    }
    if (!Flush(mem)) return QueueWork::kDone;  // fd full: EPOLLOUT brings us back
    BH_TRY(q.AddUsed(mem, tx_->head, 0));
    tx_.reset();
  }
  return QueueWork::kMore;
}

bool VirtioConsole::Flush(GuestMemory& mem) {
  while (tx_done_ < tx_->readable_bytes) {
    if (!output_.valid()) break;
    auto iov = ChainIovecs(mem, *tx_, /*writable=*/false, tx_done_, tx_->readable_bytes - tx_done_);
    if (!iov.ok()) break;
    const size_t count = std::min<size_t>(iov->size(), IOV_MAX);
    ssize_t n = -1;
    if (output_is_socket_) {
      msghdr msg{};
      msg.msg_iov = iov->data();
      msg.msg_iovlen = count;
      n = RetryEintr([&] { return sendmsg(output_.get(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT); });
      if (n < 0 && errno == ENOTSOCK) {
        output_is_socket_ = false;
        continue;
      }
    } else {
      n = RetryEintr([&] { return writev(output_.get(), iov->data(), static_cast<int>(count)); });
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
    if (n <= 0) break;  // the peer is gone: drop the rest
    tx_done_ += static_cast<uint64_t>(n);
  }
  tx_done_ = tx_->readable_bytes;
  return true;
}

}  // namespace bulkhead::vmm
