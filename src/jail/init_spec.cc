#include "jail/init_spec.h"

#include <unistd.h>

#include "base/log.h"
#include "oci/validate.h"

namespace bulkhead::jail {

Result<InitSpec> PrepareInitSpec(const oci::Config& config, const std::string& id,
                                 const std::string& rootfs) {
  InitSpec spec;
  spec.config = &config;
  spec.id = id;
  spec.rootfs = rootfs;
  BH_ASSIGN(spec.ns, PlanNamespaces(config.linux));
  if (!spec.ns.new_mount) {
    return Error("linux.namespaces: a mount namespace is required (the root is pivoted into it)");
  }
  BH_ASSIGN(spec.caps, ResolveCaps(config.process.capabilities));
  spec.last_cap = LastCap();
  for (size_t i = 0; i < config.process.rlimits.size(); ++i) {
    const oci::Rlimit& r = config.process.rlimits[i];
    BH_ASSIGN(int resource, oci::RlimitNumber(r.type).Context(
                                "process.rlimits[" + std::to_string(i) + "]"));
    ResolvedRlimit rl;
    rl.resource = resource;
    rl.name = r.type;
    rl.limit.rlim_cur = r.soft;
    rl.limit.rlim_max = r.hard;
    spec.rlimits.push_back(rl);
  }
  std::string warning;
  spec.lsm = PlanLsm(config.process, DetectLsm(), &warning);
  if (!warning.empty()) LogWarning(warning);
  spec.env = config.process.env;
  return spec;
}

}  // namespace bulkhead::jail
