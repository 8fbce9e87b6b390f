// The monitor process of a vm-tier container, from the runtime's side: starting it in its
// cgroup, waiting for its guest, finding the process that runs the VM, and stopping both.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "base/result.h"
#include "vmproto/message.h"

namespace bulkhead::runtime {

// Forks and execs argv (argv[0] a path) in `dir`, with `keep_fds` inherited and stdio ours,
// or, given a `tty` (a pty slave), stdio on the tty, which becomes the controlling terminal
// of a new session the monitor leads (so its resizes reach the monitor as SIGWINCH).
// `before_exec` runs in the parent while the child waits (joining the cgroup); when it
// fails, or exec does, the child is killed and reaped. Returns once the exec happened.
Result<pid_t> SpawnMonitor(const std::vector<std::string>& argv, const std::string& dir,
                           const std::vector<int>& keep_fds, int tty,
                           const std::function<Status(pid_t)>& before_exec);

// Waits until the guest said hello on the agent socket (`dir`/agent.sock). A monitor that
// exits first, or a guest that stays silent past `timeout`, is an error that quotes the end
// of the guest's console log.
Result<vmproto::Hello> AwaitGuest(pid_t monitor, const std::string& dir,
                                  std::chrono::seconds timeout);

// The monitor's child that runs the VM (it forks into its jail); 0 when /proc cannot say.
pid_t MonitorChild(pid_t monitor);

// SIGKILL to pid if it still is the process that started at start_time, and waits until it
// has exited (at most timeout_ms). A process already gone is fine.
Status KillAndAwait(pid_t pid, uint64_t start_time, int timeout_ms);

}  // namespace bulkhead::runtime
