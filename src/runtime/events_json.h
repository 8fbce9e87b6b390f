// The lines `events` prints, shaped as runc prints them ({"type","id","data"} with its
// stats object), so whatever parses runc's output parses ours.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "jail/cgroup.h"

namespace bulkhead::runtime {

// {"type":"stats","id":ID,"data":{"cpu":..,"memory":..,"pids":..,"blkio":..,"hugetlb":{}}}.
// Fields runc leaves out when zero are left out here too. memory.raw holds memory.stat
// plus "oom_kill", the kernel's count of processes the OOM killer took.
nlohmann::json StatsEvent(const std::string& id, const jail::Cgroup::Stats& s);

// {"type":"oom","id":ID}: the OOM killer took a process of the container.
nlohmann::json OomEvent(const std::string& id);

}  // namespace bulkhead::runtime
