#include "runtime/oom_watch.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <charconv>
#include <string_view>

#include "base/fs.h"

namespace bulkhead::runtime {

namespace {

// Both files hold "key value" lines.
uint64_t ValueOf(std::string_view text, std::string_view key) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ' ') {
      uint64_t v = 0;
      std::string_view num = line.substr(key.size() + 1);
      auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
      (void)end;
      return ec == std::errc() ? v : 0;
    }
    pos = eol + 1;
  }
  return 0;
}

}  // namespace

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

uint64_t OomKills(const jail::Cgroup& cg) {
  const jail::Cgroup::Dir* d = cg.DirFor("memory");
  if (d == nullptr) return 0;
  Result<std::string> text =
      ReadFile(JoinPath(d->path, d->hierarchy.v2 ? "memory.events" : "memory.oom_control"), 64 << 10);
  return text.ok() ? ValueOf(*text, "oom_kill") : 0;
}

}  // namespace bulkhead::runtime
