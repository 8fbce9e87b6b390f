#include "runtime/events_json.h"

namespace bulkhead::runtime {

namespace {

using nlohmann::json;
using Stats = jail::Cgroup::Stats;

// Go's `omitempty`: runc's encoder drops these fields when they are zero.
void PutNonZero(json& j, const char* key, uint64_t v) {
  if (v != 0) j[key] = v;
}

json Cpu(const Stats::Cpu& c) {
  json usage = json::object();
  PutNonZero(usage, "total", c.usage_ns);
  if (!c.percpu_ns.empty()) usage["percpu"] = c.percpu_ns;
  usage["kernel"] = c.system_ns;
  usage["user"] = c.user_ns;
  json throttling = json::object();
  PutNonZero(throttling, "periods", c.periods);
  PutNonZero(throttling, "throttledPeriods", c.throttled_periods);
  PutNonZero(throttling, "throttledTime", c.throttled_ns);
  return {{"usage", usage}, {"throttling", throttling}};
}

// runc's MemoryEntry: limit and failcnt always, usage and max when not zero.
json MemoryEntry(uint64_t limit, uint64_t usage, uint64_t max, uint64_t failcnt) {
  json e = {{"limit", limit}};
  PutNonZero(e, "usage", usage);
  PutNonZero(e, "max", max);
  e["failcnt"] = failcnt;
  return e;
}

json Memory(const Stats::Memory& m) {
  json j = json::object();
  PutNonZero(j, "cache", m.cache);
  j["usage"] = MemoryEntry(m.limit, m.usage, m.max_usage, m.failcnt);
  j["swap"] = MemoryEntry(m.swap_limit, m.swap_usage, 0, 0);
  json raw = json::object();
  for (const auto& [key, value] : m.raw) raw[key] = value;
  raw["oom_kill"] = m.oom_kill;
  j["raw"] = raw;
  return j;
}

json Blkio(const std::vector<Stats::BlkioEntry>& entries) {
  json j = json::object();
  if (entries.empty()) return j;
  json list = json::array();
  for (const Stats::BlkioEntry& e : entries) {
    json o = json::object();
    PutNonZero(o, "major", e.major);
    PutNonZero(o, "minor", e.minor);
    if (!e.op.empty()) o["op"] = e.op;
    PutNonZero(o, "value", e.value);
    list.push_back(std::move(o));
  }
  j["ioServiceBytesRecursive"] = std::move(list);
  return j;
}

}  // namespace

json StatsEvent(const std::string& id, const Stats& s) {
  json pids = json::object();
  PutNonZero(pids, "current", s.pids.current);
  PutNonZero(pids, "limit", s.pids.limit);
  json data = {{"cpu", Cpu(s.cpu)},
               {"memory", Memory(s.memory)},
               {"pids", pids},
               {"blkio", Blkio(s.blkio_service_bytes)},
               {"hugetlb", json::object()}};
  return {{"type", "stats"}, {"id", id}, {"data", std::move(data)}};
}

json OomEvent(const std::string& id) { return {{"type", "oom"}, {"id", id}}; }

}  // namespace bulkhead::runtime
