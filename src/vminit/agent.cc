#include "vminit/agent.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <vector>

#include "base/log.h"
#include "base/syscall.h"
#include "vminit/disk.h"
#include "vminit/guest_fs.h"
#include "vminit/layout.h"
#include "vminit/spec.h"
#include "vminit/volume_sync.h"
#include "vmproto/wire.h"

namespace bulkhead::vminit {

namespace {

using vmproto::Stream;

// Process output stops being read while this much waits for the host, so a host that reads
// slowly holds back the workload instead of growing init's memory.
constexpr size_t kMaxBacklog = 256 * 1024;
// After a process exits, an output pipe that stays empty this long is taken as finished even
// if an orphan still holds it open (its later output is not sent).
constexpr int64_t kOutputGraceMs = 500;
constexpr int kLingerPollMs = 100;
// How long the write-back waits for the host to take frames before it gives up.
constexpr int kWriteBackStallMs = 60000;

int64_t NowMs() {
  struct timespec ts {};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

Status SetNonBlocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    return Error::FromErrno("making a stdio descriptor non-blocking");
  }
  return Ok();
}

struct Pipe {
  UniqueFd read, write;
};

Result<Pipe> MakePipe() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Error::FromErrno("creating a stdio pipe");
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// Which descriptor of which channel a pollfd entry stands for.
enum class Role { kPort, kSignal, kStdin, kStdout, kStderr };
struct Entry {
  Role role;
  uint32_t channel;
};

}  // namespace

Result<Agent> Agent::Create(Port port) {
  Agent a(std::move(port));
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGPIPE);
  if (sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return Error::FromErrno("blocking SIGCHLD");
  sigdelset(&set, SIGPIPE);
  int fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (fd < 0) return Error::FromErrno("signalfd for SIGCHLD");
  a.sigchld_.reset(fd);
  return a;
}

Agent::Channel* Agent::Find(uint32_t channel) {
  auto it = channels_.find(channel);
  return it == channels_.end() ? nullptr : it->second.get();
}

Status Agent::Handle(vmproto::Message m) {
  return std::visit(
      [this](auto& msg) -> Status {
        using T = std::decay_t<decltype(msg)>;
        if constexpr (std::is_same_v<T, vmproto::Start>) return OnStart(msg);
        if constexpr (std::is_same_v<T, vmproto::Exec>) return OnExec(msg);
        if constexpr (std::is_same_v<T, vmproto::Data>) return OnStdin(msg);
        if constexpr (std::is_same_v<T, vmproto::CloseStdin>) return OnCloseStdin(msg);
        if constexpr (std::is_same_v<T, vmproto::Signal>) return OnSignal(msg);
        if constexpr (std::is_same_v<T, vmproto::Resize>) return OnResize(msg);
        if constexpr (std::is_same_v<T, vmproto::StatsRequest>) return OnStats(msg);
        if constexpr (std::is_same_v<T, vmproto::Credit>) return OnCredit(msg);
        // The decoder lets only host-to-guest types through.
        return Error("a guest-to-host frame came from the host", EPROTO);
      },
      m);
}

template <class Launch>
Status Agent::Spawn(uint32_t channel, bool terminal, Launch launch) {
  auto c = std::make_unique<Channel>(terminal);
  c->id = channel;
  ProcessIo io;
  Pipe in, out, err;
  if (!terminal) {
    BH_ASSIGN(in, MakePipe());
    BH_ASSIGN(out, MakePipe());
    BH_ASSIGN(err, MakePipe());
    io = ProcessIo{in.read.get(), out.write.get(), err.write.get()};
  }
  BH_ASSIGN(Spawned s, launch(io));
  c->pid = s.pid;
  if (terminal) {
    int dup_fd = fcntl(s.tty_master.get(), F_DUPFD_CLOEXEC, 3);
    if (dup_fd < 0) return Error::FromErrno("duplicating the pty master");
    c->out.reset(dup_fd);
    c->in = std::move(s.tty_master);
  } else {
    c->in = std::move(in.write);
    c->out = std::move(out.read);
    c->err = std::move(err.read);
  }
  for (const UniqueFd* fd : {&c->in, &c->out, &c->err}) {
    if (fd->valid()) BH_TRY(SetNonBlocking(fd->get()));
  }
  BH_TRY(port_.Send(vmproto::Started{channel, static_cast<uint32_t>(s.pid)}));
  channels_[channel] = std::move(c);
  // SIGCHLD was unblocked (and so discarded) while the process launched: an exit in that
  // window, this process's own included, is found only by looking.
  Reap();
  return Ok();
}

