#include "oci/config.h"

namespace bulkhead::oci {

const Namespace* FindNamespace(const Linux& linux, const std::string& type) {
  for (const Namespace& ns : linux.namespaces) {
    if (ns.type == type) return &ns;
  }
  return nullptr;
}

}  // namespace bulkhead::oci
