// Flow control of one stream (stdin, stdout or stderr) of one channel, kept by both ends so
// neither buffers without bound (docs/vm-protocol.md, "Flow control"). The window is what the
// sender may still send: the sender spends it on each data frame and a credit refills it; the
// receiver keeps the same count to catch a sender that overruns it, and returns credit as it
// drains what it received.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/result.h"
#include "vmproto/wire.h"

namespace bulkhead::vmproto {

// Credit is returned once this much has drained, not per frame, to keep credit frames few;
// a quarter of the window leaves the sender three quarters to go on with meanwhile.
inline constexpr uint32_t kCreditBatch = kInitialWindow / 4;

class FlowWindow {
 public:
  // What the sender may still send.
  uint32_t available() const { return available_; }

  // Both ends, per data frame of n bytes. Fails when n is over the window: on the receiving
  // end that is a sender that ignored flow control, and the stream is poisoned.
  Status Spend(size_t n);

  // The sending end, per credit frame. Fails when the credit would lift the window above
  // kMaxWindow, which no well-behaved receiver grants.
  Status Grant(uint32_t n);

  // The receiving end: n bytes it had received have left its buffer (written to the pipe or
  // fifo they were for). Returns the credit to send now, 0 while it is batching. The credit
  // restores the window towards kInitialWindow, never past it.
  uint32_t Drained(size_t n);

 private:
  uint32_t available_ = kInitialWindow;
  uint32_t pending_ = 0;  // drained but not yet returned as credit
};

}  // namespace bulkhead::vmproto
