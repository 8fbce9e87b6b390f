#include "runtime/duration.h"

#include <gtest/gtest.h>

#include <climits>

namespace bulkhead::runtime {
namespace {

using std::chrono::nanoseconds;

int64_t Ns(std::string_view text) {
  auto r = ParseGoDuration(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.error().message();
  return r.ok() ? r->count() : -42;
}

TEST(ParseGoDuration, GoForms) {
  EXPECT_EQ(Ns("0"), 0);
  EXPECT_EQ(Ns("5s"), 5000000000);
  EXPECT_EQ(Ns("1s"), 1000000000);
  EXPECT_EQ(Ns("500ms"), 500000000);
  EXPECT_EQ(Ns("250us"), 250000);
  EXPECT_EQ(Ns("250\xc2\xb5s"), 250000);
  EXPECT_EQ(Ns("7ns"), 7);
  EXPECT_EQ(Ns("1m30s"), 90000000000);
  EXPECT_EQ(Ns("1.5h"), 5400000000000);
  EXPECT_EQ(Ns(".5s"), 500000000);
  EXPECT_EQ(Ns("1.s"), 1000000000);
  EXPECT_EQ(Ns("+2s"), 2000000000);
  EXPECT_EQ(Ns("-2s"), -2000000000);
  EXPECT_EQ(Ns("1h2m3s4ms"), 3723004000000);
}

TEST(ParseGoDuration, Refused) {
  for (const char* bad : {"", "5", "s", "1x", "1 s", "1s ", "five", "1..5s", ".s", "-", "1S",
                          "100000000000h"}) {
    EXPECT_FALSE(ParseGoDuration(bad).ok()) << "\"" << bad << "\"";
  }
  auto r = ParseGoDuration("5");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("\"5\""), std::string::npos) << r.error().message();
}

TEST(PollTimeoutMs, RoundsUpAndClamps) {
  using namespace std::chrono_literals;
  EXPECT_EQ(PollTimeoutMs(1500us), 2);
  EXPECT_EQ(PollTimeoutMs(1s), 1000);
  EXPECT_EQ(PollTimeoutMs(-5ms), 0);
  EXPECT_EQ(PollTimeoutMs(std::chrono::hours(24 * 365)), INT_MAX);
}

}  // namespace
}  // namespace bulkhead::runtime
