// The bookkeeping of one channel's stdio relay, apart from any descriptor so it can be tested
// alone: the stdin bytes the host sent and the process has not read yet, the flow-control
// windows of all three streams (docs/vm-protocol.md, "Flow control"), which outputs are
// still open, and when the channel may report its exit.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "base/result.h"
#include "vmproto/flow.h"
#include "vmproto/message.h"

namespace bulkhead::vminit {

class Relay {
 public:
  // `terminal`: stdout and stderr are one pty, relayed as stdout; stderr is closed from the
  // start.
  explicit Relay(bool terminal);

  // --- stdin: the host sends, the guest receives and grants credit -------------------------
  // A stdin frame from the host. Fails when it overruns the window the guest granted (a
  // protocol violation). Dropped, but still counted and credited, once stdin is gone.
  Status QueueStdin(std::span<const uint8_t> bytes);
  // What still waits to be written to the process.
  std::span<const uint8_t> PendingStdin() const;
  // n bytes of PendingStdin() reached the process. Returns the credit to send now (0 while
  // batching).
  uint32_t StdinWritten(size_t n);
  // The host has no more stdin (close-stdin).
  void RequestCloseStdin() { close_requested_ = true; }
  // Close the process's stdin now: asked for, and everything before it written.
  bool ShouldCloseStdin() const { return close_requested_ && !stdin_closed_ && pending_.empty(); }
  // The process's stdin is closed (by us, or the reader went away). What waits is dropped and
  // credited back, so a host that keeps sending is never stalled. Returns that credit.
  uint32_t StdinClosed();
  bool stdin_closed() const { return stdin_closed_; }

  // --- stdout, stderr: the guest sends, the host grants credit -----------------------------
  // How many bytes of `s` may be read from the process now: the window, at most one frame;
  // 0 when the window is spent or the stream ended.
  size_t ReadBudget(vmproto::Stream s) const;
  // A data frame of n bytes was sent on `s`.
  Status Sent(vmproto::Stream s, size_t n);
  // A host-credit frame for `s`. Fails when it would lift the window above the maximum.
  Status Credit(vmproto::Stream s, uint32_t n);
  void OutputEnded(vmproto::Stream s);
  bool OutputOpen(vmproto::Stream s) const;

  // --- exit -----------------------------------------------------------------------------
  void ProcessExited(int wait_status);
  bool exited() const { return exited_; }
  int wait_status() const { return wait_status_; }
  // The exit may be sent: the process is gone and so is every output (all of its output has
  // been sent before the exit frame).
  bool Done() const;

 private:
  static size_t Index(vmproto::Stream s) { return static_cast<size_t>(s); }

  bool terminal_;
  std::string pending_;  // stdin bytes not yet written
  vmproto::FlowWindow stdin_window_;
  uint32_t dropped_credit_ = 0;  // for stdin dropped after close, not yet returned
  bool close_requested_ = false;
  bool stdin_closed_ = false;
  std::array<vmproto::FlowWindow, 3> windows_;  // [1] stdout, [2] stderr
  std::array<bool, 3> output_open_{false, true, true};
  bool exited_ = false;
  int wait_status_ = 0;
};

}  // namespace bulkhead::vminit
