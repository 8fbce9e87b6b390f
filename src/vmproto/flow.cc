#include "vmproto/flow.h"

#include <algorithm>
#include <string>

namespace bulkhead::vmproto {

Status FlowWindow::Spend(size_t n) {
  if (n > available_) {
    return Error("flow control: " + std::to_string(n) + " bytes sent with a window of " +
                 std::to_string(available_));
  }
  available_ -= static_cast<uint32_t>(n);
  return Ok();
}

Status FlowWindow::Grant(uint32_t n) {
  if (n > kMaxWindow - available_) {
    return Error("flow control: credit of " + std::to_string(n) + " lifts the window of " +
                 std::to_string(available_) + " past " + std::to_string(kMaxWindow));
  }
  available_ += n;
  return Ok();
}

uint32_t FlowWindow::Drained(size_t n) {
  // Never owe more than was spent: a window back at kInitialWindow needs no credit.
  uint32_t owed = available_ >= kInitialWindow ? 0 : kInitialWindow - available_;
  pending_ =
      static_cast<uint32_t>(std::min<size_t>(owed, size_t{pending_} + std::min<size_t>(n, owed)));
  // Holding back less than a batch cannot stall the sender: it still has the rest of the
  // window, and what it sends next drains and fills the batch.
  if (pending_ < kCreditBatch) return 0;
  uint32_t credit = pending_;
  available_ += credit;
  pending_ = 0;
  return credit;
}

}  // namespace bulkhead::vmproto
