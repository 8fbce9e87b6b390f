#include "vminit/relay.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <vector>

#include "vmproto/wire.h"

namespace bulkhead::vminit {
namespace {

using vmproto::kCreditBatch;
using vmproto::kInitialWindow;
using vmproto::kMaxDataChunk;
using vmproto::kMaxWindow;
using vmproto::Stream;

std::vector<uint8_t> Bytes(size_t n, uint8_t v = 'x') { return std::vector<uint8_t>(n, v); }

TEST(RelayStdin, QueuesInOrderAndCreditsInBatches) {
  Relay r(false);
  ASSERT_TRUE(r.QueueStdin(Bytes(3, 'a')).ok());
  ASSERT_TRUE(r.QueueStdin(Bytes(2, 'b')).ok());
  std::vector<uint8_t> pending(r.PendingStdin().begin(), r.PendingStdin().end());
  EXPECT_EQ(pending, (std::vector<uint8_t>{'a', 'a', 'a', 'b', 'b'}));
  EXPECT_EQ(r.StdinWritten(4), 0u) << "4 bytes are less than a batch";
  ASSERT_EQ(r.PendingStdin().size(), 1u);
  EXPECT_EQ(r.PendingStdin()[0], 'b');
  ASSERT_TRUE(r.QueueStdin(Bytes(kCreditBatch)).ok());
  EXPECT_EQ(r.StdinWritten(kCreditBatch + 1), kCreditBatch + 5) << "everything written so far";
  EXPECT_TRUE(r.PendingStdin().empty());
}

TEST(RelayStdin, AHostPastItsWindowIsAProtocolError) {
  Relay r(false);
  ASSERT_TRUE(r.QueueStdin(Bytes(kInitialWindow)).ok());
  Status s = r.QueueStdin(Bytes(1));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(),
            "stdin from the host: flow control: 1 bytes sent with a window of 0");
  // Written bytes give the window back; then the host may send again.
  EXPECT_EQ(r.StdinWritten(kInitialWindow), kInitialWindow);
  EXPECT_TRUE(r.QueueStdin(Bytes(kInitialWindow)).ok());
}

TEST(RelayStdin, CloseWaitsForWhatWasQueuedBeforeIt) {
  Relay r(false);
  ASSERT_TRUE(r.QueueStdin(Bytes(10)).ok());
  r.RequestCloseStdin();
  EXPECT_FALSE(r.ShouldCloseStdin()) << "10 bytes still to write";
  EXPECT_EQ(r.StdinWritten(10), 0u);
  EXPECT_TRUE(r.ShouldCloseStdin());
  EXPECT_EQ(r.StdinClosed(), 0u);
  EXPECT_FALSE(r.ShouldCloseStdin()) << "closed once";
}

TEST(RelayStdin, AGoneReaderStillGivesTheHostItsCredit) {
  Relay r(false);
  ASSERT_TRUE(r.QueueStdin(Bytes(kInitialWindow)).ok());
  EXPECT_EQ(r.StdinClosed(), kInitialWindow) << "the dropped bytes are credited back";
  EXPECT_TRUE(r.PendingStdin().empty());
  // What comes after is dropped too, and credited, so the host never stalls on it.
  ASSERT_TRUE(r.QueueStdin(Bytes(kCreditBatch)).ok());
  EXPECT_TRUE(r.PendingStdin().empty());
  EXPECT_EQ(r.StdinWritten(0), kCreditBatch);
  EXPECT_FALSE(r.QueueStdin(Bytes(kInitialWindow + 1)).ok())
      << "the window still holds after close";
}

TEST(RelayOutput, BudgetIsTheWindowAtMostOneFrame) {
  Relay r(false);
  EXPECT_EQ(r.ReadBudget(Stream::kStdout), kMaxDataChunk);
  EXPECT_EQ(r.ReadBudget(Stream::kStderr), kMaxDataChunk);
  EXPECT_EQ(r.ReadBudget(Stream::kStdin), 0u) << "stdin is not read from the process";
  ASSERT_TRUE(r.Sent(Stream::kStdout, kInitialWindow - 100).ok());
  EXPECT_EQ(r.ReadBudget(Stream::kStdout), 100u);
  EXPECT_EQ(r.ReadBudget(Stream::kStderr), kMaxDataChunk) << "windows are per stream";
  ASSERT_TRUE(r.Sent(Stream::kStdout, 100).ok());
  EXPECT_EQ(r.ReadBudget(Stream::kStdout), 0u) << "spent: stop reading the pipe";
  EXPECT_FALSE(r.Sent(Stream::kStdout, 1).ok());
  ASSERT_TRUE(r.Credit(Stream::kStdout, 10).ok());
  EXPECT_EQ(r.ReadBudget(Stream::kStdout), 10u);
}

TEST(RelayOutput, CreditBeyondTheMaximumWindowIsAProtocolError) {
  Relay r(false);
  ASSERT_TRUE(r.Credit(Stream::kStderr, kMaxWindow - kInitialWindow).ok());
  Status s = r.Credit(Stream::kStderr, 1);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("stderr credit: flow control"), std::string::npos);
  EXPECT_FALSE(r.Credit(Stream::kStdin, 1).ok()) << "the host sends stdin, it grants none";
}

TEST(RelayExit, WaitsForEveryOutputToEnd) {
  Relay r(false);
  EXPECT_FALSE(r.Done());
  r.ProcessExited(W_EXITCODE(7, 0));
  EXPECT_TRUE(r.exited());
  EXPECT_EQ(WEXITSTATUS(r.wait_status()), 7);
  EXPECT_FALSE(r.Done()) << "stdout and stderr may still hold output";
  r.OutputEnded(Stream::kStdout);
  EXPECT_FALSE(r.Done());
  EXPECT_EQ(r.ReadBudget(Stream::kStdout), 0u);
  r.OutputEnded(Stream::kStderr);
  EXPECT_TRUE(r.Done());
}

TEST(RelayExit, OutputEndingFirstIsNotAnExit) {
  Relay r(false);
  r.OutputEnded(Stream::kStdout);
  r.OutputEnded(Stream::kStderr);
  EXPECT_FALSE(r.Done()) << "a process may close its outputs and go on running";
  r.ProcessExited(W_EXITCODE(0, SIGTERM));
  EXPECT_TRUE(r.Done());
}

TEST(RelayTerminal, OneOutputStream) {
  Relay r(true);
  EXPECT_EQ(r.ReadBudget(Stream::kStderr), 0u);
  EXPECT_FALSE(r.OutputOpen(Stream::kStderr));
  EXPECT_TRUE(r.OutputOpen(Stream::kStdout));
  r.ProcessExited(0);
  EXPECT_FALSE(r.Done());
  r.OutputEnded(Stream::kStdout);
  EXPECT_TRUE(r.Done());
}

}  // namespace
}  // namespace bulkhead::vminit
