#include "vminit/relay.h"

#include <algorithm>

#include "vmproto/wire.h"

namespace bulkhead::vminit {

using vmproto::Stream;

Relay::Relay(bool terminal) : terminal_(terminal) {
  if (terminal_) output_open_[Index(Stream::kStderr)] = false;
}

Status Relay::QueueStdin(std::span<const uint8_t> bytes) {
  BH_TRY(stdin_window_.Spend(bytes.size()).Context("stdin from the host"));
  if (stdin_closed_) {
    // Nobody reads it: count it as drained at once; the caller learns the credit from the
    // next StdinWritten(0).
    dropped_credit_ += stdin_window_.Drained(bytes.size());
    return Ok();
  }
  pending_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return Ok();
}

std::span<const uint8_t> Relay::PendingStdin() const {
  return {reinterpret_cast<const uint8_t*>(pending_.data()), pending_.size()};
}

uint32_t Relay::StdinWritten(size_t n) {
  n = std::min(n, pending_.size());
  pending_.erase(0, n);
  uint32_t credit = stdin_window_.Drained(n) + dropped_credit_;
  dropped_credit_ = 0;
  return credit;
}

uint32_t Relay::StdinClosed() {
  stdin_closed_ = true;
  size_t n = pending_.size();
  pending_.clear();
  uint32_t credit = stdin_window_.Drained(n) + dropped_credit_;
  dropped_credit_ = 0;
  return credit;
}

size_t Relay::ReadBudget(Stream s) const {
  if (s == Stream::kStdin || !output_open_[Index(s)]) return 0;
  return std::min<size_t>(windows_[Index(s)].available(), vmproto::kMaxDataChunk);
}

Status Relay::Sent(Stream s, size_t n) {
  if (s == Stream::kStdin) return Error("stdin is not an output", EINVAL);
  return windows_[Index(s)].Spend(n);
}

Status Relay::Credit(Stream s, uint32_t n) {
  if (s == Stream::kStdin) return Error("the host granted credit for stdin, which it sends", EPROTO);
  return windows_[Index(s)].Grant(n).Context(s == Stream::kStdout ? "stdout credit" : "stderr credit");
}

void Relay::OutputEnded(Stream s) {
  if (s != Stream::kStdin) output_open_[Index(s)] = false;
}

bool Relay::OutputOpen(Stream s) const { return s != Stream::kStdin && output_open_[Index(s)]; }

void Relay::ProcessExited(int wait_status) {
  exited_ = true;
  wait_status_ = wait_status;
}

bool Relay::Done() const {
  return exited_ && !output_open_[Index(Stream::kStdout)] && !output_open_[Index(Stream::kStderr)];
}

}  // namespace bulkhead::vminit
