// `events`: the container's cgroup statistics as JSON lines, as runc prints them.
// --stats prints one line and exits. Otherwise one "stats" line per --interval, and an
// "oom" line for every process the OOM killer takes, until the container stops.
#include <poll.h>

#include <algorithm>
#include <chrono>

#include "base/log.h"
#include "jail/cgroup.h"
#include "runtime/container_cgroup.h"
#include "runtime/duration.h"
#include "runtime/events_json.h"
#include "runtime/oom_watch.h"
#include "runtime/process.h"
#include "runtime/verbs.h"
#include "runtime/vm.h"

namespace bulkhead::runtime {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Without an OOM notification the counter is read this often instead.
constexpr milliseconds kOomPollPeriod{250};

Status NotRunning(const std::string& id) {
  return Error("container \"" + id + "\" is not running", ESRCH);
}

Status Stream(const ContainerState& state, const jail::Cgroup& cg, Clock::duration interval,
              const EventSink& emit) {
  BH_ASSIGN(UniqueFd init, OpenInit(state));
  if (!init.valid()) return NotRunning(state.id);
  Result<OomWatch> watch = OomWatch::Open(cg);
  if (!watch.ok()) {
    LogDebug("events: no OOM notification (" + watch.error().message() +
             "); reading the OOM counter every 250ms instead");
  }
  uint64_t oom_seen = cg.OomKills();
  auto report_ooms = [&]() -> Status {
    for (uint64_t now = cg.OomKills(); oom_seen < now; ++oom_seen) {
      BH_TRY(emit(OomEvent(state.id).dump()));
    }
    return Ok();
  };

  Clock::time_point next = Clock::now() + interval;
  for (;;) {
    Clock::time_point now = Clock::now();
    if (now >= next) {
      Result<jail::Cgroup::Stats> stats = cg.ReadStats();
      if (!stats.ok() && stats.error().errno_value() == ENOENT) return Ok();  // deleted
      if (stats.ok()) {
        BH_TRY(emit(StatsEvent(state.id, *stats).dump()));
      } else {
        LogWarning("events: " + stats.error().message());
      }
      next = std::max(next + interval, now);  // a late tick is not made up for
      continue;
    }
    Clock::duration wait = next - now;
    if (!watch.ok()) wait = std::min<Clock::duration>(wait, kOomPollPeriod);
    struct pollfd fds[2] = {{init.get(), POLLIN, 0}, {watch.ok() ? watch->fd() : -1, POLLIN, 0}};
    if (poll(fds, 2, PollTimeoutMs(wait)) < 0 && errno != EINTR) {
      return Error::FromErrno("events: waiting for the container");
    }
    if (fds[1].revents & POLLIN) watch->Drain();
    BH_TRY(report_ooms());
    // The init has exited: the container stopped, whatever is left of it.
    if (fds[0].revents & (POLLIN | POLLHUP)) return Ok();
  }
}

}  // namespace

Status Events(const GlobalOptions& g, const std::string& id, const EventsOptions& o,
              const EventSink& emit) {
  BH_ASSIGN(std::chrono::nanoseconds interval, ParseGoDuration(o.interval).Context("--interval"));
  if (interval.count() <= 0) {
    return Error("--interval: must be greater than 0, got \"" + o.interval + "\"", EINVAL);
  }
  StateStore store(g.root);
  BH_ASSIGN(ContainerState state, store.Load(id));
  if (state.vm) {
    // A paused VM cannot answer: EventsVm says so.
    ContainerStatus status = store.StatusOf(state);
    if (status != ContainerStatus::kRunning && status != ContainerStatus::kPaused) {
      return NotRunning(id);
    }
    return EventsVm(store, state, o.stats, interval, emit);
  }
  BH_ASSIGN(jail::Cgroup cg, ContainerCgroup(state, "events"));
  if (store.StatusOf(state) == ContainerStatus::kStopped) return NotRunning(id);
  if (o.stats) {
    BH_ASSIGN(jail::Cgroup::Stats stats,
              cg.ReadStats().Context("statistics of container \"" + id + "\""));
    return emit(StatsEvent(id, stats).dump());
  }
  return Stream(state, cg, std::chrono::duration_cast<Clock::duration>(interval), emit);
}

}  // namespace bulkhead::runtime
