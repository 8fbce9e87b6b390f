// The seccomp profile a container gets when its config names none: an allow-list of what
// ordinary workloads use, EPERM for the rest. docs/seccomp.md explains each group and denial.
#pragma once

#include <cstdint>

#include "oci/config.h"

namespace bulkhead::seccomp {

// Namespace-creating clone flags the default profile refuses (CLONE_NEWTIME is absent: legacy
// clone reads that bit as part of the exit signal; time namespaces need clone3 or unshare, and
// both are refused outright).
inline constexpr uint64_t kCloneNamespaceFlags = 0x7E020000;  // NEWNS|NEWCGROUP|NEWUTS|NEWIPC|
                                                              // NEWUSER|NEWPID|NEWNET

oci::Seccomp DefaultProfile();

}  // namespace bulkhead::seccomp
