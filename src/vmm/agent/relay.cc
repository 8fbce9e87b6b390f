#include "vmm/agent/relay.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <array>

#include "base/syscall.h"
#include "vmproto/encoder.h"

namespace bulkhead::vmm::agent {

using vmproto::Message;
using vmproto::Stream;

namespace {

// Bytes taken from one fd per read; a few reads per fd per round keep the loop fair.
constexpr size_t kReadSize = 64 * 1024;
constexpr int kReadsPerRound = 8;

Status SetNonBlocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) return Ok();  // not open: handled as a dead or empty stream
  if (fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) return Error::FromErrno("making fd " + std::to_string(fd) + " non-blocking");
  return Ok();
}

}  // namespace

Relay::Relay(RelayFds fds)
    : fds_(std::move(fds)),
      volumes_(std::move(fds_.writeback), [this](const std::string& line) {
        // The monitor's own line, in order with the workload's stderr; it earns no credit.
        if (err_.dead) return;
        std::string text = "bulkhead-vmm: " + line + "\n";
        err_.queue.Push(std::vector<uint8_t>(text.begin(), text.end()));
      }) {
  out_.fd = fds_.out;
  out_.stream = Stream::kStdout;
  err_.fd = fds_.err;
  err_.stream = Stream::kStderr;
  buf_.resize(kReadSize);
}

Relay::~Relay() = default;

Result<std::unique_ptr<Relay>> Relay::Create(RelayFds fds) {
  if (!fds.console || !fds.listen) return Error("agent relay: needs the console port and the agent socket");
  std::unique_ptr<Relay> r(new Relay(std::move(fds)));
  BH_TRY(r->Setup().Context("agent relay"));
  return r;
}

Status Relay::Setup() {
  epoll_ = UniqueFd(epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_) return Error::FromErrno("epoll_create1");
  for (int fd : {fds_.console.get(), fds_.listen.get(), fds_.in, fds_.out, fds_.err}) BH_TRY(SetNonBlocking(fd));
  // Epoll refuses regular files and /dev/null (EPERM): those are always ready, so they are
  // read and written without waiting. A closed fd (EBADF) is an empty or dead stream.
  for (Output* o : {&out_, &err_}) {
    epoll_event ev{};
    if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, o->fd, &ev) == 0) {
      BH_TRY(CheckSys(epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, o->fd, nullptr), "epoll_ctl"));
    } else if (errno == EPERM) {
      o->pollable = false;
    } else {
      o->dead = true;
    }
  }
  epoll_event ev{};
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fds_.in, &ev) == 0) {
    BH_TRY(CheckSys(epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fds_.in, nullptr), "epoll_ctl"));
  } else if (errno == EPERM) {
    stdin_pollable_ = false;
  } else {
    stdin_eof_ = true;
  }
  UpdateInterest();
  return Ok();
}

std::optional<Outcome> Relay::Run(int timeout_ms) {
  if (outcome_) return outcome_;
  std::array<epoll_event, 32> events;
  int n = epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), timeout_ms);
  if (n < 0 && errno != EINTR) {
    Fatal(Outcome::Kind::kFailed, Error::FromErrno("epoll_wait").message());
    return outcome_;
  }
  for (int i = 0; i < n && !outcome_; ++i) {
    uint64_t tag = events[static_cast<size_t>(i)].data.u64;
    uint32_t ev = events[static_cast<size_t>(i)].events;
    switch (tag) {
      case kConsole:
        if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) ReadConsole();
        break;
      case kListen:
        Accept();
        break;
      case kStdin:
        ReadStdin();
        break;
      case kStdout:
      case kStderr:
        break;  // FlushAll below
      default:
        if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) ReadClient(tag);
        break;
    }
  }
  if (!outcome_ && !stdin_pollable_) ReadStdin();
  if (!outcome_) FlushAll();
  if (!outcome_ && main_exit_ && out_.queue.empty() && err_.queue.empty()) {
    // The workload's last words are out; the starter may still be owed its exit frame.
    for (auto& [id, c] : clients_) (void)c->out.Flush(c->fd.get(), nullptr);
    outcome_ = Outcome{Outcome::Kind::kWorkloadExited, *main_exit_, ""};
  }
  if (!outcome_) UpdateInterest();
  return outcome_;
}

