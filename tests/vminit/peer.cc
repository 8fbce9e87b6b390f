#include "peer.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "vmproto/encoder.h"
#include "vmproto/wire.h"

namespace bulkhead::vminit::testing {

using vmproto::Stream;

int64_t NowMs() {
  struct timespec ts {};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

Result<Peer> Peer::Accept(const std::string& path, int timeout_ms) {
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return Error("socket path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  UniqueFd ls(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!ls.valid()) return Error::FromErrno("socket");
  unlink(path.c_str());
  if (bind(ls.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) != 0) {
    return Error::FromErrno("bind " + path);
  }
  if (listen(ls.get(), 1) != 0) return Error::FromErrno("listen");
  struct pollfd p {ls.get(), POLLIN, 0};
  if (poll(&p, 1, timeout_ms) != 1) return Error("the monitor did not connect to " + path);
  Peer peer;
  peer.fd_.reset(accept4(ls.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!peer.fd_.valid()) return Error::FromErrno("accept");
  return peer;
}

Status Peer::Send(const vmproto::Message& m) {
  BH_ASSIGN(std::vector<uint8_t> frame, vmproto::Encode(m));
  size_t off = 0;
  while (off < frame.size()) {
    ssize_t n = send(fd_.get(), frame.data() + off, frame.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error::FromErrno("sending to the guest");
    off += static_cast<size_t>(n);
  }
  return Ok();
}

Status Peer::SendStdin(uint32_t channel, const std::string& data, int64_t deadline_ms) {
  size_t off = 0;
  while (off < data.size()) {
    ChannelLog& c = channels[channel];
    size_t n = std::min<size_t>({data.size() - off, c.stdin_window.available(),
                                 vmproto::kMaxDataChunk});
    if (n == 0) {
      if (!Until([&] { return channels[channel].stdin_window.available() > 0; }, deadline_ms)) {
        return Error("no stdin credit from the guest after " + std::to_string(off) + " bytes");
      }
      continue;
    }
    BH_TRY(c.stdin_window.Spend(n));
    vmproto::Data d{channel, Stream::kStdin, {data.begin() + static_cast<ptrdiff_t>(off),
                                              data.begin() + static_cast<ptrdiff_t>(off + n)}};
    BH_TRY(Send(d));
    off += n;
    // Keep taking the guest's output so neither side waits on the other.
    ReadOnce(0);
  }
  return Ok();
}

void Peer::Take(vmproto::Message m) {
  if (auto* h = std::get_if<vmproto::Hello>(&m)) {
    hello = *h;
  } else if (auto* s = std::get_if<vmproto::Started>(&m)) {
    channels[s->channel].pid = s->pid;
  } else if (auto* d = std::get_if<vmproto::Data>(&m)) {
    ChannelLog& c = channels[d->channel];
    vmproto::FlowWindow& w = c.out_windows[static_cast<size_t>(d->stream)];
    if (Status st = w.Spend(d->bytes.size()); !st.ok() && failure_.empty()) {
      failure_ = "guest overran its window: " + st.error().message();
    }
    (d->stream == Stream::kStdout ? c.out : c.err).append(d->bytes.begin(), d->bytes.end());
    // The bytes are consumed at once; credit goes back in the protocol's batches.
    if (uint32_t credit = w.Drained(d->bytes.size()); credit > 0) {
      (void)Send(vmproto::Credit{d->channel, d->stream, credit});
    }
  } else if (auto* e = std::get_if<vmproto::Exit>(&m)) {
    channels[e->channel].exit = *e;
  } else if (auto* r = std::get_if<vmproto::StatsReply>(&m)) {
    stats[r->id] = *r;
  } else if (auto* c = std::get_if<vmproto::Credit>(&m)) {
    if (Status st = channels[c->channel].stdin_window.Grant(c->bytes); !st.ok() && failure_.empty()) {
      failure_ = "guest credit: " + st.error().message();
    }
  } else if (auto* g = std::get_if<vmproto::GuestError>(&m)) {
    channels[g->channel].errors.push_back(*g);
  }
}

void Peer::ReadOnce(int timeout_ms) {
  if (eof_) return;
  struct pollfd p {fd_.get(), POLLIN, 0};
  if (poll(&p, 1, timeout_ms) != 1) return;
  uint8_t buf[65536];
  ssize_t n = read(fd_.get(), buf, sizeof buf);
  if (n < 0 && errno == EINTR) return;
  if (n <= 0) {
    eof_ = true;
    return;
  }
  if (Status st = decoder_.Feed({buf, static_cast<size_t>(n)}); !st.ok()) {
    if (failure_.empty()) failure_ = st.error().message();
    eof_ = true;
    return;
  }
  while (std::optional<vmproto::Message> m = decoder_.Next()) Take(std::move(*m));
}

bool Peer::Until(const std::function<bool()>& done, int64_t deadline_ms) {
  while (!done()) {
    if (eof_) return false;
    int64_t left = deadline_ms - NowMs();
    if (left <= 0) return false;
    ReadOnce(static_cast<int>(std::min<int64_t>(left, 1000)));
  }
  return true;
}

bool Peer::UntilEof(int64_t deadline_ms) {
  Until([] { return false; }, deadline_ms);
  return eof_;
}

}  // namespace bulkhead::vminit::testing