Status Agent::StartContainer(const vmproto::Start& m) {
  BH_ASSIGN(StartSpec spec, ParseStartSpec(m.spec_json, kRootDir).Context("start spec"));
  BH_ASSIGN(std::string disk, FindDiskBySerial(kSysBlock, kRootfsSerial));
  BH_TRY(AssembleRoot("/dev/" + disk, spec.guest.upper_size_mib));
  for (const GuestVolume& v : spec.guest.volumes) {
    BH_ASSIGN(std::string vdisk, FindDiskBySerial(kSysBlock, v.serial));
    if (!v.writable) {
      BH_TRY(MountVolume("/dev/" + vdisk, v.path));
      continue;
    }
    BH_ASSIGN(std::string upper, MountWritableVolume("/dev/" + vdisk, v.path, v.number, v.size_mib));
    writable_.push_back({v.number, std::move(upper)});
  }
  bool terminal = spec.config.process.terminal;
  BH_ASSIGN(Container c, Container::Prepare(std::move(spec)));
  container_.emplace(std::move(c));
  return Spawn(vmproto::kMainChannel, terminal,
               [this](const ProcessIo& io) { return container_->Start(io); });
}

Status Agent::OnStart(const vmproto::Start& m) {
  if (start_seen_) {
    return port_.Send(vmproto::MakeGuestError(vmproto::kMainChannel, EEXIST,
                                              "start: the container was started already"));
  }
  start_seen_ = true;
  used_channels_.insert(vmproto::kMainChannel);
  Status st = StartContainer(m);
  if (st.ok()) return Ok();
  LogError("start: " + st.error().message());
  start_failed_ = true;
  return port_.Send(vmproto::MakeGuestError(vmproto::kMainChannel, st.error().errno_value(),
                                            st.error().message()));
}

Status Agent::OnExec(const vmproto::Exec& m) {
  Status st = [&]() -> Status {
    if (!container_) return Error("exec: the container has not started", ESRCH);
    if (!used_channels_.insert(m.channel).second) {
      return Error("exec: channel " + std::to_string(m.channel) + " was used before", EEXIST);
    }
    BH_ASSIGN(oci::Process process, ParseExecSpec(m.spec_json).Context("exec spec"));
    return Spawn(m.channel, process.terminal,
                 [&](const ProcessIo& io) { return container_->Exec(process, io); });
  }();
  if (st.ok()) return Ok();
  return port_.Send(vmproto::MakeGuestError(m.channel, st.error().errno_value(),
                                            st.error().message()));
}

Status Agent::SendCredit(const Channel& c, uint32_t credit) {
  if (credit == 0) return Ok();
  return port_.Send(vmproto::Credit{c.id, Stream::kStdin, credit});
}

Status Agent::OnStdin(const vmproto::Data& m) {
  Channel* c = Find(m.channel);
  // Stdin racing the exit of its process: it has nowhere to go.
  if (c == nullptr) return Ok();
  BH_TRY(c->relay.QueueStdin(m.bytes));
  BH_TRY(SendCredit(*c, c->relay.StdinWritten(0)));
  return PumpStdin(*c);
}

Status Agent::OnCloseStdin(const vmproto::CloseStdin& m) {
  Channel* c = Find(m.channel);
  if (c == nullptr) return Ok();
  c->relay.RequestCloseStdin();
  return PumpStdin(*c);
}

