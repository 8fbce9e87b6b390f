#include "oci/features.h"

#include <nlohmann/json.hpp>

#include "oci/names.h"
#include "oci/validate.h"

namespace bulkhead::oci {

std::string FeaturesJson() {
  using ojson = nlohmann::ordered_json;
  ojson f;
  f["ociVersionMin"] = "1.0.0";
  f["ociVersionMax"] = "1.2.0";
  f["hooks"] = HookNames();
  f["mountOptions"] = MountOptionNames();

  ojson linux;
  linux["namespaces"] = NamespaceTypes();
  linux["capabilities"] = AllCapabilityNames();
  // v1 and v2 cgroupfs (hybrid hosts use both); no systemd cgroup driver.
  linux["cgroup"] = {
      {"v1", true}, {"v2", true}, {"systemd", false}, {"systemdUser", false}, {"rdma", false}};
  ojson seccomp;
  seccomp["enabled"] = true;
  // Actions and filter flags the seccomp compiler builds; user notification is not
  // offered (no listener support).
  ojson actions = ojson::array();
  for (const std::string& a : SeccompActionNames()) {
    if (a != "SCMP_ACT_NOTIFY") actions.push_back(a);
  }
  seccomp["actions"] = std::move(actions);
  seccomp["operators"] = SeccompOperatorNames();
  seccomp["archs"] = SeccompArchNames();
  seccomp["knownFlags"] = SeccompFlagNames();
  seccomp["supportedFlags"] = SeccompFlagNames();
  linux["seccomp"] = std::move(seccomp);
  linux["apparmor"] = {{"enabled", false}};
  linux["selinux"] = {{"enabled", false}};
  linux["intelRdt"] = {{"enabled", false}};
  linux["mountExtensions"] = {{"idmap", {{"enabled", false}}}};
  f["linux"] = std::move(linux);

  f["annotations"] = {{"run.bulkhead.isolation", "container,vm"}};
  return f.dump(2, ' ', false, ojson::error_handler_t::replace) + "\n";
}

}  // namespace bulkhead::oci
