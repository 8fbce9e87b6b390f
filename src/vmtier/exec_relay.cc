#include "vmtier/exec_relay.h"

#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "base/fs.h"
#include "base/syscall.h"
#include "vmproto/flow.h"

namespace bulkhead::vmtier {

namespace {

// Channels are the host's to pick and are never reused in a VM's life; another client may
// hold the one picked, and the monitor then refuses it with EBUSY.
constexpr int kChannelTries = 16;

uint32_t PickChannel() {
  uint32_t r = 0;
  if (getrandom(&r, sizeof r, 0) != sizeof r) r = static_cast<uint32_t>(getpid()) * 2654435761u;
  return vmproto::kFirstExecChannel + r % (vmproto::kMaxChannel - vmproto::kFirstExecChannel + 1);
}

}  // namespace

Result<OpenedExec> OpenExec(AgentClient& client, const std::string& spec_json) {
  for (int attempt = 0; attempt < kChannelTries; ++attempt) {
    uint32_t channel = PickChannel();
    BH_TRY(client.Send(vmproto::Exec{channel, spec_json}));
    for (;;) {
      // The guest sets the process up (joins namespaces, applies the jail): no deadline
      // beyond the VM's own life, as runc's exec has none.
      BH_ASSIGN(std::optional<vmproto::Message> m, client.Next(std::chrono::hours(24)));
      if (!m) return Error("the VM stopped before the process started", EPIPE);
      if (auto* s = std::get_if<vmproto::Started>(&*m); s != nullptr && s->channel == channel) {
        return OpenedExec{channel, s->pid};
      }
      auto* e = std::get_if<vmproto::GuestError>(&*m);
      if (e == nullptr || e->channel != channel) continue;
      if (e->err == EBUSY) break;  // taken: another channel
      return Error(DescribeGuestError(*e), e->err != 0 ? static_cast<int>(e->err) : EIO);
    }
  }
  return Error("no free channel for the exec after " + std::to_string(kChannelTries) + " tries",
               EBUSY);
}

namespace {

class Relay {
 public:
  Relay(AgentClient& client, uint32_t channel, const ExecIo& io)
      : client_(client), channel_(channel), io_(io), stdin_open_(io.in >= 0) {}

  Result<int> Run() {
    if (!stdin_open_) BH_TRY(client_.Send(vmproto::CloseStdin{channel_}));
    if (io_.tty >= 0) BH_TRY(PassSize());
    for (;;) {
      while (std::optional<vmproto::Message> m = client_.Take()) {
        BH_ASSIGN(std::optional<int> status, Handle(*m));
        if (status) return *status;
      }
      std::vector<pollfd> fds;
      fds.push_back({client_.fd(), POLLIN, 0});
      bool want_stdin = stdin_open_ && stdin_window_.available() > 0;
      if (want_stdin) fds.push_back({io_.in, POLLIN, 0});
      if (io_.signal_fd >= 0) fds.push_back({io_.signal_fd, POLLIN, 0});
      if (RetryEintr([&] { return poll(fds.data(), fds.size(), -1); }) < 0) {
        return Error::FromErrno("exec: waiting for the VM and stdin");
      }
      if (fds[0].revents != 0) {
        BH_ASSIGN(bool open, client_.ReadSome());
        if (!open) return Error("the VM stopped before the process exited", EPIPE);
      }
      // A resize before the input typed after it.
      if (io_.signal_fd >= 0 && fds.back().revents != 0) BH_TRY(PassSignal());
      if (want_stdin && fds[1].revents != 0) BH_TRY(PassStdin());
    }
  }

 private:
  // A status once the process's exit arrived.
  Result<std::optional<int>> Handle(const vmproto::Message& m) {
    if (auto* d = std::get_if<vmproto::Data>(&m); d != nullptr && d->channel == channel_) {
      // The monitor credits the guest as this connection drains; a reader of ours that went
      // away loses the rest, and the process is never held up by it.
      int fd = d->stream == vmproto::Stream::kStderr ? io_.err : io_.out;
      (void)WriteAll(fd, {reinterpret_cast<const char*>(d->bytes.data()), d->bytes.size()});
    } else if (auto* c = std::get_if<vmproto::Credit>(&m); c != nullptr && c->channel == channel_) {
      BH_TRY(stdin_window_.Grant(c->bytes).Context("exec: the guest's stdin credit"));
    } else if (auto* x = std::get_if<vmproto::Exit>(&m); x != nullptr && x->channel == channel_) {
      return std::optional<int>(x->kind == vmproto::ExitKind::kSignaled
                                    ? 128 + static_cast<int>(x->value)
                                    : static_cast<int>(x->value));
    } else if (auto* e = std::get_if<vmproto::GuestError>(&m)) {
      // A signal the process could not take (it exited meanwhile) is no error of the exec.
      if (e->channel == channel_ && e->err != ESRCH) {
        return Error(DescribeGuestError(*e), static_cast<int>(e->err));
      }
    }
    return std::optional<int>();
  }

  Status PassStdin() {
    std::vector<uint8_t> buf(std::min<size_t>(stdin_window_.available(), vmproto::kMaxDataChunk));
    ssize_t n = RetryEintr([&] { return read(io_.in, buf.data(), buf.size()); });
    if (n <= 0) {
      // End of input (or a terminal gone): the process sees its stdin closed.
      stdin_open_ = false;
      return client_.Send(vmproto::CloseStdin{channel_});
    }
    buf.resize(static_cast<size_t>(n));
    BH_TRY(stdin_window_.Spend(buf.size()));
    return client_.Send(vmproto::Data{channel_, vmproto::Stream::kStdin, std::move(buf)});
  }

  Status PassSignal() {
    signalfd_siginfo si{};
    if (RetryEintr([&] { return read(io_.signal_fd, &si, sizeof si); }) != sizeof si) return Ok();
    if (si.ssi_signo == SIGWINCH && io_.tty >= 0) return PassSize();
    return client_.Send(vmproto::Signal{channel_, si.ssi_signo});
  }

  Status PassSize() {
    winsize ws{};
    if (ioctl(io_.tty, TIOCGWINSZ, &ws) != 0 || ws.ws_row == 0 || ws.ws_col == 0) return Ok();
    return client_.Send(vmproto::Resize{channel_, ws.ws_row, ws.ws_col});
  }

  AgentClient& client_;
  uint32_t channel_;
  ExecIo io_;
  bool stdin_open_;
  vmproto::FlowWindow stdin_window_;
};

}  // namespace

Result<int> RelayExec(AgentClient& client, uint32_t channel, const ExecIo& io) {
  return Relay(client, channel, io).Run();
}

}  // namespace bulkhead::vmtier
