#include "jail/sync.h"

#include <gtest/gtest.h>

#include <string>

namespace bulkhead::jail {
namespace {

// The common message carries no text (kGo, kReady): the sanitized build once caught a
// null pointer handed to memcpy for it.
TEST(Sync, MessageWithoutTextArrives) {
  auto pair = SyncPair();
  ASSERT_TRUE(pair.ok()) << pair.error().message();
  ASSERT_TRUE(SendSync(pair->first.get(), SyncKind::kGo).ok());
  auto msg = RecvSync(pair->second.get());
  ASSERT_TRUE(msg.ok()) << msg.error().message();
  EXPECT_EQ(msg->kind, SyncKind::kGo);
  EXPECT_EQ(msg->err, 0);
  EXPECT_TRUE(msg->text.empty());
}

TEST(Sync, ErrorTextIsCutAtTheLimit) {
  auto pair = SyncPair();
  ASSERT_TRUE(pair.ok()) << pair.error().message();
  std::string text(kSyncMaxText + 10, 'x');
  ASSERT_TRUE(SendSync(pair->first.get(), SyncKind::kError, text, 13).ok());
  auto msg = RecvSync(pair->second.get());
  ASSERT_TRUE(msg.ok()) << msg.error().message();
  EXPECT_EQ(msg->kind, SyncKind::kError);
  EXPECT_EQ(msg->err, 13);
  EXPECT_EQ(msg->text, std::string(kSyncMaxText, 'x'));
}

TEST(Sync, EofWhenThePeerCloses) {
  auto pair = SyncPair();
  ASSERT_TRUE(pair.ok()) << pair.error().message();
  pair->first.reset();
  auto msg = RecvSync(pair->second.get());
  ASSERT_TRUE(msg.ok()) << msg.error().message();
  EXPECT_EQ(msg->kind, SyncKind::kEof);
}

}  // namespace
}  // namespace bulkhead::jail