Status Agent::OnSignal(const vmproto::Signal& m) {
  Channel* c = Find(m.channel);
  if (c == nullptr || c->relay.exited()) return Ok();
  if (kill(c->pid, static_cast<int>(m.signo)) != 0) {
    LogWarning("signal " + std::to_string(m.signo) + " to channel " + std::to_string(m.channel) +
               ": " + Error::FromErrno("kill").message());
  }
  return Ok();
}

Status Agent::OnResize(const vmproto::Resize& m) {
  Channel* c = Find(m.channel);
  if (c == nullptr || !c->terminal || !c->in.valid()) return Ok();
  struct winsize ws {};
  ws.ws_row = m.rows;
  ws.ws_col = m.cols;
  if (ioctl(c->in.get(), TIOCSWINSZ, &ws) != 0) {
    LogWarning("resizing the terminal of channel " + std::to_string(m.channel) + ": " +
               Error::FromErrno("TIOCSWINSZ").message());
  }
  return Ok();
}

Status Agent::OnStats(const vmproto::StatsRequest& m) {
  vmproto::StatsReply reply;
  reply.id = m.id;
  if (container_) {
    Result<vmproto::StatsReply> r = container_->Stats(m.id);
    if (r.ok()) {
      reply = *r;
    } else {
      LogWarning("stats: " + r.error().message());
    }
  }
  return port_.Send(reply);
}

Status Agent::OnCredit(const vmproto::Credit& m) {
  Channel* c = Find(m.channel);
  if (c == nullptr) return Ok();  // credit racing the channel's exit
  return c->relay.Credit(m.stream, m.bytes);
}

Status Agent::PumpStdin(Channel& c) {
  while (!c.relay.stdin_closed() && !c.relay.PendingStdin().empty()) {
    std::span<const uint8_t> pending = c.relay.PendingStdin();
    ssize_t n = RetryEintr([&] { return write(c.in.get(), pending.data(), pending.size()); });
    if (n < 0 && errno == EAGAIN) return Ok();
    if (n <= 0) {
      // The process closed its stdin (EPIPE) or is gone: what waits is dropped.
      c.in.reset();
      return SendCredit(c, c.relay.StdinClosed());
    }
    BH_TRY(SendCredit(c, c.relay.StdinWritten(static_cast<size_t>(n))));
  }
  if (c.relay.ShouldCloseStdin()) {
    // A terminal has no end of input of its own: send its EOF character (^D, VEOF).
    if (c.terminal) (void)!write(c.in.get(), "\x04", 1);
    c.in.reset();
    BH_TRY(SendCredit(c, c.relay.StdinClosed()));
  }
  return Ok();
}

Status Agent::PumpOutput(Channel& c, Stream s) {
  UniqueFd& fd = s == Stream::kStdout ? c.out : c.err;
  size_t budget = c.relay.ReadBudget(s);
  if (!fd.valid() || budget == 0) return Ok();
  std::vector<uint8_t> buf(budget);
  ssize_t n = RetryEintr([&] { return read(fd.get(), buf.data(), buf.size()); });
  if (n < 0 && errno == EAGAIN) return Ok();
  if (n <= 0) {
    // EOF, or EIO from a pty master whose slave is closed everywhere.
    c.relay.OutputEnded(s);
    fd.reset();
    return Ok();
  }
  buf.resize(static_cast<size_t>(n));
  BH_TRY(c.relay.Sent(s, buf.size()));
  return port_.Send(vmproto::Data{c.id, s, std::move(buf)});
}

void Agent::Reap() {
  struct signalfd_siginfo info;
  while (read(sigchld_.get(), &info, sizeof info) > 0) {
  }
  for (;;) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    for (auto& [id, c] : channels_) {
      if (c->pid == pid && !c->relay.exited()) {
        c->relay.ProcessExited(status);
        c->exited_at_ms = NowMs();
      }
    }
    // Anything else was an orphan handed to PID 1: reaped, nothing to report.
  }
}

bool Agent::AnyLingering() const {
  for (const auto& [id, c] : channels_) {
    if (c->relay.exited() && !c->relay.Done()) return true;
  }
  return false;
}

