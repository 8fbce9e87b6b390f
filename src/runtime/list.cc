// `list`: every container under --root, as a table or JSON.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "runtime/state_json.h"
#include "runtime/verbs.h"

namespace bulkhead::runtime {

Result<std::string> List(const GlobalOptions& g, const std::string& format, bool quiet) {
  StateStore store(g.root);
  BH_ASSIGN(std::vector<std::string> ids, store.List());
  nlohmann::json all = nlohmann::json::array();
  for (const std::string& id : ids) {
    Result<ContainerState> s = store.Load(id);
    if (!s.ok()) continue;  // still being created, or half deleted
    all.push_back(StateJsonOf(store, *s));
  }
  if (format == "json") return all.dump() + "\n";
  if (format != "table") return Error("--format: expected table or json, got \"" + format + "\"");
  std::string out;
  if (quiet) {
    for (const auto& c : all) out += c["id"].get<std::string>() + "\n";
    return out;
  }
  size_t w = 2;
  for (const auto& c : all) w = std::max(w, c["id"].get<std::string>().size());
  char line[8192];
  snprintf(line, sizeof line, "%-*s   %-8s %-10s %-40s %-32s %s\n", static_cast<int>(w), "ID",
           "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
  out += line;
  for (const auto& c : all) {
    snprintf(line, sizeof line, "%-*s   %-8d %-10s %-40s %-32s %s\n", static_cast<int>(w),
             c["id"].get<std::string>().c_str(), c["pid"].get<int>(),
             c["status"].get<std::string>().c_str(), c["bundle"].get<std::string>().c_str(),
             c["created"].get<std::string>().c_str(), "root");
    out += line;
  }
  return out;
}

}  // namespace bulkhead::runtime
