#include "vmm/agent/session.h"

#include <cerrno>
#include <csignal>

namespace bulkhead::vmm::agent {

using vmproto::Message;
using vmproto::Stream;

namespace {

std::string Ch(uint32_t channel) { return "channel " + std::to_string(channel); }

Verdict Refuse(int err, std::string text) { return {Verdict::Kind::kRefuse, err, std::move(text)}; }

size_t OutIndex(Stream s) { return s == Stream::kStdout ? 0 : 1; }

}  // namespace

Session::Channel* Session::Find(uint32_t channel) {
  auto it = channels_.find(channel);
  return it == channels_.end() ? nullptr : &it->second;
}

Result<Session::Channel*> Session::OpenForGuest(uint32_t channel, const char* what) {
  Channel* c = Find(channel);
  if (c == nullptr) {
    return Error(std::string(what) + " on " + Ch(channel) +
                 (used_.test(channel) ? ", which has exited" : ", which the host never opened"));
  }
  return c;
}

Verdict Session::OwnedBy(ClientId client, uint32_t channel, Channel** out) {
  Channel* c = Find(channel);
  if (c == nullptr) return Refuse(ESRCH, Ch(channel) + " is not open");
  if (channel == vmproto::kMainChannel || c->owner != client) {
    return Refuse(EPERM, Ch(channel) + " was not opened by this client's exec");
  }
  *out = c;
  return {};
}

size_t Session::ExecsOf(ClientId client) const {
  size_t n = 0;
  for (const auto& [ch, c] : channels_) n += ch != vmproto::kMainChannel && c.owner == client;
  return n;
}

size_t Session::StatsOf(ClientId client) const {
  size_t n = 0;
  for (const auto& [id, p] : stats_) n += p.client == client;
  return n;
}

Result<GuestRoute> Session::OnGuest(Message& m) {
  GuestRoute r;
  if (auto* h = std::get_if<vmproto::Hello>(&m)) {
    hello_ = *h;  // the decoder lets exactly one through, first
    r.to = GuestRoute::To::kAllClients;
    return r;
  }
  if (auto* rep = std::get_if<vmproto::StatsReply>(&m)) {
    auto it = stats_.find(rep->id);
    if (it == stats_.end()) return Error("stats-reply for id " + std::to_string(rep->id) + ", never asked for");
    rep->id = it->second.client_id;
    r.client = it->second.client;
    r.to = r.client == kNoClient ? GuestRoute::To::kNowhere : GuestRoute::To::kClient;
    stats_.erase(it);
    return r;
  }
  if (auto* e = std::get_if<vmproto::GuestError>(&m); e && e->channel == vmproto::kControlChannel) {
    r.to = GuestRoute::To::kAllClients;
    return r;
  }
  uint32_t channel = vmproto::ChannelOf(m);
  const std::string name(vmproto::TypeName(vmproto::TypeOf(m)));
  BH_ASSIGN(Channel * c, OpenForGuest(channel, name.c_str()));
  r.client = c->owner;
  r.to = c->owner == kNoClient ? GuestRoute::To::kNowhere : GuestRoute::To::kClient;
  if (std::holds_alternative<vmproto::VolumeEntry>(m) || std::holds_alternative<vmproto::VolumeData>(m)) {
    if (!c->started) return Error(name + " before the container's process started");
    r.to = GuestRoute::To::kVolumes;
  } else if (std::holds_alternative<vmproto::Started>(m)) {
    if (c->started) return Error("a second started on " + Ch(channel));
    c->started = true;
  } else if (auto* d = std::get_if<vmproto::Data>(&m)) {
    BH_TRY(c->out_window[OutIndex(d->stream)].Spend(d->bytes.size()).Context(name + " on " + Ch(channel)));
    if (channel == vmproto::kMainChannel) {
      r.to = GuestRoute::To::kMainOutput;
    } else if (c->owner == kNoClient) {
      r.drop_data = true;
    }
  } else if (auto* credit = std::get_if<vmproto::Credit>(&m)) {
    BH_TRY(c->stdin_window.Grant(credit->bytes).Context(name + " on " + Ch(channel)));
    if (channel == vmproto::kMainChannel) {
      r.to = GuestRoute::To::kNowhere;  // the monitor feeds main stdin itself
      r.main_stdin_credit = true;
    }
  } else if (auto* x = std::get_if<vmproto::Exit>(&m)) {
    if (channel == vmproto::kMainChannel) r.main_exit = vmproto::ShellStatus(*x);
    channels_.erase(channel);  // exit is the channel's last frame
  }
  // guest-error on a process channel: to its owner, as set above.
  return r;
}

Verdict Session::OnClient(ClientId client, Message& m) {
  Channel* c = nullptr;
  if (std::holds_alternative<vmproto::Start>(m)) {
    if (!hello_) return Refuse(EAGAIN, "start before the guest said hello");
    if (start_sent_) return Refuse(EBUSY, "start was sent already");
    start_sent_ = true;
    used_.set(vmproto::kMainChannel);
    channels_[vmproto::kMainChannel].owner = client;
    return {};
  }
  if (auto* e = std::get_if<vmproto::Exec>(&m)) {
    if (used_.test(e->channel)) return Refuse(EBUSY, Ch(e->channel) + " is taken (channels are never reused)");
    if (ExecsOf(client) >= kMaxExecsPerClient) {
      return Refuse(EAGAIN, "this client runs " + std::to_string(kMaxExecsPerClient) + " processes already");
    }
    used_.set(e->channel);
    channels_[e->channel].owner = client;
    return {};
  }
  if (auto* sig = std::get_if<vmproto::Signal>(&m); sig && sig->channel == vmproto::kMainChannel) {
    // kill: any client may signal the container's process.
    if (!main_open()) return Refuse(ESRCH, start_sent_ ? "the main process has exited" : "start was not sent");
    return {};
  }
  if (auto* req = std::get_if<vmproto::StatsRequest>(&m)) {
    if (StatsOf(client) >= kMaxStatsPerClient) {
      return Refuse(EAGAIN, std::to_string(kMaxStatsPerClient) + " stats requests wait already");
    }
    while (next_stats_id_ == 0 || stats_.count(next_stats_id_) != 0) ++next_stats_id_;
    stats_[next_stats_id_] = {client, req->id};
    req->id = next_stats_id_++;
    return {};
  }
  if (std::holds_alternative<vmproto::Credit>(m)) {
    return Refuse(EPERM, "output credit is granted by the monitor, not by clients");
  }
  // stdin, close-stdin, resize, signal: only on an exec channel of this client.
  Verdict owned = OwnedBy(client, vmproto::ChannelOf(m), &c);
  if (owned.kind != Verdict::Kind::kForward) return owned;
  if (auto* d = std::get_if<vmproto::Data>(&m)) {
    if (c->stdin_closed) return Refuse(EPIPE, Ch(d->channel) + ": stdin was closed");
    Status spent = c->stdin_window.Spend(d->bytes.size());
    if (!spent.ok()) return {Verdict::Kind::kDrop, EPROTO, Ch(d->channel) + " stdin: " + spent.error().message()};
  } else if (auto* close = std::get_if<vmproto::CloseStdin>(&m)) {
    if (c->stdin_closed) return Refuse(EPIPE, Ch(close->channel) + ": stdin was closed");
    c->stdin_closed = true;
  }
  return {};
}

uint32_t Session::MainStdinRoom() const {
  auto it = channels_.find(vmproto::kMainChannel);
  return it == channels_.end() ? 0 : it->second.stdin_window.available();
}

void Session::SpendMainStdin(size_t n) {
  if (Channel* c = Find(vmproto::kMainChannel)) (void)c->stdin_window.Spend(n);
}

std::optional<vmproto::Credit> Session::Drained(uint32_t channel, Stream stream, size_t n) {
  Channel* c = Find(channel);
  if (c == nullptr || stream == Stream::kStdin) return std::nullopt;  // exited: no one to credit
  uint32_t credit = c->out_window[OutIndex(stream)].Drained(n);
  if (credit == 0) return std::nullopt;
  return vmproto::Credit{channel, stream, credit};
}

std::vector<vmproto::Signal> Session::DropClient(ClientId client) {
  std::vector<vmproto::Signal> kills;
  for (auto& [ch, c] : channels_) {
    if (c.owner != client) continue;
    c.owner = kNoClient;
    if (ch != vmproto::kMainChannel) kills.push_back({ch, SIGKILL});
  }
  for (auto& [id, p] : stats_) {
    if (p.client == client) p.client = kNoClient;  // the reply is still due; it goes nowhere
  }
  return kills;
}

}  // namespace bulkhead::vmm::agent
