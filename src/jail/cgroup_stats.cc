// Statistics for `events --stats`, from whichever hierarchy holds each controller.
#include <unistd.h>

#include <charconv>
#include <map>

#include "jail/cgroup.h"
#include "jail/cgroup_knobs.h"

namespace bulkhead::jail {

namespace {

using Stats = Cgroup::Stats;

// Statistics are best effort: a file this kernel lacks reads as 0.
uint64_t Number(const std::string& dir, std::string_view file) {
  auto text = ReadKnob(dir, file);
  if (!text.ok()) return 0;
  auto v = ParseKnobU64(*text);
  return v.ok() ? *v : 0;
}

std::string Text(const std::string& dir, std::string_view file) {
  auto text = ReadKnob(dir, file);
  return text.ok() ? *text : std::string();
}

template <class F>
void ForEachLine(std::string_view text, F f) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    f(text.substr(pos, eol - pos));
    pos = eol + 1;
  }
}

// memory.stat: "key value" lines, every one kept. Statistics are best effort, so a line
// that is not a number is skipped.
std::map<std::string, uint64_t> KeyedValues(std::string_view text) {
  std::map<std::string, uint64_t> out;
  ForEachLine(text, [&](std::string_view line) {
    size_t sp = line.find(' ');
    if (sp == 0 || sp == std::string_view::npos) return;
    auto v = ParseKnobU64(line.substr(sp + 1));
    if (v.ok()) out.emplace(std::string(line.substr(0, sp)), *v);
  });
  return out;
}

// cpuacct.usage_percpu: one space-separated count per possible cpu.
std::vector<uint64_t> Numbers(std::string_view text) {
  std::vector<uint64_t> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find_first_of(" \n", pos);
    if (end == std::string_view::npos) end = text.size();
    if (end > pos) {
      auto v = ParseKnobU64(text.substr(pos, end - pos));
      out.push_back(v.ok() ? *v : 0);
    }
    pos = end + 1;
  }
  return out;
}

void MemoryV1(const std::string& dir, Stats::Memory* m) {
  m->usage = Number(dir, "memory.usage_in_bytes");
  m->max_usage = Number(dir, "memory.max_usage_in_bytes");
  m->limit = Number(dir, "memory.limit_in_bytes");
  m->failcnt = Number(dir, "memory.failcnt");
  m->swap_usage = Number(dir, "memory.memsw.usage_in_bytes");
  m->swap_limit = Number(dir, "memory.memsw.limit_in_bytes");
  m->oom_kill = KeyedValue(Text(dir, "memory.oom_control"), "oom_kill");
  m->raw = KeyedValues(Text(dir, "memory.stat"));
  if (auto it = m->raw.find("cache"); it != m->raw.end()) m->cache = it->second;
}

void MemoryV2(const std::string& dir, Stats::Memory* m) {
  m->usage = Number(dir, "memory.current");
  m->max_usage = Number(dir, "memory.peak");
  m->limit = Number(dir, "memory.max");
  std::string events = Text(dir, "memory.events");
  m->failcnt = KeyedValue(events, "max");  // times usage hit memory.max
  m->oom_kill = KeyedValue(events, "oom_kill");
  m->swap_usage = Number(dir, "memory.swap.current");
  m->swap_limit = Number(dir, "memory.swap.max");
  m->raw = KeyedValues(Text(dir, "memory.stat"));
  if (auto it = m->raw.find("file"); it != m->raw.end()) m->cache = it->second;
}

void CpuUsageV1(const std::string& dir, Stats::Cpu* c) {
  c->usage_ns = Number(dir, "cpuacct.usage");
  c->percpu_ns = Numbers(Text(dir, "cpuacct.usage_percpu"));
  if (KnobExists(dir, "cpuacct.usage_user")) {
    c->user_ns = Number(dir, "cpuacct.usage_user");
    c->system_ns = Number(dir, "cpuacct.usage_sys");
    return;
  }
  // Older kernels only offer clock ticks.
  std::string stat = Text(dir, "cpuacct.stat");
  long hz = ::sysconf(_SC_CLK_TCK);
  uint64_t ns_per_tick = hz > 0 ? 1000000000u / static_cast<uint64_t>(hz) : 10000000u;
  c->user_ns = KeyedValue(stat, "user") * ns_per_tick;
  c->system_ns = KeyedValue(stat, "system") * ns_per_tick;
}

void CpuStatV2(const std::string& dir, Stats::Cpu* c, bool usage, bool throttling) {
  std::string stat = Text(dir, "cpu.stat");
  if (usage) {
    c->usage_ns = KeyedValue(stat, "usage_usec") * 1000;
    c->user_ns = KeyedValue(stat, "user_usec") * 1000;
    c->system_ns = KeyedValue(stat, "system_usec") * 1000;
  }
  if (throttling) {
    c->periods = KeyedValue(stat, "nr_periods");
    c->throttled_periods = KeyedValue(stat, "nr_throttled");
    c->throttled_ns = KeyedValue(stat, "throttled_usec") * 1000;
  }
}

