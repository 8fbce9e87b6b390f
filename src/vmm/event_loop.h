// The monitor's one event-loop thread: epoll over every fd that needs the
// monitor's attention (queue notifications, console input, host signals).
// Handlers run in this thread only; a handler ends the VM by exiting the process.
#pragma once

#include <cstdint>
#include <functional>
#include <map>

#include "base/result.h"
#include "base/unique_fd.h"

namespace bulkhead::vmm {

class EventLoop {
 public:
  static Result<EventLoop> Create();

  // Calls `handler` whenever `fd` is readable (level-triggered).
  Status Add(int fd, std::function<void()> handler);
  // Calls `handler` on the given epoll events (EPOLLIN, EPOLLOUT, EPOLLET...).
  Status Add(int fd, uint32_t events, std::function<void()> handler);
  // Stops and restarts watching `fd` (e.g. console input while the guest has
  // no receive buffers), without forgetting its handler.
  Status Pause(int fd);
  Status Resume(int fd);

  // One round: waits up to timeout_ms (-1: forever) and runs the ready handlers.
  Status RunOnce(int timeout_ms);

 private:
  UniqueFd epoll_;
  std::map<int, std::function<void()>> handlers_;
  std::map<int, uint32_t> events_;
};

}  // namespace bulkhead::vmm
