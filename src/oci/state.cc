#include "oci/state.h"

#include <nlohmann/json.hpp>

namespace bulkhead::oci {

std::string StateJson(const State& s) {
  // ordered_json keeps the spec's field order, which people reading it expect.
  nlohmann::ordered_json j;
  j["ociVersion"] = s.oci_version;
  j["id"] = s.id;
  j["status"] = s.status;
  j["pid"] = s.pid;
  j["bundle"] = s.bundle;
  if (!s.annotations.empty()) j["annotations"] = s.annotations;
  // Replace invalid UTF-8 rather than throw: ids and paths come from the caller.
  return j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace bulkhead::oci
