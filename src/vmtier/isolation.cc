#include "vmtier/isolation.h"

namespace bulkhead::vmtier {

std::string_view IsolationName(Isolation i) { return i == Isolation::kVm ? "vm" : "container"; }

Result<Isolation> ParseIsolation(std::string_view value, std::string_view where) {
  if (value == "vm") return Isolation::kVm;
  if (value == "container") return Isolation::kContainer;
  return Error(std::string(where) + ": \"" + std::string(value) +
                   "\" is not an isolation tier (use \"vm\" or \"container\")",
               EINVAL);
}

Result<Isolation> SelectIsolation(const std::map<std::string, std::string>& annotations,
                                  std::string_view invoked_as, Isolation configured_default) {
  if (auto it = annotations.find(kIsolationAnnotation); it != annotations.end()) {
    return ParseIsolation(it->second,
                          std::string("annotation ") + kIsolationAnnotation + " in config.json");
  }
  size_t slash = invoked_as.rfind('/');
  std::string_view name = slash == std::string_view::npos ? invoked_as : invoked_as.substr(slash + 1);
  if (name == kVmBinaryName) return Isolation::kVm;
  return configured_default;
}

}  // namespace bulkhead::vmtier
