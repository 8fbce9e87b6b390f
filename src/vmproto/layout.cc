#include "vmproto/layout.h"

#include <string>

namespace bulkhead::vmproto {

namespace {

void Put8(std::vector<uint8_t>& out, uint8_t v) { out.push_back(v); }
void Put16(std::vector<uint8_t>& out, uint16_t v) {
  uint8_t b[2];
  StoreLe16(b, v);
  out.insert(out.end(), b, b + 2);
}
void Put32(std::vector<uint8_t>& out, uint32_t v) {
  uint8_t b[4];
  StoreLe32(b, v);
  out.insert(out.end(), b, b + 4);
}
void Put64(std::vector<uint8_t>& out, uint64_t v) {
  uint8_t b[8];
  StoreLe64(b, v);
  out.insert(out.end(), b, b + 8);
}
void PutText(std::vector<uint8_t>& out, const std::string& s) {
  out.insert(out.end(), s.begin(), s.end());
}

std::string Text(std::span<const uint8_t> bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

bool AllZero(std::span<const uint8_t> bytes) {
  for (uint8_t b : bytes) {
    if (b != 0) return false;
  }
  return true;
}

Status NeedZero(Type type, std::span<const uint8_t> bytes, std::string_view field) {
  if (AllZero(bytes)) return Ok();
  return Error(std::string(TypeName(type)) + " " + std::string(field) + " is not zero");
}

Result<Stream> ParseStream(Type type, uint8_t v) {
  if (v > static_cast<uint8_t>(Stream::kStderr)) {
    return Error(std::string(TypeName(type)) + " stream " + std::to_string(v) + " is unknown");
  }
  return static_cast<Stream>(v);
}

Result<Message> ParseCredit(Type type, uint32_t channel, const uint8_t* p) {
  BH_ASSIGN(Stream stream, ParseStream(type, p[0]));
  // Each end grants credit only for what it receives: the guest for stdin, the host for
  // stdout and stderr.
  if ((stream == Stream::kStdin) != (type == Type::kGuestCredit)) {
    return Error(std::string(TypeName(type)) + " names stream " + std::to_string(p[0]) +
                 ", which its sender does not read");
  }
  BH_TRY(NeedZero(type, {p + 1, 3}, "reserved bytes"));
  return Message(Credit{channel, stream, LoadLe32(p + 4)});
}

Result<Message> ParseExit(uint32_t channel, const uint8_t* p) {
  if (p[0] != kExitExited && p[0] != kExitSignaled) {
    return Error("exit kind " + std::to_string(p[0]) + " is unknown");
  }
  if ((p[1] & ~kExitFlagCoreDumped) != 0) {
    return Error("exit flags " + std::to_string(p[1]) + " hold unknown bits");
  }
  BH_TRY(NeedZero(Type::kExit, {p + 2, 2}, "reserved bytes"));
  return Message(Exit{channel, static_cast<ExitKind>(p[0]), LoadLe32(p + 4),
                      (p[1] & kExitFlagCoreDumped) != 0});
}

}  // namespace

void AppendPayload(const Message& m, std::vector<uint8_t>& out) {
  struct Visitor {
    std::vector<uint8_t>& out;
    void operator()(const Start& s) const { PutText(out, s.spec_json); }
    void operator()(const Exec& e) const { PutText(out, e.spec_json); }
    void operator()(const Data& d) const { out.insert(out.end(), d.bytes.begin(), d.bytes.end()); }
    void operator()(const CloseStdin&) const {}
    void operator()(const Signal& s) const { Put32(out, s.signo); }
    void operator()(const Resize& r) const {
      Put16(out, r.rows);
      Put16(out, r.cols);
    }
    void operator()(const StatsRequest& r) const { Put32(out, r.id); }
    void operator()(const Credit& c) const {
      Put8(out, static_cast<uint8_t>(c.stream));
      out.insert(out.end(), 3, 0);
      Put32(out, c.bytes);
    }
    void operator()(const Hello& h) const {
      Put32(out, h.version);
      Put32(out, 0);  // flags: none defined
      PutText(out, h.kernel_release);
    }
    void operator()(const Started& s) const {
      Put32(out, s.pid);
      Put32(out, 0);
    }
    void operator()(const Exit& x) const {
      Put8(out, static_cast<uint8_t>(x.kind));
      Put8(out, x.core_dumped ? kExitFlagCoreDumped : 0);
      Put16(out, 0);
      Put32(out, x.value);
    }
    void operator()(const StatsReply& r) const {
      Put32(out, r.id);
      Put32(out, 0);
      Put64(out, r.cpu_ns);
      Put64(out, r.memory_bytes);
      Put64(out, r.pids);
    }
    void operator()(const GuestError& g) const {
      Put32(out, g.err);
      Put32(out, 0);
      PutText(out, g.text);
    }
    void operator()(const VolumeEntry& v) const {
      Put8(out, static_cast<uint8_t>(v.volume));
      Put8(out, static_cast<uint8_t>(v.kind));
      Put16(out, 0);
      Put32(out, v.mode);
      Put64(out, v.size);
      PutText(out, v.path);
    }
    void operator()(const VolumeData& d) const { out.insert(out.end(), d.bytes.begin(), d.bytes.end()); }
  };
  std::visit(Visitor{out}, m);
}

Result<Message> ParsePayload(Type type, uint32_t channel, std::span<const uint8_t> payload) {
  if (!IsKnownType(static_cast<uint8_t>(type))) {
    return Error("type " + std::to_string(static_cast<unsigned>(type)) + " is unknown");
  }
  // The decoder checked the size against the type already; checked again here because the
  // fixed-offset reads below rely on it.
  if (payload.size() < MinPayload(type) || payload.size() > MaxPayload(type)) {
    return Error(std::string(TypeName(type)) + " payload of " + std::to_string(payload.size()) +
                 " bytes is outside " + std::to_string(MinPayload(type)) + ".." +
                 std::to_string(MaxPayload(type)));
  }
  const uint8_t* p = payload.data();
  switch (type) {
    case Type::kStart:
      return Message(Start{Text(payload)});
    case Type::kExec:
      return Message(Exec{channel, Text(payload)});
    case Type::kStdin:
    case Type::kStdout:
    case Type::kStderr: {
      Stream s = type == Type::kStdin    ? Stream::kStdin
                 : type == Type::kStdout ? Stream::kStdout
                                         : Stream::kStderr;
      return Message(Data{channel, s, {payload.begin(), payload.end()}});
    }
    case Type::kCloseStdin:
      return Message(CloseStdin{channel});
    case Type::kSignal:
      return Message(Signal{channel, LoadLe32(p)});
    case Type::kResize:
      return Message(Resize{channel, LoadLe16(p), LoadLe16(p + 2)});
    case Type::kStatsRequest:
      return Message(StatsRequest{LoadLe32(p)});
    case Type::kHostCredit:
    case Type::kGuestCredit:
      return ParseCredit(type, channel, p);
    case Type::kHello: {
      uint32_t flags = LoadLe32(p + 4);
      if (flags != 0) return Error("hello flags " + std::to_string(flags) + " hold unknown bits");
      return Message(Hello{LoadLe32(p), Text(payload.subspan(kHelloFixed))});
    }
    case Type::kStarted:
      BH_TRY(NeedZero(type, payload.subspan(4), "reserved bytes"));
      return Message(Started{channel, LoadLe32(p)});
    case Type::kExit:
      return ParseExit(channel, p);
    case Type::kStatsReply:
      BH_TRY(NeedZero(type, payload.subspan(4, 4), "reserved bytes"));
      return Message(StatsReply{LoadLe32(p), LoadLe64(p + 8), LoadLe64(p + 16), LoadLe64(p + 24)});
    case Type::kGuestError:
      BH_TRY(NeedZero(type, payload.subspan(4, 4), "reserved bytes"));
      return Message(GuestError{channel, LoadLe32(p), Text(payload.subspan(kGuestErrorFixed))});
    case Type::kVolumeEntry:
      // The kind, mode, size and path rules are CheckMessage's.
      BH_TRY(NeedZero(type, payload.subspan(2, 2), "reserved bytes"));
      return Message(VolumeEntry{p[0], static_cast<EntryKind>(p[1]), LoadLe32(p + 4), LoadLe64(p + 8),
                                 Text(payload.subspan(kVolumeEntryFixed))});
    case Type::kVolumeData:
      return Message(VolumeData{{payload.begin(), payload.end()}});
  }
  return Error("type " + std::string(TypeName(type)) + " has no layout");
}

}  // namespace bulkhead::vmproto
