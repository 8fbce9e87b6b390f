#include "runtime/duration.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdint>
#include <limits>
#include <string>

namespace bulkhead::runtime {

namespace {

struct Unit {
  std::string_view name;
  int64_t ns;
};

// The longest name that matches wins, so "ms" is not read as "m".
constexpr Unit kUnits[] = {
    {"ns", 1},
    {"us", 1000},
    {"\xc2\xb5s", 1000},  // U+00B5 micro sign
    {"\xce\xbcs", 1000},  // U+03BC Greek mu
    {"ms", 1000000},
    {"s", 1000000000},
    {"m", int64_t{60} * 1000000000},
    {"h", int64_t{3600} * 1000000000},
};

Error Bad(std::string_view text, std::string_view why) {
  return Error("invalid duration \"" + std::string(text) + "\": " + std::string(why) +
                   " (use a Go duration such as 5s, 500ms or 1m30s)",
               EINVAL);
}

}  // namespace

Result<std::chrono::nanoseconds> ParseGoDuration(std::string_view text) {
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return std::chrono::nanoseconds(0);
  if (s.empty()) return Bad(text, "empty");
  constexpr long double kMax = static_cast<long double>(std::numeric_limits<int64_t>::max());
  long double total = 0;
  while (!s.empty()) {
    long double value = 0;
    size_t digits = 0;
    while (!s.empty() && std::isdigit(static_cast<unsigned char>(s[0]))) {
      value = value * 10 + static_cast<long double>(s[0] - '0');
      s.remove_prefix(1);
      ++digits;
    }
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      long double scale = 1;
      while (!s.empty() && std::isdigit(static_cast<unsigned char>(s[0]))) {
        scale /= 10;
        value += static_cast<long double>(s[0] - '0') * scale;
        s.remove_prefix(1);
        ++digits;
      }
    }
    if (digits == 0) return Bad(text, "expected a number");
    const Unit* unit = nullptr;
    for (const Unit& u : kUnits) {
      if (s.substr(0, u.name.size()) == u.name && (unit == nullptr || u.name.size() > unit->name.size())) {
        unit = &u;
      }
    }
    if (unit == nullptr) return Bad(text, "missing or unknown unit");
    s.remove_prefix(unit->name.size());
    total += value * static_cast<long double>(unit->ns);
    if (total > kMax) return Bad(text, "too long");
  }
  auto ns = static_cast<int64_t>(total);
  return std::chrono::nanoseconds(negative ? -ns : ns);
}

int PollTimeoutMs(std::chrono::nanoseconds d) {
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(d).count();
  return static_cast<int>(std::clamp<decltype(ms)>(ms, 0, INT_MAX));
}

}  // namespace bulkhead::runtime
