#include "vmm/event_loop.h"

#include <sys/epoll.h>

#include <array>
#include <string>

namespace bulkhead::vmm {

Result<EventLoop> EventLoop::Create() {
  EventLoop loop;
  loop.epoll_ = UniqueFd(epoll_create1(EPOLL_CLOEXEC));
  if (!loop.epoll_) return Error::FromErrno("epoll_create1");
  return loop;
}

Status EventLoop::Add(int fd, std::function<void()> handler) { return Add(fd, EPOLLIN, std::move(handler)); }

Status EventLoop::Add(int fd, uint32_t events, std::function<void()> handler) {
  if (handlers_.count(fd) != 0) return Error("event loop: fd " + std::to_string(fd) + " added twice");
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
    return Error::FromErrno("epoll_ctl add fd " + std::to_string(fd));
  }
  handlers_[fd] = std::move(handler);
  events_[fd] = events;
  return Ok();
}

Status EventLoop::Pause(int fd) {
  epoll_event ev{};
  ev.data.fd = fd;
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev) != 0) return Error::FromErrno("epoll_ctl pause");
  return Ok();
}

Status EventLoop::Resume(int fd) {
  auto it = events_.find(fd);
  if (it == events_.end()) return Error("event loop: resuming fd " + std::to_string(fd) + " never added");
  epoll_event ev{};
  ev.events = it->second;
  ev.data.fd = fd;
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev) != 0) return Error::FromErrno("epoll_ctl resume");
  return Ok();
}

Status EventLoop::RunOnce(int timeout_ms) {
  std::array<epoll_event, 16> events;
  int n = epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), timeout_ms);
  if (n < 0) {
    if (errno == EINTR) return Ok();
    return Error::FromErrno("epoll_wait");
  }
  for (int i = 0; i < n; ++i) {
    auto it = handlers_.find(events[static_cast<size_t>(i)].data.fd);
    if (it != handlers_.end()) it->second();
  }
  return Ok();
}

}  // namespace bulkhead::vmm
