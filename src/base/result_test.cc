#include "base/result.h"

#include <gtest/gtest.h>

namespace bulkhead {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return Error("odd number " + std::to_string(x), EINVAL);
  return x / 2;
}

Result<int> Quarter(int x) {
  BH_ASSIGN(int h, Half(x));
  BH_ASSIGN(int q, Half(h).Context("halving again"));
  return q;
}

TEST(Result, ValueAndErrorPropagate) {
  ASSERT_TRUE(Quarter(8).ok());
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "halving again: odd number 3");
  EXPECT_EQ(r.error().errno_value(), EINVAL);
}

TEST(Result, ErrnoMessageNamesTheError) {
  Error e = Error::Errno(ENOENT, "opening /x");
  EXPECT_EQ(e.message(), "opening /x: No such file or directory (ENOENT)");
}

Status Fails() { return Error("boom"); }
Status Wraps() {
  BH_TRY(Fails());
  return Ok();
}

TEST(Result, VoidStatus) {
  Status s = Wraps();
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(), "boom");
  EXPECT_TRUE(Status().ok());
}

}  // namespace
}  // namespace bulkhead