bool ParseDev(std::string_view s, uint32_t* major, uint32_t* minor) {
  size_t colon = s.find(':');
  if (colon == std::string_view::npos) return false;
  auto a = std::from_chars(s.data(), s.data() + colon, *major);
  auto b = std::from_chars(s.data() + colon + 1, s.data() + s.size(), *minor);
  return a.ec == std::errc() && b.ec == std::errc();
}

// "8:0 Read 4096" lines; the closing "Total N" line has no device and is skipped.
void BlkioV1(const std::string& dir, std::vector<Stats::BlkioEntry>* out) {
  std::string file = KnobExists(dir, "blkio.io_service_bytes_recursive")
                         ? "blkio.io_service_bytes_recursive"
                         : "blkio.throttle.io_service_bytes_recursive";
  ForEachLine(Text(dir, file), [&](std::string_view line) {
    size_t a = line.find(' ');
    size_t b = a == std::string_view::npos ? a : line.find(' ', a + 1);
    Stats::BlkioEntry e;
    if (b == std::string_view::npos || !ParseDev(line.substr(0, a), &e.major, &e.minor)) return;
    e.op = std::string(line.substr(a + 1, b - a - 1));
    auto v = ParseKnobU64(line.substr(b + 1));
    e.value = v.ok() ? *v : 0;
    out->push_back(std::move(e));
  });
}

// "8:0 rbytes=4096 wbytes=0 rios=1 ..." lines.
void IoV2(const std::string& dir, std::vector<Stats::BlkioEntry>* out) {
  ForEachLine(Text(dir, "io.stat"), [&](std::string_view line) {
    size_t sp = line.find(' ');
    uint32_t major = 0, minor = 0;
    if (sp == std::string_view::npos || !ParseDev(line.substr(0, sp), &major, &minor)) return;
    std::string_view rest = line.substr(sp + 1);
    for (auto [key, op] : {std::pair{"rbytes=", "Read"}, std::pair{"wbytes=", "Write"}}) {
      size_t at = rest.find(key);
      if (at == std::string_view::npos) continue;
      std::string_view num = rest.substr(at + std::string_view(key).size());
      num = num.substr(0, num.find(' '));
      auto v = ParseKnobU64(num);
      out->push_back(Stats::BlkioEntry{major, minor, op, v.ok() ? *v : 0});
    }
  });
}

}  // namespace

Result<Cgroup::Stats> Cgroup::ReadStats() const {
  if (!Exists()) return Error("reading statistics of " + Describe() + ": it does not exist", ENOENT);
  Stats s;
  const Dir* unified = nullptr;
  for (const Dir& d : dirs_) {
    if (d.hierarchy.v2) unified = &d;
  }
  if (const Dir* d = DirFor("memory")) {
    d->hierarchy.v2 ? MemoryV2(d->path, &s.memory) : MemoryV1(d->path, &s.memory);
  }
  // v2 counts cpu time in the core cpu.stat even without the cpu controller.
  if (const Dir* d = DirFor("cpuacct"); d != nullptr && !d->hierarchy.v2) {
    CpuUsageV1(d->path, &s.cpu);
  } else if (unified != nullptr) {
    CpuStatV2(unified->path, &s.cpu, true, false);
  }
  if (const Dir* d = DirFor("cpu")) {
    if (d->hierarchy.v2) {
      CpuStatV2(d->path, &s.cpu, false, true);
    } else {
      std::string stat = Text(d->path, "cpu.stat");
      s.cpu.periods = KeyedValue(stat, "nr_periods");
      s.cpu.throttled_periods = KeyedValue(stat, "nr_throttled");
      s.cpu.throttled_ns = KeyedValue(stat, "throttled_time");
    }
  }
  if (const Dir* d = DirFor("pids")) {
    s.pids.current = Number(d->path, "pids.current");
    s.pids.limit = Number(d->path, "pids.max");
    if (s.pids.limit == Stats::kUnlimited) s.pids.limit = 0;
  }
  if (const Dir* d = DirFor("blkio")) {
    BlkioV1(d->path, &s.blkio_service_bytes);
  } else if (const Dir* io = DirFor("io")) {
    IoV2(io->path, &s.blkio_service_bytes);
  }
  return s;
}

uint64_t Cgroup::OomKills() const {
  const Dir* d = DirFor("memory");
  if (d == nullptr) return 0;
  return KeyedValue(Text(d->path, d->hierarchy.v2 ? "memory.events" : "memory.oom_control"),
                    "oom_kill");
}

}  // namespace bulkhead::jail
