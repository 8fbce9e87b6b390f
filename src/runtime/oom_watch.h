// Wakes `events` when the container's memory cgroup runs out of memory, so an OOM kill
// is reported at once rather than at the next tick.
//   v1: an eventfd registered for memory.oom_control through cgroup.event_control (the
//       kernel signals it on every OOM in the cgroup, and once more when the cgroup goes);
//   v2: inotify on memory.events, which the kernel marks modified when a counter moves.
// Either way the wake-up is only a hint: what counts is the oom_kill counter (Cgroup::OomKills).
#pragma once

#include <cstdint>

#include "base/result.h"
#include "base/unique_fd.h"
#include "jail/cgroup.h"

namespace bulkhead::runtime {

class OomWatch {
 public:
  // Fails when the cgroup has no memory controller or the kernel refuses the watch.
  static Result<OomWatch> Open(const jail::Cgroup& cg);

  // Becomes readable (POLLIN) after an OOM event.
  int fd() const { return fd_.get(); }
  // Consumes what made fd readable.
  void Drain();

 private:
  UniqueFd fd_;
  UniqueFd oom_control_;  // v1: held open for as long as the eventfd is registered
};

}  // namespace bulkhead::runtime
