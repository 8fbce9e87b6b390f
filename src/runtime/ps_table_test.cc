#include "runtime/ps_table.h"

#include <gtest/gtest.h>

namespace bulkhead::runtime {
namespace {

constexpr std::string_view kEf =
    "UID          PID    PPID  C STIME TTY          TIME CMD\n"
    "root           1       0  0 10:00 ?        00:00:01 /sbin/init\n"
    "root         812       1  0 10:01 ?        00:00:00 sleep 1000\n"
    "root         813     812  0 10:01 ?        00:00:00 sh -c sleep 5 812\n"
    "root        8120       1  0 10:01 ?        00:00:00 other\n";

TEST(FilterPsTable, KeepsHeaderAndTheContainersRows) {
  Result<std::string> r = FilterPsTable(kEf, {812, 813});
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(*r,
            "UID          PID    PPID  C STIME TTY          TIME CMD\n"
            "root         812       1  0 10:01 ?        00:00:00 sleep 1000\n"
            "root         813     812  0 10:01 ?        00:00:00 sh -c sleep 5 812\n");
}

TEST(FilterPsTable, MatchesThePidColumnOnly) {
  // 812 appears in the PPID column and the command of other rows: only PID counts.
  Result<std::string> r = FilterPsTable(kEf, {1});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->find("812"), std::string::npos) << *r;
  EXPECT_NE(r->find("/sbin/init"), std::string::npos) << *r;
}

TEST(FilterPsTable, OtherColumnLayouts) {
  Result<std::string> r = FilterPsTable("  PID COMMAND\n 77 sleep\n 78 sh\n", {78});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "  PID COMMAND\n 78 sh\n");
  r = FilterPsTable("  PID COMMAND\n", {78});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "  PID COMMAND\n");
}

TEST(FilterPsTable, NoPidColumnIsAnError) {
  Result<std::string> r = FilterPsTable("COMMAND\nsleep\n", {1});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("no PID column"), std::string::npos);
}

}  // namespace
}  // namespace bulkhead::runtime
