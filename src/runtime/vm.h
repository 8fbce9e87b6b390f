// The vm tier behind the runc verbs (docs/vm-tier.md): create starts bulkhead-vmm in agent
// mode with the rootfs as an erofs image and waits for the guest; start, kill and delete act
// on the VM through its agent socket and the monitor's processes. The monitor is the
// container's process: its pid is the container's, its exit status the workload's.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "base/result.h"
#include "oci/config.h"
#include "runtime/options.h"
#include "runtime/state_store.h"
#include "runtime/verbs.h"
#include "vmtier/agent_client.h"
#include "vmtier/isolation.h"
#include "vmtier/runtime_config.h"

namespace bulkhead::runtime {

// Files in the container's state directory; the monitor runs there (its cwd), so its
// socket path stays short whatever the state directory's length.
inline constexpr char kVmAgentSocket[] = "agent.sock";
inline constexpr char kVmConsoleLog[] = "console.log";  // the guest kernel's serial console
inline constexpr char kVmStartSpec[] = "start.json";    // the start frame's JSON

// The runtime configuration of this invocation (--runtime-config, $BULKHEAD_RUNTIME_CONFIG,
// /etc/bulkhead/runtime.json), with defaults beside the binary.
Result<vmtier::RuntimeConfig> LoadVmRuntimeConfig(const GlobalOptions& g);

// The tier of a new container: annotation, else the binary's name, else the configured
// default (the configuration is read only in that last case).
Result<vmtier::Isolation> ResolveIsolation(const GlobalOptions& g, const oci::Config& config);

struct VmBundle {
  std::string bundle;  // absolute
  std::string rootfs;  // absolute
  oci::Config config;
  std::string config_text;
};
Result<CreatedContainer> CreateVm(const GlobalOptions& g, const CreateOptions& o,
                                  const VmBundle& b);

// A connection to the VM's agent socket whose guest has said hello.
Result<vmtier::AgentClient> ConnectVmAgent(const StateStore& store, const ContainerState& state);

// The caller holds the container's lock.
Status StartVm(const StateStore& store, ContainerState& state);
// kill in the vm tier, by the container's status: the workload when running, the VM itself
// when created, only SIGKILL (stopping the VM) when paused.
Status KillVm(const StateStore& store, const ContainerState& state, int sig,
              ContainerStatus status);
// exec in a running vm container: the guest runs the process (docs/vm-tier.md). Without
// --detach this process stands in for it and returns its status (with a terminal, a child
// of ours does, as the terminal's session leader); with --detach a child of ours does, and
// its pid goes to the pid file.
Result<int> ExecVm(const StateStore& store, const ContainerState& state,
                   const oci::Process& process, const ExecOptions& o);
// events in a running vm container: the guest's statistics of the container's cgroup (cpu,
// memory, pids), once or every interval until the VM stops.
Status EventsVm(const StateStore& store, const ContainerState& state, bool once,
                std::chrono::nanoseconds interval, const EventSink& emit);
// SIGKILL to the monitor, its VM process and their cgroup; returns once both are gone.
Status StopVm(const ContainerState& state);

// The verbs the vm tier does not offer yet: an error naming the verb for a vm container.
Status RefuseVm(const ContainerState& state, std::string_view verb);

}  // namespace bulkhead::runtime
