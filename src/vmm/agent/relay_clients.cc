// The relay's host clients: accepting them, reading and checking their frames, answering
// them, and letting them go with what they own.
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/syscall.h"
#include "vmm/agent/relay.h"
#include "vmproto/encoder.h"

namespace bulkhead::vmm::agent {

using vmproto::Message;

namespace {

constexpr int kAcceptsPerRound = 8;
constexpr int kClientReadsPerRound = 4;

}  // namespace

Relay::Client* Relay::FindClient(ClientId id) {
  auto it = clients_.find(id);
  return it == clients_.end() ? nullptr : it->second.get();
}

void Relay::Accept() {
  for (int i = 0; i < kAcceptsPerRound; ++i) {
    UniqueFd fd(RetryEintr(
        [&] { return accept4(fds_.listen.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC); }));
    if (!fd) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED) return;
      // Out of fds or memory: stop accepting until a client leaves, rather than spin.
      listening_ = false;
      return;
    }
    if (clients_.size() >= kMaxClients) continue;  // closed at once: the client sees EOF
    auto c = std::make_unique<Client>();
    c->id = next_client_++;
    c->fd = std::move(fd);
    if (session_.hello_seen()) {
      c->hello_sent = true;
      SendToClient(*c, *session_.hello());
    }
    clients_[c->id] = std::move(c);
  }
}

void Relay::ReadClient(ClientId id) {
  for (int i = 0; i < kClientReadsPerRound && !outcome_ && to_guest_.size() < kGuestQueueHigh; ++i) {
    Client* c = FindClient(id);
    if (c == nullptr) return;
    ssize_t n = RetryEintr([&] { return read(c->fd.get(), buf_.data(), buf_.size()); });
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0) {
      // Closed (or shut down for writing) or failed: its session is over.
      DropClient(id);
      return;
    }
    if (!c->hello_sent) {
      // Nothing can be answered before the guest's hello, which opens every client's stream.
      DropClient(id);
      return;
    }
    Status fed = c->decoder.Feed(std::span<const uint8_t>(buf_.data(), static_cast<size_t>(n)));
    while (auto m = c->decoder.Next()) {
      HandleClient(*c, std::move(*m));
      c = FindClient(id);
      if (c == nullptr || outcome_) return;
    }
    if (!fed.ok()) {
      Refuse(*c, vmproto::kControlChannel, EPROTO, fed.error().message());
      FlushClient(id);
      DropClient(id);
      return;
    }
  }
}

void Relay::HandleClient(Client& c, Message m) {
  // The decoder checked the frame (CheckMessage); the session checks who may send it.
  Verdict v = session_.OnClient(c.id, m);
  switch (v.kind) {
    case Verdict::Kind::kForward:
      SendToGuest(m);
      // The workload's terminal starts at the size its console has.
      if (std::holds_alternative<vmproto::Start>(m)) ResizeMain();
      break;
    case Verdict::Kind::kRefuse:
      Refuse(c, vmproto::ChannelOf(m), v.err, v.text);
      break;
    case Verdict::Kind::kDrop: {
      ClientId id = c.id;
      Refuse(c, vmproto::ChannelOf(m), v.err, v.text);
      FlushClient(id);
      DropClient(id);
      break;
    }
  }
}

void Relay::Refuse(Client& c, uint32_t channel, int err, const std::string& text) {
  SendToClient(c, vmproto::MakeGuestError(channel, err, "monitor: " + text));
}

void Relay::SendToClient(Client& c, const Message& m) {
  std::vector<uint8_t> frame;
  if (!vmproto::AppendFrame(m, frame).ok()) return;  // decoded or made here: always valid
  OutQueue::Output output;
  if (auto* d = std::get_if<vmproto::Data>(&m)) output = {d->channel, d->stream, d->bytes.size()};
  c.out.Push(std::move(frame), output);
  if (c.out.control_bytes() > kClientControlBacklog) DropClient(c.id);
}

void Relay::FlushClient(ClientId id) {
  Client* c = FindClient(id);
  if (c == nullptr) return;
  auto credit = [this](const OutQueue::Output& d) { Credit(d); };
  if (!c->out.Flush(c->fd.get(), credit).ok()) DropClient(id);
}

void Relay::DropClient(ClientId id) {
  auto it = clients_.find(id);
  if (it == clients_.end()) return;
  std::unique_ptr<Client> c = std::move(it->second);
  clients_.erase(it);
  Unwatch(c->fd.get());
  // Its exec'd processes have no one to talk to: kill them. What it was sent but never
  // read is credited, so those processes are not stalled while they die.
  for (const vmproto::Signal& kill : session_.DropClient(id)) SendToGuest(kill);
  c->out.Discard([this](const OutQueue::Output& d) { Credit(d); });
  listening_ = true;
}

}  // namespace bulkhead::vmm::agent
