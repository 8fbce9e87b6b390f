// The events JSON from known statistics: runc's field names and its omit-when-zero rules.
#include "runtime/events_json.h"

#include <gtest/gtest.h>

namespace bulkhead::runtime {
namespace {

using nlohmann::json;

jail::Cgroup::Stats Sample() {
  jail::Cgroup::Stats s;
  s.memory.usage = 487424;
  s.memory.max_usage = 2723840;
  s.memory.limit = 67108864;
  s.memory.failcnt = 3;
  s.memory.swap_usage = 491520;
  s.memory.swap_limit = 9223372036854771712u;
  s.memory.oom_kill = 2;
  s.memory.cache = 4096;
  s.memory.raw = {{"cache", 4096}, {"rss", 49152}};
  s.cpu.usage_ns = 46812935;
  s.cpu.user_ns = 20000000;
  s.cpu.system_ns = 10000000;
  s.cpu.percpu_ns = {6230078, 40582857};
  s.cpu.periods = 10;
  s.cpu.throttled_periods = 4;
  s.cpu.throttled_ns = 123456;
  s.pids.current = 5;
  s.pids.limit = 20;
  s.blkio_service_bytes = {{8, 0, "Read", 4096}, {8, 16, "Write", 0}};
  return s;
}

TEST(EventsJson, StatsCarryRuncFields) {
  json j = StatsEvent("c1", Sample());
  EXPECT_EQ(j["type"], "stats");
  EXPECT_EQ(j["id"], "c1");
  const json& d = j["data"];
  EXPECT_EQ(d["cpu"]["usage"]["total"], 46812935u);
  EXPECT_EQ(d["cpu"]["usage"]["percpu"], json({6230078u, 40582857u}));
  EXPECT_EQ(d["cpu"]["usage"]["kernel"], 10000000u);
  EXPECT_EQ(d["cpu"]["usage"]["user"], 20000000u);
  EXPECT_EQ(d["cpu"]["throttling"],
            json({{"periods", 10u}, {"throttledPeriods", 4u}, {"throttledTime", 123456u}}));
  EXPECT_EQ(d["memory"]["cache"], 4096u);
  EXPECT_EQ(d["memory"]["usage"],
            json({{"limit", 67108864u}, {"usage", 487424u}, {"max", 2723840u}, {"failcnt", 3u}}));
  EXPECT_EQ(d["memory"]["swap"]["limit"], 9223372036854771712u);
  EXPECT_EQ(d["memory"]["swap"]["usage"], 491520u);
  EXPECT_EQ(d["memory"]["raw"]["rss"], 49152u);
  EXPECT_EQ(d["memory"]["raw"]["oom_kill"], 2u);
  EXPECT_EQ(d["pids"], json({{"current", 5u}, {"limit", 20u}}));
  const json& io = d["blkio"]["ioServiceBytesRecursive"];
  ASSERT_EQ(io.size(), 2u);
  EXPECT_EQ(io[0], json({{"major", 8u}, {"op", "Read"}, {"value", 4096u}}));  // minor 0 left out
  EXPECT_EQ(io[1], json({{"major", 8u}, {"minor", 16u}, {"op", "Write"}}));  // value 0 left out
  EXPECT_EQ(d["hugetlb"], json::object());
}

TEST(EventsJson, ZeroesAreLeftOutAsRuncDoes) {
  json d = StatsEvent("c2", jail::Cgroup::Stats{})["data"];
  EXPECT_EQ(d["cpu"]["usage"], json({{"kernel", 0u}, {"user", 0u}}));
  EXPECT_EQ(d["cpu"]["throttling"], json::object());
  EXPECT_FALSE(d["memory"].contains("cache"));
  EXPECT_EQ(d["memory"]["usage"], json({{"limit", 0u}, {"failcnt", 0u}}));
  EXPECT_EQ(d["memory"]["raw"], json({{"oom_kill", 0u}}));
  EXPECT_EQ(d["pids"], json::object());
  EXPECT_EQ(d["blkio"], json::object());
}

TEST(EventsJson, UnlimitedV2LimitsStayExact) {
  jail::Cgroup::Stats s;
  s.memory.limit = jail::Cgroup::Stats::kUnlimited;
  json j = json::parse(StatsEvent("c3", s).dump());  // through text, as a reader sees it
  EXPECT_EQ(j["data"]["memory"]["usage"]["limit"].get<uint64_t>(), UINT64_MAX);
}

TEST(EventsJson, Oom) {
  EXPECT_EQ(OomEvent("c4").dump(), R"({"id":"c4","type":"oom"})");
}

}  // namespace
}  // namespace bulkhead::runtime
