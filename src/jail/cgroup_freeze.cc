// Freezing, thawing and signalling every process of a cgroup.
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "base/fs.h"
#include "jail/cgroup.h"
#include "jail/cgroup_knobs.h"

namespace bulkhead::jail {

namespace {

// Freezing can take a while when a task sits in an uninterruptible sleep.
constexpr auto kFreezeTimeout = std::chrono::seconds(2);

Result<bool> ReadFrozen(const Cgroup::Dir& d) {
  if (d.hierarchy.v2) {
    BH_ASSIGN(std::string events, ReadKnob(d.path, "cgroup.events"));
    return KeyedValue(events, "frozen") == 1;
  }
  BH_ASSIGN(std::string state, ReadKnob(d.path, "freezer.state"));
  return state == "FROZEN";
}

Status SetFrozen(const Cgroup::Dir& d, bool frozen) {
  if (d.hierarchy.v2) return WriteKnob(d.path, "cgroup.freeze", frozen ? "1" : "0", "freezer");
  return WriteKnob(d.path, "freezer.state", frozen ? "FROZEN" : "THAWED", "freezer");
}

// PF_KTHREAD in /proc/<pid>/stat's flags (field 9).
constexpr unsigned long kPfKthread = 0x00200000;

bool IsKernelThread(pid_t pid) {
  Result<std::string> stat = ReadFile("/proc/" + std::to_string(pid) + "/stat", 4096);
  if (!stat.ok()) return false;
  size_t close = stat->rfind(')');
  if (close == std::string::npos) return false;
  // After ") ": state (field 3), then fields 4..8, then flags.
  const char* p = stat->c_str() + close + 1;
  for (int field = 3; field <= 9 && p != nullptr; ++field) {
    while (*p == ' ') ++p;
    if (field == 9) return (strtoul(p, nullptr, 10) & kPfKthread) != 0;
    p = strchr(p, ' ');
  }
  return false;
}

}  // namespace

Result<int> Cgroup::EvictKernelThreads() {
  int moved = 0;
  for (const Dir& d : dirs_) {
    std::vector<pid_t> pids;
    BH_TRY(CollectPids(d.path, &pids));
    for (pid_t pid : pids) {
      if (!IsKernelThread(pid)) continue;
      std::string value = std::to_string(pid);
      Status st = WriteKnob(d.hierarchy.mount_point, "cgroup.procs", value,
                            "moving kernel thread " + value + " out of " + Describe());
      // Gone meanwhile: nothing to move.
      if (!st.ok() && st.error().errno_value() != ESRCH) return std::move(st).error();
      if (st.ok()) ++moved;
    }
  }
  return moved;
}

Status Cgroup::Freeze() {
  const Dir* d = DirFor("freezer");
  if (d == nullptr) return Error("freezing " + Describe() + ": no freezer on this host", ENOTSUP);
  BH_TRY(SetFrozen(*d, true));
  auto deadline = std::chrono::steady_clock::now() + kFreezeTimeout;
  auto delay = std::chrono::microseconds(100);
  for (;;) {
    BH_ASSIGN(bool frozen, ReadFrozen(*d));
    if (frozen) return Ok();
    if (std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::microseconds(20000));
    // v1 can stall in FREEZING when a task was forking; asking again moves it on.
    if (!d->hierarchy.v2) BH_TRY(SetFrozen(*d, true));
  }
  (void)SetFrozen(*d, false);  // leave it running rather than half frozen
  return Error("freezing " + Describe() + ": still not frozen after 2s", ETIMEDOUT);
}

Status Cgroup::Thaw() {
  const Dir* d = DirFor("freezer");
  if (d == nullptr) return Error("thawing " + Describe() + ": no freezer on this host", ENOTSUP);
  return SetFrozen(*d, false).Context("thawing " + Describe());
}

Result<bool> Cgroup::IsFrozen() const {
  const Dir* d = DirFor("freezer");
  if (d == nullptr) return false;
  return ReadFrozen(*d).Context("reading the freezer state of " + Describe());
}

Status Cgroup::KillAll(int sig) {
  Result<bool> was_frozen = IsFrozen();
  const bool paused = was_frozen.ok() && *was_frozen;
  const Dir* freezer = DirFor("freezer");
  // v2 can kill a whole subtree atomically (cgroup.kill, Linux 5.14+), frozen or not.
  for (const Dir& d : dirs_) {
    if (sig == SIGKILL && d.hierarchy.v2 && KnobExists(d.path, "cgroup.kill")) {
      BH_TRY(WriteKnob(d.path, "cgroup.kill", "1", "killing " + Describe()));
      // On hybrid hosts a paused container sits in the v1 freezer, whose tasks do not
      // act on SIGKILL until thawed.
      if (paused && freezer != nullptr && !freezer->hierarchy.v2) return Thaw();
      return Ok();
    }
  }
  // Frozen tasks cannot fork, so the pid list stays complete while we signal it. Without a
  // freezer (or if freezing fails) signal anyway: a late fork is less harm than no kill.
  bool frozen = paused || Freeze().ok();
  Status result;
  auto pids = Pids();
  if (!pids.ok()) {
    result = std::move(pids).error();
  } else {
    for (pid_t pid : *pids) {
      if (::kill(pid, sig) != 0 && errno != ESRCH && result.ok()) {
        result = Error::FromErrno("signalling pid " + std::to_string(pid) + " of " + Describe());
      }
    }
  }
  // A paused container stays paused unless it must die: a v1-frozen task never acts on
  // SIGKILL (v2 lets fatal signals through, thawing does no harm there either).
  if (frozen && (!paused || sig == SIGKILL)) {
    Status st = Thaw();
    if (!st.ok() && result.ok()) result = std::move(st);
  }
  return result;
}

}  // namespace bulkhead::jail
