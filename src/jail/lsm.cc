#include "jail/lsm.h"

#include <fcntl.h>
#include <unistd.h>

#include "base/fs.h"

namespace bulkhead::jail {

namespace {

Status WriteAttr(const char* path, const std::string& value, const char* field) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Error::FromErrno(std::string(field) + ": opening " + path);
  UniqueFd f(fd);
  if (write(fd, value.data(), value.size()) != static_cast<ssize_t>(value.size())) {
    return Error::FromErrno(std::string(field) + ": setting \"" + value + "\"");
  }
  return Ok();
}

}  // namespace

LsmHost DetectLsm() {
  LsmHost h;
  Result<std::string> aa = ReadFile("/sys/module/apparmor/parameters/enabled", 16);
  h.apparmor = aa.ok() && !aa->empty() && (*aa)[0] == 'Y';
  h.selinux = PathExists("/sys/fs/selinux/enforce");
  return h;
}

LsmPlan PlanLsm(const oci::Process& process, const LsmHost& host, std::string* warning) {
  LsmPlan plan;
  warning->clear();
  if (!process.apparmor_profile.empty()) {
    if (host.apparmor) {
      plan.apparmor_profile = process.apparmor_profile;
    } else {
      *warning += "process.apparmorProfile \"" + process.apparmor_profile +
                  "\" is not enforced: AppArmor is not enabled on this host";
    }
  }
  if (!process.selinux_label.empty()) {
    if (host.selinux) {
      plan.selinux_label = process.selinux_label;
    } else {
      if (!warning->empty()) *warning += "; ";
      *warning += "process.selinuxLabel \"" + process.selinux_label +
                  "\" is not enforced: SELinux is not enabled on this host";
    }
  }
  return plan;
}

Status ApplyLsm(const LsmPlan& plan) {
  if (!plan.apparmor_profile.empty()) {
    // The newer per-module file first; older kernels only have the shared one.
    const char* path = access("/proc/self/attr/apparmor/exec", F_OK) == 0
                           ? "/proc/self/attr/apparmor/exec"
                           : "/proc/self/attr/exec";
    BH_TRY(WriteAttr(path, "exec " + plan.apparmor_profile, "process.apparmorProfile"));
  }
  if (!plan.selinux_label.empty()) {
    BH_TRY(WriteAttr("/proc/self/attr/exec", plan.selinux_label, "process.selinuxLabel"));
  }
  return Ok();
}

}  // namespace bulkhead::jail
