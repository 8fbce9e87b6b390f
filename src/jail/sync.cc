#include "jail/sync.h"

#include <sys/socket.h>

#include <cstring>

#include "base/scm.h"

namespace bulkhead::jail {

namespace {

struct Header {
  uint8_t kind;
  uint8_t pad[3];
  int32_t err;
};

}  // namespace

Result<std::pair<UniqueFd, UniqueFd>> SyncPair() {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    return Error::FromErrno("creating the sync socketpair");
  }
  return std::make_pair(UniqueFd(sv[0]), UniqueFd(sv[1]));
}

Status SendSync(int sock, SyncKind kind, std::string_view text, int err, int fd) {
  if (text.size() > kSyncMaxText) text = text.substr(0, kSyncMaxText);
  std::string buf(sizeof(Header) + text.size(), '\0');
  Header h{static_cast<uint8_t>(kind), {}, err};
  memcpy(buf.data(), &h, sizeof h);
  // An empty view may hold a null pointer, which memcpy must not be given even for 0 bytes.
  if (!text.empty()) memcpy(buf.data() + sizeof h, text.data(), text.size());
  return SendWithFd(sock, buf, fd);
}

Result<SyncMsg> RecvSync(int sock) {
  BH_ASSIGN(Received r, RecvWithFd(sock, sizeof(Header) + kSyncMaxText));
  SyncMsg msg;
  if (r.payload.empty()) return msg;  // EOF
  if (r.payload.size() < sizeof(Header)) return Error("short sync message", EPROTO);
  Header h;
  memcpy(&h, r.payload.data(), sizeof h);
  if (h.kind < 1 || h.kind > static_cast<uint8_t>(SyncKind::kHooks)) {
    return Error("unknown sync message " + std::to_string(h.kind), EPROTO);
  }
  msg.kind = static_cast<SyncKind>(h.kind);
  msg.err = h.err;
  msg.text = r.payload.substr(sizeof h);
  msg.fd = std::move(r.fd);
  return msg;
}

}  // namespace bulkhead::jail
