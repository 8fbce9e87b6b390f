// The runtime-spec State of a container, as `bulkhead state` prints it.
#pragma once

#include <map>
#include <string>

namespace bulkhead::oci {

struct State {
  std::string oci_version = "1.0.2";
  std::string id;
  std::string status;  // creating, created, running, stopped
  int pid = 0;
  std::string bundle;
  std::map<std::string, std::string> annotations;
};

// The spec's field names (ociVersion, id, status, pid, bundle, annotations), indented
// by two spaces. pid is always present (0 once stopped, as runc prints it); annotations
// only when there are some.
std::string StateJson(const State& s);

}  // namespace bulkhead::oci
