#include "vminit/port.h"

#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <time.h>

#include "base/syscall.h"
#include "vmproto/encoder.h"

namespace bulkhead::vminit {

namespace {

// One read takes at most this much; the decoder holds at most one frame beyond it.
constexpr size_t kReadChunk = 64 * 1024;

int64_t NowMs() {
  struct timespec ts {};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace

Result<Port> Port::Open(const std::string& path) {
  int fd = RetryEintr([&] { return open(path.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC); });
  if (fd < 0) return Error::FromErrno("opening the host port " + path);
  UniqueFd owned(fd);
  struct termios t {};
  if (tcgetattr(fd, &t) != 0) return Error::FromErrno("reading the terminal settings of " + path);
  cfmakeraw(&t);
  t.c_cc[VMIN] = 1;
  t.c_cc[VTIME] = 0;
  if (tcsetattr(fd, TCSANOW, &t) != 0) return Error::FromErrno("making " + path + " raw");
  // Anything the line discipline took in before it was raw is not a frame.
  tcflush(fd, TCIFLUSH);
  return Port(std::move(owned));
}

Status Port::Send(const vmproto::Message& m) {
  if (sent_ > 0 && sent_ == out_.size()) {
    out_.clear();
    sent_ = 0;
  }
  return vmproto::AppendFrame(m, out_);
}

Status Port::Flush() {
  while (sent_ < out_.size()) {
    ssize_t n = RetryEintr([&] { return write(fd_.get(), out_.data() + sent_, out_.size() - sent_); });
    if (n < 0) {
      if (errno == EAGAIN) break;
      return Error::FromErrno("writing to the host port");
    }
    sent_ += static_cast<size_t>(n);
  }
  if (sent_ == out_.size()) {
    out_.clear();
    sent_ = 0;
  } else if (sent_ > (1u << 20)) {
    // Keep the buffer from growing at the front when the host reads slowly.
    out_.erase(out_.begin(), out_.begin() + static_cast<ptrdiff_t>(sent_));
    sent_ = 0;
  }
  return Ok();
}

Status Port::FlushTo(size_t max_backlog, int timeout_ms) {
  int64_t deadline = NowMs() + timeout_ms;
  for (;;) {
    BH_TRY(Flush());
    if (backlog() <= max_backlog) return Ok();
    int64_t left = deadline - NowMs();
    if (left <= 0) return Error("the host did not take the frames in time", ETIMEDOUT);
    struct pollfd p {fd_.get(), POLLOUT, 0};
    poll(&p, 1, static_cast<int>(left));
  }
}

Status Port::FlushAll(int timeout_ms) {
  BH_TRY(FlushTo(0, timeout_ms).Context("the last frames"));
  if (tcdrain(fd_.get()) != 0) return Error::FromErrno("draining the host port");
  return Ok();
}

Status Port::Receive() {
  uint8_t buf[kReadChunk];
  ssize_t n = RetryEintr([&] { return read(fd_.get(), buf, sizeof buf); });
  if (n < 0) {
    if (errno == EAGAIN) return Ok();
    return Error::FromErrno("reading the host port");
  }
  if (n == 0) return Error("the host port was closed", EPIPE);
  return decoder_.Feed({buf, static_cast<size_t>(n)});
}

}  // namespace bulkhead::vminit