void Relay::Fatal(Outcome::Kind kind, std::string message) {
  if (!outcome_) outcome_ = Outcome{kind, 0, std::move(message)};
}

void Relay::ReadConsole() {
  for (int i = 0; i < kReadsPerRound && !outcome_; ++i) {
    ssize_t n = RetryEintr([&] { return read(fds_.console.get(), buf_.data(), buf_.size()); });
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0) {
      Fatal(Outcome::Kind::kFailed, n == 0 ? "the console port closed" : Error::FromErrno("reading the console port").message());
      return;
    }
    Status fed = guest_decoder_.Feed(std::span<const uint8_t>(buf_.data(), static_cast<size_t>(n)));
    // A malformed frame poisons the decoder, which then hands out nothing: no frame of a
    // read that held one is acted on.
    while (auto m = guest_decoder_.Next()) {
      HandleGuest(std::move(*m));
      if (outcome_) return;
    }
    if (!fed.ok()) {
      Fatal(Outcome::Kind::kGuestBrokeProtocol, fed.error().message());
      return;
    }
  }
}

void Relay::HandleGuest(Message m) {
  Result<GuestRoute> route = session_.OnGuest(m);
  if (!route.ok()) {
    Fatal(Outcome::Kind::kGuestBrokeProtocol, "the guest broke the session: " + route.error().message());
    return;
  }
  if (route->main_exit) {
    // The guest writes its volumes back before the exit: nothing may be left half done.
    Status finished = volumes_.Finish();
    if (!finished.ok()) {
      Fatal(Outcome::Kind::kGuestBrokeProtocol, "volume write-back: " + finished.error().message());
      return;
    }
    main_exit_ = route->main_exit;
  }
  switch (route->to) {
    case GuestRoute::To::kVolumes:
      WriteBack(m);
      break;
    case GuestRoute::To::kNowhere:
      if (route->drop_data) {
        auto* d = std::get_if<vmproto::Data>(&m);
        if (d != nullptr) Credit({d->channel, d->stream, d->bytes.size()});
      }
      break;
    case GuestRoute::To::kClient:
      if (Client* c = FindClient(route->client)) SendToClient(*c, m);
      break;
    case GuestRoute::To::kAllClients: {
      std::vector<ClientId> ids;
      for (auto& [id, c] : clients_) ids.push_back(id);
      for (ClientId id : ids) {
        Client* c = FindClient(id);
        if (c == nullptr) continue;
        if (std::holds_alternative<vmproto::Hello>(m)) c->hello_sent = true;
        SendToClient(*c, m);
      }
      break;
    }
    case GuestRoute::To::kMainOutput: {
      auto& d = std::get<vmproto::Data>(m);
      Output& o = d.stream == Stream::kStdout ? out_ : err_;
      size_t size = d.bytes.size();
      OutQueue::Output tag{d.channel, d.stream, size};
      if (o.dead) {
        Credit(tag);
      } else {
        o.queue.Push(std::move(d.bytes), tag);
      }
      break;
    }
  }
}

void Relay::WriteBack(const Message& m) {
  Status st = Ok();
  if (auto* e = std::get_if<vmproto::VolumeEntry>(&m)) {
    st = volumes_.OnEntry(*e);
  } else if (auto* d = std::get_if<vmproto::VolumeData>(&m)) {
    st = volumes_.OnData(d->bytes);
  }
  if (!st.ok()) Fatal(Outcome::Kind::kGuestBrokeProtocol, "volume write-back: " + st.error().message());
}

void Relay::SendToGuest(const Message& m) {
  std::vector<uint8_t> frame;
  Status st = vmproto::AppendFrame(m, frame);
  if (!st.ok()) {
    // Only checked messages get here; a refusal is a bug of the monitor's.
    Fatal(Outcome::Kind::kFailed, st.error().message());
    return;
  }
  to_guest_.Push(std::move(frame));
}

void Relay::Credit(const OutQueue::Output& drained) {
  if (auto credit = session_.Drained(drained.channel, drained.stream, drained.bytes)) SendToGuest(*credit);
}

