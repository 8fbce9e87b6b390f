#include "jail/caps.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "base/fs.h"
#include "oci/validate.h"

namespace bulkhead::jail {

namespace {

Result<uint64_t> MaskOf(const std::vector<std::string>& names, const char* set) {
  uint64_t mask = 0;
  for (const std::string& name : names) {
    Result<int> n = oci::CapabilityNumber(name);
    if (!n.ok()) {
      return std::move(n).error().Context(std::string("process.capabilities.") + set);
    }
    mask |= uint64_t{1} << *n;
  }
  return mask;
}

}  // namespace

Result<CapSets> ResolveCaps(const std::optional<oci::Capabilities>& caps) {
  CapSets out;
  if (!caps) return out;
  BH_ASSIGN(out.bounding, MaskOf(caps->bounding, "bounding"));
  BH_ASSIGN(out.effective, MaskOf(caps->effective, "effective"));
  BH_ASSIGN(out.inheritable, MaskOf(caps->inheritable, "inheritable"));
  BH_ASSIGN(out.permitted, MaskOf(caps->permitted, "permitted"));
  BH_ASSIGN(out.ambient, MaskOf(caps->ambient, "ambient"));
  return out;
}

int LastCap() {
  Result<std::string> s = ReadFile("/proc/sys/kernel/cap_last_cap", 64);
  if (s.ok()) {
    int v = std::atoi(s->c_str());
    if (v > 0 && v < 64) return v;
  }
  return CAP_LAST_CAP;
}

Status DropBounding(const CapSets& caps, int last_cap) {
  for (int cap = 0; cap <= last_cap; ++cap) {
    if (caps.bounding & (uint64_t{1} << cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
      return Error::FromErrno("dropping capability " + std::to_string(cap) + " from the bounding set");
    }
  }
  return Ok();
}

Status ApplyCaps(const CapSets& caps, int last_cap) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  for (int i = 0; i < 2; ++i) {
    data[i].effective = static_cast<uint32_t>(caps.effective >> (32 * i));
    data[i].permitted = static_cast<uint32_t>(caps.permitted >> (32 * i));
    data[i].inheritable = static_cast<uint32_t>(caps.inheritable >> (32 * i));
  }
  if (syscall(SYS_capset, &header, data) != 0) return Error::FromErrno("setting capabilities");
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) {
    return Error::FromErrno("clearing ambient capabilities");
  }
  for (int cap = 0; cap <= last_cap; ++cap) {
    if (!(caps.ambient & (uint64_t{1} << cap))) continue;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) {
      return Error::FromErrno("raising ambient capability " + std::to_string(cap) +
                              " (it must be in the permitted and inheritable sets)");
    }
  }
  return Ok();
}

}  // namespace bulkhead::jail
