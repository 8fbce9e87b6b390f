// Options shared by every verb (the global flags of the command line).
#pragma once

#include <string>

#include "runtime/state_store.h"

namespace bulkhead::runtime {

struct GlobalOptions {
  std::string root = "/run/bulkhead";
  bool cgroups = true;  // --cgroup-manager=disabled turns cgroups off
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

}  // namespace bulkhead::runtime
