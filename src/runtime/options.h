// Options shared by every verb (the global flags of the command line).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/state_store.h"

namespace bulkhead::runtime {

struct GlobalOptions {
  std::string root = "/run/bulkhead";
  bool cgroups = true;  // --cgroup-manager=disabled turns cgroups off
  // argv[0]: the name selects the tier (bulkhead-vm), the path finds the vm tier's files.
  std::string invoked_as;
  std::string runtime_config;  // --runtime-config (docs/vm-tier.md)
};

struct CreateOptions {
  std::string id;
  std::string bundle;        // default: the current directory
  std::string pid_file;
  std::string console_socket;
  bool no_pivot = false;
  bool no_new_keyring = false;
  int preserve_fds = 0;
};

// `exec`: a new process in a running container. Either process_file (a runtime-spec
// process object) or args; the flags then override the base process.
struct ExecOptions {
  std::string id;
  std::string process_file;  // --process, "-" for stdin
  std::vector<std::string> args;
  bool tty = false;
  std::string console_socket;
  bool detach = false;
  std::string pid_file;
  std::string cwd;
  std::vector<std::string> env;   // --env KEY=VALUE, appended
  std::string user;               // --user UID[:GID]
  std::vector<uint32_t> additional_gids;
  std::vector<std::string> caps;  // --cap CAP_X, added to every set
  bool no_new_privs = false;
  int preserve_fds = 0;
  std::string apparmor;
  std::string process_label;
  bool ignore_paused = false;
  std::vector<std::string> cgroup;  // --cgroup: accepted, not used
};

}  // namespace bulkhead::runtime
