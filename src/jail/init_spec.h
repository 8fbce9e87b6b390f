// Everything the container's init needs, resolved in the parent before clone so that
// the child only performs plain steps and can fail only on the kernel's word.
#pragma once

#include <sys/resource.h>

#include <optional>
#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "jail/caps.h"
#include "jail/lsm.h"
#include "jail/namespaces.h"
#include "oci/config.h"
#include "seccomp/compile.h"

namespace bulkhead::jail {

struct ResolvedRlimit {
  int resource = 0;
  std::string name;
  struct rlimit limit {};
};

struct InitSpec {
  const oci::Config* config = nullptr;
  std::string id;
  std::string rootfs;  // absolute host path
  NamespacePlan ns;
  CapSets caps;
  int last_cap = 0;
  std::vector<ResolvedRlimit> rlimits;
  LsmPlan lsm;
  std::optional<seccomp::Program> seccomp;
  std::vector<std::string> env;  // process.env plus LISTEN_FDS/LISTEN_PID when preserving fds
  UniqueFd exec_fifo;            // opened O_RDWR: init blocks reading it until `start`
  UniqueFd console_socket;       // connected, when process.terminal
  int preserve_fds = 0;          // fds 3 .. 3+n-1 stay open across exec
  bool no_pivot = false;
  bool no_new_keyring = false;
  bool wait_for_start = true;    // false: exec as soon as set up (used by `exec`-like paths)
  // `exec`: join a running container (ns.joins) whose root and mounts already exist;
  // only the process's own settings (terminal, cwd, rlimits, user, caps, seccomp) apply.
  bool join_existing = false;
  // Filled by the init before pivot_root: the container state its own hooks are given.
  std::string hook_state;
};

// Resolves capabilities, rlimits, LSM labels (warning when not enforced), env and
// namespaces for a config. Seccomp and the
// fds are filled in by the caller.
Result<InitSpec> PrepareInitSpec(const oci::Config& config, const std::string& id,
                                 const std::string& rootfs);

}  // namespace bulkhead::jail