void Agent::EndIdleOutputs(int64_t now_ms) {
  for (auto& [id, c] : channels_) {
    if (!c->relay.exited() || now_ms - c->exited_at_ms < kOutputGraceMs) continue;
    for (Stream s : {Stream::kStdout, Stream::kStderr}) {
      UniqueFd& fd = s == Stream::kStdout ? c->out : c->err;
      if (!c->relay.OutputOpen(s) || !fd.valid()) continue;
      int queued = 0;
      if (ioctl(fd.get(), FIONREAD, &queued) == 0 && queued > 0) continue;
      c->relay.OutputEnded(s);
      fd.reset();
    }
  }
}

Result<bool> Agent::FinishChannels() {
  bool main_done = false;
  for (auto it = channels_.begin(); it != channels_.end();) {
    Channel& c = *it->second;
    if (!c.relay.Done()) {
      ++it;
      continue;
    }
    if (c.id == vmproto::kMainChannel) {
      BH_TRY(WriteBackVolumes());
      main_done = true;
    }
    BH_TRY(port_.Send(vmproto::ExitFromWaitStatus(c.id, c.relay.wait_status())));
    it = channels_.erase(it);
  }
  return main_done;
}

Status Agent::WriteBackVolumes() {
  const SendFrame send = [this](const vmproto::Message& m) -> Status {
    BH_TRY(port_.Send(m));
    if (port_.backlog() <= kMaxBacklog) return Ok();
    return port_.FlushTo(kMaxBacklog / 2, kWriteBackStallMs).Context("writing back volumes");
  };
  for (const WritableVolume& v : writable_) BH_TRY(SendVolumeChanges(v.number, v.upper, send));
  return Ok();
}

Status Agent::Run() {
  std::vector<struct pollfd> fds;
  std::vector<Entry> entries;
  for (;;) {
    BH_TRY(port_.Flush());
    fds.clear();
    entries.clear();
    auto add = [&](int fd, short events, Role role, uint32_t channel) {
      fds.push_back({fd, events, 0});
      entries.push_back({role, channel});
    };
    add(port_.fd(), static_cast<short>(POLLIN | (port_.backlog() > 0 ? POLLOUT : 0)),
        Role::kPort, 0);
    add(sigchld_.get(), POLLIN, Role::kSignal, 0);
    bool room = port_.backlog() < kMaxBacklog;
    for (auto& [id, c] : channels_) {
      if (c->in.valid() && !c->relay.PendingStdin().empty()) add(c->in.get(), POLLOUT, Role::kStdin, id);
      if (!room) continue;
      if (c->out.valid() && c->relay.ReadBudget(Stream::kStdout) > 0) {
        add(c->out.get(), POLLIN, Role::kStdout, id);
      }
      if (c->err.valid() && c->relay.ReadBudget(Stream::kStderr) > 0) {
        add(c->err.get(), POLLIN, Role::kStderr, id);
      }
    }
    int timeout = AnyLingering() ? kLingerPollMs : -1;
    if (poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR) {
      return Error::FromErrno("poll");
    }
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      const Entry& e = entries[i];
      if (e.role == Role::kPort) {
        if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
          BH_TRY(port_.Receive());
          while (std::optional<vmproto::Message> m = port_.Next()) BH_TRY(Handle(std::move(*m)));
          if (start_failed_) return Ok();
        }
        continue;
      }
      if (e.role == Role::kSignal) {
        Reap();
        continue;
      }
      Channel* c = Find(e.channel);
      if (c == nullptr) continue;
      if (e.role == Role::kStdin) BH_TRY(PumpStdin(*c));
      if (e.role == Role::kStdout) BH_TRY(PumpOutput(*c, Stream::kStdout));
      if (e.role == Role::kStderr) BH_TRY(PumpOutput(*c, Stream::kStderr));
    }
    EndIdleOutputs(NowMs());
    BH_ASSIGN(bool main_done, FinishChannels());
    if (main_done) return Ok();
  }
}

}  // namespace bulkhead::vminit
