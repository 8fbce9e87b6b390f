// `events` in the vm tier: the statistics come from the guest, which reads the cgroup it runs
// the container in (docs/vm-guest.md), over the monitor's agent socket. The host's cgroup
// around the monitor counts the whole VM instead, guest kernel and all.
#include <poll.h>

#include "runtime/duration.h"
#include "runtime/events_json.h"
#include "runtime/process.h"
#include "runtime/vm.h"
#include "vmtier/agent_client.h"

namespace bulkhead::runtime {

namespace {

using namespace std::chrono_literals;

constexpr auto kStatsWait = 10s;  // the guest reads three cgroup files

Result<jail::Cgroup::Stats> GuestStats(vmtier::AgentClient& client, uint32_t id) {
  BH_TRY(client.Send(vmproto::StatsRequest{id}));
  for (;;) {
    BH_ASSIGN(std::optional<vmproto::Message> m, client.Next(kStatsWait));
    if (!m) return Error("the VM stopped", ESRCH);
    if (auto* r = std::get_if<vmproto::StatsReply>(&*m); r != nullptr && r->id == id) {
      jail::Cgroup::Stats s;
      s.cpu.usage_ns = r->cpu_ns;
      s.memory.usage = r->memory_bytes;
      s.pids.current = r->pids;
      return s;
    }
    auto* e = std::get_if<vmproto::GuestError>(&*m);
    if (e != nullptr && e->channel == vmproto::kControlChannel) {
      return Error(vmtier::DescribeGuestError(*e), e->err != 0 ? static_cast<int>(e->err) : EIO);
    }
  }
}

}  // namespace

Status EventsVm(const StateStore& store, const ContainerState& state, bool once,
                std::chrono::nanoseconds interval, const EventSink& emit) {
  BH_ASSIGN(vmtier::AgentClient client, ConnectVmAgent(store, state));
  BH_ASSIGN(UniqueFd monitor, OpenInit(state));
  if (!monitor.valid()) return Error("container \"" + state.id + "\" is not running", ESRCH);
  auto context = "statistics of container \"" + state.id + "\"";
  for (uint32_t id = 1;; ++id) {
    Result<jail::Cgroup::Stats> stats = GuestStats(client, id);
    if (!stats.ok()) {
      // The VM ending while events streams is the container stopping, not an error.
      if (!once && stats.error().errno_value() == ESRCH) return Ok();
      return std::move(stats).error().Context(context);
    }
    BH_TRY(emit(StatsEvent(state.id, *stats).dump()));
    if (once) return Ok();
    pollfd p{monitor.get(), POLLIN, 0};
    int rc = poll(&p, 1, PollTimeoutMs(interval));
    if (rc < 0 && errno != EINTR) return Error::FromErrno("events: waiting for the VM");
    if (rc > 0) return Ok();  // the monitor exited: the container stopped
  }
}

}  // namespace bulkhead::runtime