bool Relay::WantStdin() const {
  return !stdin_eof_ && session_.start_sent() && session_.MainStdinRoom() > 0 &&
         to_guest_.size() < kGuestQueueHigh;
}

void Relay::ReadStdin() {
  // Keystrokes typed after a resize must not overtake it: the guest sizes its pty first.
  if (fds_.tty && WantStdin()) ResizeMain();
  // Polled stdin gets a few reads a round; an always-ready one at most the window.
  for (int i = 0; WantStdin() && (!stdin_pollable_ || i < kReadsPerRound); ++i) {
    size_t want = std::min<size_t>({session_.MainStdinRoom(), vmproto::kMaxDataChunk, buf_.size()});
    ssize_t n = RetryEintr([&] { return read(fds_.in, buf_.data(), want); });
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0) {
      // End of input, or stdin failed: either way there will be no more.
      stdin_eof_ = true;
      SendToGuest(vmproto::CloseStdin{vmproto::kMainChannel});
      return;
    }
    session_.SpendMainStdin(static_cast<size_t>(n));
    SendToGuest(vmproto::Data{vmproto::kMainChannel, Stream::kStdin, std::vector<uint8_t>(buf_.begin(), buf_.begin() + n)});
  }
}

void Relay::ResizeMain() {
  if (!fds_.tty || !session_.start_sent() || main_exit_ || outcome_) return;
  winsize ws{};
  if (ioctl(fds_.in, TIOCGWINSZ, &ws) != 0 || ws.ws_row == 0 || ws.ws_col == 0) return;
  vmproto::Resize r{vmproto::kMainChannel, ws.ws_row, ws.ws_col};
  if (r == sent_size_) return;
  sent_size_ = r;
  SendToGuest(r);
}

void Relay::FlushOutput(Output& o) {
  if (o.queue.empty()) return;
  auto credit = [this](const OutQueue::Output& d) { Credit(d); };
  Status st = o.queue.Flush(o.fd, credit);
  if (!st.ok()) {
    // The reader went away: the workload's output is dropped, as a closed pipe drops it, and
    // credited so the guest does not stall on it.
    o.dead = true;
    o.queue.Discard(credit);
  }
}

void Relay::FlushAll() {
  FlushOutput(out_);
  FlushOutput(err_);
  std::vector<ClientId> ids;
  for (auto& [id, c] : clients_) {
    if (!c->out.empty()) ids.push_back(id);
  }
  for (ClientId id : ids) FlushClient(id);
  Status st = to_guest_.Flush(fds_.console.get(), nullptr);
  if (!st.ok()) Fatal(Outcome::Kind::kFailed, std::move(st).error().Context("the console port").message());
}

void Relay::Watch(int fd, uint64_t tag, uint32_t events) {
  auto it = watched_.find(fd);
  if (events == 0) {
    Unwatch(fd);
    return;
  }
  if (it != watched_.end() && it->second == events) return;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = tag;
  int op = it == watched_.end() ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
  if (epoll_ctl(epoll_.get(), op, fd, &ev) != 0) {
    Fatal(Outcome::Kind::kFailed, Error::FromErrno("epoll_ctl fd " + std::to_string(fd)).message());
    return;
  }
  watched_[fd] = events;
}

void Relay::Unwatch(int fd) {
  if (watched_.erase(fd) == 0) return;
  (void)epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
}

void Relay::UpdateInterest() {
  Watch(fds_.console.get(), kConsole, EPOLLIN | (to_guest_.empty() ? 0u : EPOLLOUT));
  Watch(fds_.listen.get(), kListen, listening_ ? EPOLLIN : 0u);
  if (stdin_pollable_) Watch(fds_.in, kStdin, WantStdin() ? EPOLLIN : 0u);
  for (Output* o : {&out_, &err_}) {
    if (o->pollable && !o->dead) Watch(o->fd, o == &out_ ? kStdout : kStderr, o->queue.empty() ? 0u : EPOLLOUT);
  }
  const bool read_clients = to_guest_.size() < kGuestQueueHigh;
  for (auto& [id, c] : clients_) {
    Watch(c->fd.get(), id, (read_clients ? EPOLLIN : 0u) | (c->out.empty() ? 0u : EPOLLOUT));
  }
}

}  // namespace bulkhead::vmm::agent
