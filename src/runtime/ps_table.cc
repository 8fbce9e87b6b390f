#include "runtime/ps_table.h"

#include <algorithm>
#include <charconv>

namespace bulkhead::runtime {

namespace {

std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < line.size()) {
    size_t start = line.find_first_not_of(" \t", pos);
    if (start == std::string_view::npos) break;
    size_t end = line.find_first_of(" \t", start);
    if (end == std::string_view::npos) end = line.size();
    out.push_back(line.substr(start, end - start));
    pos = end;
  }
  return out;
}

}  // namespace

Result<std::string> FilterPsTable(std::string_view ps_output, const std::vector<pid_t>& pids) {
  size_t eol = ps_output.find('\n');
  std::string_view header = ps_output.substr(0, eol);
  std::vector<std::string_view> names = Fields(header);
  auto it = std::find(names.begin(), names.end(), "PID");
  if (it == names.end()) {
    return Error("ps: its output has no PID column (header \"" + std::string(header) + "\")",
                 EINVAL);
  }
  size_t column = static_cast<size_t>(it - names.begin());
  std::string out = std::string(header) + "\n";
  while (eol != std::string_view::npos) {
    size_t start = eol + 1;
    eol = ps_output.find('\n', start);
    std::string_view line = ps_output.substr(start, eol == std::string_view::npos ? eol : eol - start);
    std::vector<std::string_view> fields = Fields(line);
    if (fields.size() <= column) continue;
    pid_t pid = 0;
    std::string_view f = fields[column];
    auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), pid);
    if (ec != std::errc() || end != f.data() + f.size()) continue;
    if (std::binary_search(pids.begin(), pids.end(), pid)) out += std::string(line) + "\n";
  }
  return out;
}

}  // namespace bulkhead::runtime
