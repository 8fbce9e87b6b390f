#include "vmproto/flow.h"

#include <gtest/gtest.h>

#include <string>

namespace bulkhead::vmproto {
namespace {

TEST(FlowWindow, SenderSpendsUpToTheWindow) {
  FlowWindow w;
  EXPECT_EQ(w.available(), kInitialWindow);
  ASSERT_TRUE(w.Spend(kInitialWindow - 1).ok());
  ASSERT_TRUE(w.Spend(1).ok());
  EXPECT_EQ(w.available(), 0u);
  Status s = w.Spend(1);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(), "flow control: 1 bytes sent with a window of 0");
  EXPECT_TRUE(w.Spend(0).ok());
}

TEST(FlowWindow, CreditRefillsUpToTheMaximum) {
  FlowWindow w;
  ASSERT_TRUE(w.Grant(kMaxWindow - kInitialWindow).ok());
  EXPECT_EQ(w.available(), kMaxWindow);
  Status s = w.Grant(1);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("lifts the window of 1048576 past 1048576"),
            std::string::npos);
  EXPECT_EQ(w.available(), kMaxWindow) << "a refused credit changes nothing";
  EXPECT_FALSE(w.Grant(~0u).ok()) << "no wrap-around";
}

TEST(FlowWindow, ReceiverBatchesCreditAndNeverOwesMoreThanWasSpent) {
  FlowWindow w;
  EXPECT_EQ(w.Drained(100), 0u) << "nothing was spent, nothing is owed";
  ASSERT_TRUE(w.Spend(kInitialWindow).ok());
  EXPECT_EQ(w.Drained(kCreditBatch - 1), 0u);
  EXPECT_EQ(w.Drained(1), kCreditBatch);
  EXPECT_EQ(w.available(), kCreditBatch);
  EXPECT_EQ(w.Drained(kMaxWindow), kInitialWindow - kCreditBatch) << "capped at what is owed";
  EXPECT_EQ(w.available(), kInitialWindow);
}

// Both ends of one stream, the sender sending as fast as the window allows and the receiver
// draining slowly: the receiver's backlog never exceeds the initial window and all arrives.
TEST(FlowWindow, TwoEndsNeverBufferMoreThanTheWindow) {
  FlowWindow sender, receiver;
  size_t to_send = 10 * kInitialWindow, backlog = 0, delivered = 0;
  int rounds = 0;
  while (delivered < 10 * kInitialWindow) {
    ASSERT_LT(++rounds, 100000) << "stalled";
    size_t n = std::min<size_t>({to_send, sender.available(), kMaxDataChunk});
    if (n > 0) {
      ASSERT_TRUE(sender.Spend(n).ok());
      ASSERT_TRUE(receiver.Spend(n).ok());
      to_send -= n;
      backlog += n;
    }
    ASSERT_LE(backlog, kInitialWindow);
    size_t drained = std::min<size_t>(backlog, 1000);
    backlog -= drained;
    delivered += drained;
    if (uint32_t credit = receiver.Drained(drained); credit > 0) {
      ASSERT_TRUE(sender.Grant(credit).ok());
    }
    EXPECT_EQ(sender.available(), receiver.available());
  }
}

TEST(FlowWindow, ReceiverCatchesASenderThatOverruns) {
  FlowWindow receiver;
  ASSERT_TRUE(receiver.Spend(kInitialWindow).ok());
  EXPECT_FALSE(receiver.Spend(1).ok());
}

}  // namespace
}  // namespace bulkhead::vmproto
