// The container inside the guest, run with the container tier's jail (src/jail): the same
// namespaces, capabilities, seccomp filter, read-only root, masked and read-only paths,
// rlimits and no_new_privs as `bulkhead create`/`exec` on a host, so a workload that breaks
// out of its container still faces the VM boundary. Its processes also join a cgroup of the
// guest that carries linux.resources (and gives the stats).
#pragma once

#include <sys/types.h>

#include <optional>

#include "base/result.h"
#include "base/unique_fd.h"
#include "jail/cgroup.h"
#include "jail/init_spec.h"
#include "oci/config.h"
#include "seccomp/compile.h"
#include "vminit/spec.h"
#include "vmproto/message.h"

namespace bulkhead::vminit {

// The descriptors a new process gets as 0, 1 and 2 (ignored with process.terminal, where the
// jail makes a pty's slave its stdio).
struct ProcessIo {
  int in = -1;
  int out = -1;
  int err = -1;
};

struct Spawned {
  pid_t pid = 0;        // in the guest's pid namespace: what init waits for and signals
  UniqueFd tty_master;  // with process.terminal: the pty the jail allocated
};

class Container {
 public:
  // Compiles the seccomp profile and makes the container's cgroup with linux.resources and
  // the device rules applied. The root (spec.config.root.path) must be assembled already.
  static Result<Container> Prepare(StartSpec spec);

  Container(Container&&) = default;
  Container& operator=(Container&&) = default;

  // The container's own process (channel 1): new namespaces, the root pivoted into.
  Result<Spawned> Start(const ProcessIo& io);
  // One more process in the running container, as `bulkhead exec`: it joins every namespace
  // of the container's process and its cgroup, with its own process settings.
  Result<Spawned> Exec(const oci::Process& process, const ProcessIo& io);

  // cpu, memory and pids of the container's cgroup; zeros where the guest lacks a counter.
  Result<vmproto::StatsReply> Stats(uint32_t id) const;

  pid_t main_pid() const { return main_pid_; }

 private:
  Container() = default;
  Result<Spawned> Launch(jail::InitSpec& spec, const ProcessIo& io);

  StartSpec spec_;
  std::optional<seccomp::Program> seccomp_;
  std::optional<jail::Cgroup> cgroup_;
  UniqueFd own_pid_ns_;  // to return to after joining the container's for an exec
  pid_t main_pid_ = 0;
};

}  // namespace bulkhead::vminit
