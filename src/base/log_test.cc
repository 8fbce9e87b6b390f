#include "base/log.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace bulkhead {
namespace {

TEST(Log, JsonLineIsOneParsableObject) {
  std::string line = FormatLogLine(LogFormat::kJson, LogLevel::kError, "bad \"id\"\n", "T");
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["level"], "error");
  EXPECT_EQ(j["msg"], "bad \"id\"\n");
  EXPECT_EQ(j["time"], "T");
}

TEST(Log, TextLine) {
  EXPECT_EQ(FormatLogLine(LogFormat::kText, LogLevel::kError, "x", ""), "bulkhead: x\n");
  EXPECT_EQ(FormatLogLine(LogFormat::kText, LogLevel::kWarning, "y", ""),
            "bulkhead: warning: y\n");
}

}  // namespace
}  // namespace bulkhead
