#include "runtime/oom_watch.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <string_view>

#include "base/fs.h"

namespace bulkhead::runtime {

Result<OomWatch> OomWatch::Open(const jail::Cgroup& cg) {
  const jail::Cgroup::Dir* d = cg.DirFor("memory");
  if (d == nullptr) return Error("no memory controller for " + cg.Describe(), ENOTSUP);
  OomWatch w;
  if (d->hierarchy.v2) {
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) return Error::FromErrno("inotify_init1");
    w.fd_.reset(fd);
    std::string events = JoinPath(d->path, "memory.events");
    if (inotify_add_watch(fd, events.c_str(), IN_MODIFY) < 0) {
      return Error::FromErrno("watching " + events);
    }
    return w;
  }
  std::string oom_control = JoinPath(d->path, "memory.oom_control");
  BH_ASSIGN(w.oom_control_, OpenFile(oom_control, O_RDONLY));
  int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return Error::FromErrno("eventfd");
  w.fd_.reset(fd);
  std::string line = std::to_string(fd) + " " + std::to_string(w.oom_control_.get());
  BH_TRY(WriteExisting(JoinPath(d->path, "cgroup.event_control"), line)
             .Context("registering for OOM events of " + cg.Describe()));
  return w;
}

void OomWatch::Drain() {
  char buf[4096];  // an eventfd counter (8 bytes) or queued inotify events
  while (::read(fd_.get(), buf, sizeof buf) > 0) {
  }
}


}  // namespace bulkhead::runtime
