// start, kill and stop in the vm tier: the first two speak to the guest through the
// monitor's agent socket; stopping kills the monitor, the process running the VM and their
// cgroup.
#include <signal.h>

#include "base/fs.h"
#include "base/log.h"
#include "jail/cgroup.h"
#include "runtime/container_cgroup.h"
#include "runtime/process.h"
#include "runtime/vm.h"
#include "runtime/vm_monitor.h"
#include "vmtier/agent_client.h"

namespace bulkhead::runtime {

namespace {

using namespace std::chrono_literals;

constexpr auto kHelloWait = 10s;    // the guest said hello at create: it only needs relaying
constexpr auto kStartedWait = 60s;  // the guest sets up the container (image, overlay, jail)
constexpr auto kAnswerWait = 2s;    // refusals of a signal come at once
constexpr int kStopWaitMs = 10000;
constexpr int kKillGraceMs = 2000;  // SIGKILL through the guest, before the VM itself

// The signals bulkhead-vmm passes to its VM (which then ends with 128 + the signal).
bool MonitorForwards(int sig) {
  return sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGQUIT;
}

// Waits for channel 1's started; a guest-error, an exit first or a closed socket fail.
Status AwaitStarted(vmtier::AgentClient& client) {
  for (;;) {
    BH_ASSIGN(std::optional<vmproto::Message> m, client.Next(kStartedWait));
    if (!m) return Error("the VM stopped before the workload started", EPIPE);
    if (std::holds_alternative<vmproto::Started>(*m)) return Ok();
    if (auto* e = std::get_if<vmproto::GuestError>(&*m)) {
      return Error(vmtier::DescribeGuestError(*e), static_cast<int>(e->err));
    }
    if (auto* x = std::get_if<vmproto::Exit>(&*m); x != nullptr && x->channel == vmproto::kMainChannel) {
      return Error("the workload ended before it was reported started", ECHILD);
    }
  }
}

}  // namespace

Result<vmtier::AgentClient> ConnectVmAgent(const StateStore& store, const ContainerState& state) {
  // A frozen monitor accepts the connection but never answers.
  if (ContainerFrozen(state)) {
    return Error("container \"" + state.id + "\" is paused: its VM answers nothing until resumed",
                 EAGAIN);
  }
  BH_ASSIGN(vmtier::AgentClient client,
            vmtier::AgentClient::Connect(JoinPath(store.Dir(state.id), kVmAgentSocket)));
  BH_TRY(client.AwaitHello(kHelloWait).Context("waiting for the guest's hello"));
  return client;
}

Status StartVm(const StateStore& store, ContainerState& state) {
  ContainerStatus status = store.StatusOf(state);
  if (status != ContainerStatus::kCreated) {
    return Error("cannot start container \"" + state.id + "\": it is " + StatusName(status) +
                     ", not created",
                 EINVAL);
  }
  BH_ASSIGN(std::string spec, ReadFile(JoinPath(store.Dir(state.id), kVmStartSpec)));
  // Recorded first: once the spec may have reached the guest the container counts as
  // running, and a start that fails below stops it.
  state.vm_started = true;
  BH_TRY(store.Save(state));
  Status st = [&]() -> Status {
    BH_ASSIGN(vmtier::AgentClient client, ConnectVmAgent(store, state));
    BH_TRY(client.Send(vmproto::Start{spec}));
    BH_TRY(AwaitStarted(client));
    LogDebug("vm tier: workload started");
    return Ok();
  }();
  if (!st.ok()) {
    (void)StopVm(state);
    return std::move(st).Context("starting container \"" + state.id + "\"");
  }
  return Ok();
}

Status KillVm(const StateStore& store, const ContainerState& state, int sig,
              ContainerStatus status) {
  if (status == ContainerStatus::kPaused) {
    // A paused VM cannot take a signal in: only SIGKILL acts on it, by stopping it.
    if (sig == SIGKILL) return StopVm(state);
    return Error("container \"" + state.id + "\" is paused: its VM cannot take signal " +
                     std::to_string(sig) + " until resumed (only SIGKILL stops it as it is)",
                 EAGAIN);
  }
  if (status == ContainerStatus::kCreated) {
    // No workload yet: the signal is for the VM itself.
    if (MonitorForwards(sig)) return SignalInit(state, sig);
    return StopVm(state);
  }
  Status sent = [&]() -> Status {
    BH_ASSIGN(vmtier::AgentClient client, ConnectVmAgent(store, state));
    BH_TRY(client.Send(vmproto::Signal{vmproto::kMainChannel, static_cast<uint32_t>(sig)}));
    // Done sending: the monitor answers a refused signal at once, then closes.
    client.CloseSending();
    for (;;) {
      Result<std::optional<vmproto::Message>> m = client.Next(kAnswerWait);
      if (!m.ok() || !m->has_value()) return Ok();
      auto* e = std::get_if<vmproto::GuestError>(&**m);
      if (e != nullptr && e->channel == vmproto::kMainChannel) {
        if (e->err == ESRCH) return Error("container \"" + state.id + "\" is not running", ESRCH);
        return Error(vmtier::DescribeGuestError(*e), static_cast<int>(e->err));
      }
    }
  }();
  if (sig != SIGKILL) return std::move(sent).Context("signalling container \"" + state.id + "\"");
  // SIGKILL must take effect: a guest that does not end its workload loses the VM.
  if (sent.ok() && WaitInitGone(state, kKillGraceMs).ok()) return Ok();
  return StopVm(state);
}

Status StopVm(const ContainerState& state) {
  if (state.cgroups_enabled) {
    BH_ASSIGN(jail::CgroupMounts mounts, jail::DetectCgroups());
    Result<jail::Cgroup> cg = jail::Cgroup::Open(mounts, state.cgroups_path, state.id);
    if (cg.ok()) (void)cg->KillAll(SIGKILL);
  }
  // The VM's process first: killing the monitor alone would orphan it, VM and all.
  BH_TRY(KillAndAwait(state.vm_inner_pid, state.vm_inner_start_time, kStopWaitMs)
             .Context("stopping the VM of \"" + state.id + "\""));
  Status s = SignalInit(state, SIGKILL);
  if (!s.ok() && s.error().errno_value() != ESRCH) return s;
  return WaitInitGone(state, kStopWaitMs);
}

Status RefuseVm(const ContainerState& state, std::string_view verb) {
  if (!state.vm) return Ok();
  return Error(std::string(verb) + ": not supported for vm-tier containers yet (container \"" +
                   state.id + "\"; docs/vm-tier.md)",
               ENOTSUP);
}

}  // namespace bulkhead::runtime
