#include "runtime/update_flags.h"

#include <cctype>
#include <charconv>
#include <limits>

namespace bulkhead::runtime {

namespace {

constexpr int64_t kMaxInt64 = std::numeric_limits<int64_t>::max();

Error BadValue(std::string_view flag, std::string_view text, std::string_view what) {
  return Error(std::string(flag) + ": invalid value \"" + std::string(text) + "\": " +
                   std::string(what),
               EINVAL);
}

template <class T>
Result<T> ParseNumber(std::string_view flag, std::string_view text) {
  T v{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec == std::errc::invalid_argument || end != text.data() + text.size()) {
    return BadValue(flag, text, std::is_signed_v<T> ? "not an integer" : "not a non-negative integer");
  }
  if (ec == std::errc::result_out_of_range) return BadValue(flag, text, "out of range");
  return v;
}

// A memory flag: "-1" for unlimited, else a size.
Result<int64_t> ParseMemoryFlag(std::string_view flag, std::string_view text) {
  if (text == "-1") return int64_t{-1};
  Result<int64_t> size = ParseSize(text);
  if (!size.ok()) return BadValue(flag, text, size.error().message());
  return *size;
}

// Sets *out from an optional flag through parse; 0 leaves *out unset, as runc does.
template <class T, class Parse>
Status Take(const std::optional<std::string>& value, std::string_view flag, Parse parse,
            std::optional<T>* out) {
  if (!value) return Ok();
  BH_ASSIGN(auto v, parse(flag, *value));
  if (v != 0) *out = static_cast<T>(v);
  return Ok();
}

}  // namespace

bool UpdateFlags::AnyFlag() const {
  for (const std::optional<std::string>* f :
       {&memory, &memory_reservation, &memory_swap, &kernel_memory, &kernel_memory_tcp,
        &cpu_shares, &cpu_quota, &cpu_period, &cpu_rt_period, &cpu_rt_runtime, &cpu_idle,
        &cpuset_cpus, &cpuset_mems, &pids_limit, &blkio_weight, &l3_cache_schema,
        &mem_bw_schema}) {
    if (f->has_value()) return true;
  }
  return false;
}

Result<int64_t> ParseSize(std::string_view text) {
  size_t pos = 0;
  auto digits = [&] {
    size_t start = pos;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) ++pos;
    return text.substr(start, pos - start);
  };
  std::string_view whole = digits();
  if (whole.empty()) return Error("a size starts with digits, as in 512m or 1G", EINVAL);
  std::string_view fraction;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    fraction = digits();
    if (fraction.empty()) return Error("no digits after the decimal point", EINVAL);
  }
  if (pos < text.size() && text[pos] == ' ') ++pos;
  const size_t unit_at = pos;
  uint64_t unit = 1;
  if (pos < text.size()) {
    constexpr std::string_view kUnits = "kmgtp";
    size_t u = kUnits.find(static_cast<char>(std::tolower(static_cast<unsigned char>(text[pos]))));
    if (u != std::string_view::npos) {
      unit = uint64_t{1} << (10 * (u + 1));
      ++pos;
    }
  }
  if (pos < text.size() && (text[pos] == 'i' || text[pos] == 'I')) ++pos;
  if (pos < text.size() && (text[pos] == 'b' || text[pos] == 'B')) ++pos;
  if (pos != text.size()) {
    return Error("unknown unit \"" + std::string(text.substr(unit_at)) +
                     "\" (use k, m, g, t or p, as in 512m)",
                 EINVAL);
  }
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), n);
  (void)end;
  auto too_big = [] { return Error("larger than 2^63-1 bytes", ERANGE); };
  if (ec != std::errc() || n > static_cast<uint64_t>(kMaxInt64) / unit) return too_big();
  uint64_t bytes = n * unit;
  if (!fraction.empty()) {
    // The fraction of a unit, rounded down to whole bytes as go-units does.
    long double f = 0, scale = 1;
    for (char c : fraction.substr(0, 18)) {
      f = f * 10 + static_cast<long double>(c - '0');
      scale *= 10;
    }
    uint64_t extra = static_cast<uint64_t>(f / scale * static_cast<long double>(unit));
    if (extra > static_cast<uint64_t>(kMaxInt64) - bytes) return too_big();
    bytes += extra;
  }
  return static_cast<int64_t>(bytes);
}

Result<oci::Resources> ResourcesFromFlags(const UpdateFlags& f, std::vector<std::string>* warnings) {
  if (f.l3_cache_schema) {
    return Error("--l3-cache-schema: Intel RDT (resctrl) is not supported by bulkhead", ENOTSUP);
  }
  if (f.mem_bw_schema) {
    return Error("--mem-bw-schema: Intel RDT (resctrl) is not supported by bulkhead", ENOTSUP);
  }
  oci::Resources r;
  oci::MemoryResources mem;
  BH_TRY(Take(f.memory, "--memory", ParseMemoryFlag, &mem.limit));
  BH_TRY(Take(f.memory_reservation, "--memory-reservation", ParseMemoryFlag, &mem.reservation));
  BH_TRY(Take(f.memory_swap, "--memory-swap", ParseMemoryFlag, &mem.swap));
  for (auto [value, flag] : {std::pair{&f.kernel_memory, "--kernel-memory"},
                             std::pair{&f.kernel_memory_tcp, "--kernel-memory-tcp"}}) {
    if (!*value) continue;
    BH_TRY(ParseMemoryFlag(flag, **value));
    warnings->push_back(std::string(flag) +
                        " is ignored: kernel memory is no longer limited on its own");
  }
  if (mem.limit || mem.reservation || mem.swap) r.memory = mem;

  oci::CpuResources cpu;
  BH_TRY(Take(f.cpu_shares, "--cpu-shares", ParseNumber<uint64_t>, &cpu.shares));
  BH_TRY(Take(f.cpu_quota, "--cpu-quota", ParseNumber<int64_t>, &cpu.quota));
  BH_TRY(Take(f.cpu_period, "--cpu-period", ParseNumber<uint64_t>, &cpu.period));
  BH_TRY(Take(f.cpu_rt_period, "--cpu-rt-period", ParseNumber<uint64_t>, &cpu.realtime_period));
  BH_TRY(Take(f.cpu_rt_runtime, "--cpu-rt-runtime", ParseNumber<int64_t>, &cpu.realtime_runtime));
  if (f.cpu_idle) {
    // 0 is meaningful here: it turns SCHED_IDLE off again.
    BH_ASSIGN(cpu.idle, ParseNumber<int64_t>("--cpu-idle", *f.cpu_idle));
  }
  if (f.cpuset_cpus) cpu.cpus = *f.cpuset_cpus;
  if (f.cpuset_mems) cpu.mems = *f.cpuset_mems;
  if (cpu.shares || cpu.quota || cpu.period || cpu.realtime_period || cpu.realtime_runtime ||
      cpu.idle || !cpu.cpus.empty() || !cpu.mems.empty()) {
    r.cpu = std::move(cpu);
  }

  BH_TRY(Take(f.pids_limit, "--pids-limit", ParseNumber<int64_t>, &r.pids_limit));
  std::optional<uint16_t> weight;
  BH_TRY(Take(f.blkio_weight, "--blkio-weight", ParseNumber<uint16_t>, &weight));
  if (weight) {
    r.block_io.emplace();
    r.block_io->weight = weight;
  }
  return r;
}

}  // namespace bulkhead::runtime
