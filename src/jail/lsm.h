// AppArmor profiles and SELinux labels (process.apparmorProfile, process.selinuxLabel).
// Where the host runs the module, the label is set for the workload's execve through
// /proc/self/attr; where it does not, the field is accepted and a warning says it is
// not enforced, as the runtime-spec lets a runtime do for a missing module.
#pragma once

#include <string>

#include "base/result.h"
#include "oci/config.h"

namespace bulkhead::jail {

struct LsmPlan {
  std::string apparmor_profile;  // set only when AppArmor is enabled on the host
  std::string selinux_label;     // set only when SELinux is enabled on the host
};

struct LsmHost {
  bool apparmor = false;
  bool selinux = false;
};

// Which modules the host runs (/sys/module/apparmor/parameters/enabled, /sys/fs/selinux).
LsmHost DetectLsm();

// What to apply for a process on this host; *warning receives a message for each field
// that will not be enforced ("" when none).
LsmPlan PlanLsm(const oci::Process& process, const LsmHost& host, std::string* warning);

// In the init, right before execve: labels the exec. Allocation-free on the empty plan.
Status ApplyLsm(const LsmPlan& plan);

}  // namespace bulkhead::jail
