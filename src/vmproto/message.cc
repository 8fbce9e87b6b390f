#include "vmproto/message.h"

#include <sys/wait.h>

#include <array>
#include <string>
#include <type_traits>

namespace bulkhead::vmproto {

namespace {

// Which channels a type may name.
enum class ChannelRule : uint8_t {
  kControl,  // 0
  kMain,     // 1
  kExec,     // 2..kMaxChannel
  kProcess,  // 1..kMaxChannel
  kAny,      // 0..kMaxChannel
};

struct TypeInfo {
  Type type;
  std::string_view name;
  Direction from;
  ChannelRule channels;
  size_t min_payload;
  size_t max_payload;
};

constexpr Direction kH = Direction::kHostToGuest;
constexpr Direction kG = Direction::kGuestToHost;

// One row per type: the whole of what the header check needs.
constexpr std::array<TypeInfo, 18> kTypes = {{
    {Type::kStart, "start", kH, ChannelRule::kMain, 1, kMaxSpecJson},
    {Type::kExec, "exec", kH, ChannelRule::kExec, 1, kMaxSpecJson},
    {Type::kStdin, "stdin", kH, ChannelRule::kProcess, 1, kMaxDataChunk},
    {Type::kCloseStdin, "close-stdin", kH, ChannelRule::kProcess, 0, 0},
    {Type::kSignal, "signal", kH, ChannelRule::kProcess, kSignalSize, kSignalSize},
    {Type::kResize, "resize", kH, ChannelRule::kProcess, kResizeSize, kResizeSize},
    {Type::kStatsRequest, "stats-request", kH, ChannelRule::kControl, kStatsRequestSize,
     kStatsRequestSize},
    {Type::kHostCredit, "host-credit", kH, ChannelRule::kProcess, kCreditSize, kCreditSize},
    {Type::kHello, "hello", kG, ChannelRule::kControl, kHelloFixed + 1,
     kHelloFixed + kMaxReleaseText},
    {Type::kStarted, "started", kG, ChannelRule::kProcess, kStartedSize, kStartedSize},
    {Type::kStdout, "stdout", kG, ChannelRule::kProcess, 1, kMaxDataChunk},
    {Type::kStderr, "stderr", kG, ChannelRule::kProcess, 1, kMaxDataChunk},
    {Type::kExit, "exit", kG, ChannelRule::kProcess, kExitSize, kExitSize},
    {Type::kStatsReply, "stats-reply", kG, ChannelRule::kControl, kStatsReplySize, kStatsReplySize},
    {Type::kGuestCredit, "guest-credit", kG, ChannelRule::kProcess, kCreditSize, kCreditSize},
    {Type::kGuestError, "guest-error", kG, ChannelRule::kAny, kGuestErrorFixed + 1,
     kGuestErrorFixed + kMaxErrorText},
    {Type::kVolumeEntry, "volume-entry", kG, ChannelRule::kMain, kVolumeEntryFixed + 1,
     kVolumeEntryFixed + kMaxVolumePath},
    {Type::kVolumeData, "volume-data", kG, ChannelRule::kMain, 1, kMaxDataChunk},
}};

const TypeInfo* Find(uint8_t type) {
  for (const TypeInfo& t : kTypes) {
    if (static_cast<uint8_t>(t.type) == type) return &t;
  }
  return nullptr;
}

// A Type cast from a number no row has: no channel or length passes it.
constexpr TypeInfo kUnknown = {Type{0}, "unknown", kH, ChannelRule::kControl, 1, 0};

const TypeInfo& Info(Type type) {
  const TypeInfo* t = Find(static_cast<uint8_t>(type));
  return t != nullptr ? *t : kUnknown;
}

bool Printable(std::string_view text) {
  for (char c : text) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

// Data, specs and text: 1..max bytes; empty ones have no meaning on the wire.
Status CheckSize(const std::string& what, size_t size, size_t max) {
  if (size >= 1 && size <= max) return Ok();
  return Error(what + " is " + std::to_string(size) + " bytes (must be 1.." + std::to_string(max) +
               ")");
}

Status CheckText(const std::string& what, std::string_view text, size_t max) {
  BH_TRY(CheckSize(what, text.size(), max));
  if (!Printable(text)) return Error(what + " holds bytes outside printable ASCII");
  return Ok();
}

Status CheckStream(Type type, Stream stream) {
  bool ok = type == Type::kGuestCredit ? stream == Stream::kStdin
                                       : stream == Stream::kStdout || stream == Stream::kStderr;
  if (ok) return Ok();
  return Error(std::string(TypeName(type)) + " names stream " +
               std::to_string(static_cast<unsigned>(stream)) + ", which its sender does not read");
}

Status CheckVolumeEntry(const VolumeEntry& v) {
  if (v.volume >= kMaxVolumes) {
    return Error("volume-entry names volume " + std::to_string(v.volume) + " (must be 0.." +
                 std::to_string(kMaxVolumes - 1) + ")");
  }
  const auto kind = static_cast<uint8_t>(v.kind);
  if (kind < static_cast<uint8_t>(EntryKind::kDirectory) ||
      kind > static_cast<uint8_t>(EntryKind::kRemoved)) {
    return Error("volume-entry kind " + std::to_string(kind) + " is unknown");
  }
  if (v.mode > kMaxVolumeMode) return Error("volume-entry mode " + std::to_string(v.mode) + " is over 07777");
  if (v.kind == EntryKind::kRemoved && v.mode != 0) return Error("volume-entry removal carries a mode");
  if (v.kind != EntryKind::kFile && v.size != 0) return Error("volume-entry size on a non-file");
  if (v.size > kMaxVolumeFile) return Error("volume-entry size " + std::to_string(v.size) + " is over 2^40");
  return CheckVolumePath(v.path).Context("volume-entry path");
}

Status CheckFields(const Message& m) {
  Type type = TypeOf(m);
  if (auto* d = std::get_if<Data>(&m)) {
    BH_TRY(CheckSize(std::string(TypeName(type)) + " data", d->bytes.size(), kMaxDataChunk));
  } else if (auto* s = std::get_if<Start>(&m)) {
    BH_TRY(CheckSize("start spec", s->spec_json.size(), kMaxSpecJson));
  } else if (auto* e = std::get_if<Exec>(&m)) {
    BH_TRY(CheckSize("exec spec", e->spec_json.size(), kMaxSpecJson));
  } else if (auto* sig = std::get_if<Signal>(&m)) {
    if (sig->signo < 1 || sig->signo > kMaxSignal) {
      return Error("signal " + std::to_string(sig->signo) + " is not 1.." +
                   std::to_string(kMaxSignal));
    }
  } else if (auto* c = std::get_if<Credit>(&m)) {
    BH_TRY(CheckStream(type, c->stream));
    if (c->bytes < 1 || c->bytes > kMaxWindow) {
      return Error("credit of " + std::to_string(c->bytes) + " bytes is not 1.." +
                   std::to_string(kMaxWindow));
    }
  } else if (auto* h = std::get_if<Hello>(&m)) {
    if (h->version != kVersion) {
      return Error("hello says protocol version " + std::to_string(h->version) +
                   " (this side speaks " + std::to_string(kVersion) + ")");
    }
    BH_TRY(CheckText("hello kernel release", h->kernel_release, kMaxReleaseText));
  } else if (auto* st = std::get_if<Started>(&m)) {
    if (st->pid < 1 || st->pid > kMaxPid) {
      return Error("started pid " + std::to_string(st->pid) + " is not 1.." +
                   std::to_string(kMaxPid));
    }
  } else if (auto* x = std::get_if<Exit>(&m)) {
    if (x->kind == ExitKind::kExited) {
      if (x->value > 255) return Error("exit code " + std::to_string(x->value) + " is not 0..255");
      if (x->core_dumped) return Error("exit with a code claims a core dump");
    } else if (x->kind == ExitKind::kSignaled) {
      if (x->value < 1 || x->value > kMaxSignal) {
        return Error("exit by signal " + std::to_string(x->value) + ", not 1.." +
                     std::to_string(kMaxSignal));
      }
    } else {
      return Error("exit kind " + std::to_string(static_cast<unsigned>(x->kind)) + " is unknown");
    }
  } else if (auto* r = std::get_if<StatsReply>(&m)) {
    if (r->pids > kMaxPid) {
      return Error("stats-reply pid count " + std::to_string(r->pids) + " is over " +
                   std::to_string(kMaxPid));
    }
  } else if (auto* g = std::get_if<GuestError>(&m)) {
    if (g->err > kMaxErrno) {
      return Error("guest-error errno " + std::to_string(g->err) + " is over " +
                   std::to_string(kMaxErrno));
    }
    BH_TRY(CheckText("guest-error text", g->text, kMaxErrorText));
  } else if (auto* v = std::get_if<VolumeEntry>(&m)) {
    BH_TRY(CheckVolumeEntry(*v));
  } else if (auto* vd = std::get_if<VolumeData>(&m)) {
    BH_TRY(CheckSize("volume-data", vd->bytes.size(), kMaxDataChunk));
  }
  return Ok();
}

}  // namespace

std::string_view TypeName(Type type) { return Info(type).name; }
bool IsKnownType(uint8_t type) { return Find(type) != nullptr; }
Direction SenderOf(Type type) { return Info(type).from; }
size_t MinPayload(Type type) { return Info(type).min_payload; }
size_t MaxPayload(Type type) { return Info(type).max_payload; }

std::string_view DirectionName(Direction from) {
  return from == Direction::kHostToGuest ? "host" : "guest";
}

Type TypeOf(const Message& m) {
  struct Visitor {
    Type operator()(const Start&) const { return Type::kStart; }
    Type operator()(const Exec&) const { return Type::kExec; }
    Type operator()(const Data& d) const {
      if (d.stream == Stream::kStdin) return Type::kStdin;
      return d.stream == Stream::kStdout ? Type::kStdout : Type::kStderr;
    }
    Type operator()(const CloseStdin&) const { return Type::kCloseStdin; }
    Type operator()(const Signal&) const { return Type::kSignal; }
    Type operator()(const Resize&) const { return Type::kResize; }
    Type operator()(const StatsRequest&) const { return Type::kStatsRequest; }
    Type operator()(const Credit& c) const {
      return c.stream == Stream::kStdin ? Type::kGuestCredit : Type::kHostCredit;
    }
    Type operator()(const Hello&) const { return Type::kHello; }
    Type operator()(const Started&) const { return Type::kStarted; }
    Type operator()(const Exit&) const { return Type::kExit; }
    Type operator()(const StatsReply&) const { return Type::kStatsReply; }
    Type operator()(const GuestError&) const { return Type::kGuestError; }
    Type operator()(const VolumeEntry&) const { return Type::kVolumeEntry; }
    Type operator()(const VolumeData&) const { return Type::kVolumeData; }
  };
  return std::visit(Visitor{}, m);
}

uint32_t ChannelOf(const Message& m) {
  return std::visit(
      [](const auto& msg) -> uint32_t {
        using T = std::decay_t<decltype(msg)>;
        if constexpr (std::is_same_v<T, Start> || std::is_same_v<T, VolumeEntry> ||
                      std::is_same_v<T, VolumeData>) {
          return kMainChannel;
        } else if constexpr (std::is_same_v<T, StatsRequest> || std::is_same_v<T, Hello> ||
                             std::is_same_v<T, StatsReply>) {
          return kControlChannel;
        } else {
          return msg.channel;
        }
      },
      m);
}

Status CheckChannel(Type type, uint32_t channel) {
  const TypeInfo& t = Info(type);
  uint32_t lo = 0;
  uint32_t hi = kMaxChannel;
  switch (t.channels) {
    case ChannelRule::kControl:
      hi = kControlChannel;
      break;
    case ChannelRule::kMain:
      lo = hi = kMainChannel;
      break;
    case ChannelRule::kExec:
      lo = kFirstExecChannel;
      break;
    case ChannelRule::kProcess:
      lo = kMainChannel;
      break;
    case ChannelRule::kAny:
      break;
  }
  if (channel >= lo && channel <= hi) return Ok();
  return Error(std::string(t.name) + " on channel " + std::to_string(channel) + " (must be " +
               std::to_string(lo) + (lo == hi ? "" : ".." + std::to_string(hi)) + ")");
}

Status CheckMessage(const Message& m) {
  Type type = TypeOf(m);
  if (const auto* d = std::get_if<Data>(&m); d && d->stream > Stream::kStderr) {
    return Error("data names stream " + std::to_string(static_cast<unsigned>(d->stream)));
  }
  BH_TRY(CheckChannel(type, ChannelOf(m)));
  return CheckFields(m);
}

Status CheckVolumePath(std::string_view path) {
  if (path.empty() || path.size() > kMaxVolumePath) {
    return Error("is " + std::to_string(path.size()) + " bytes (must be 1.." + std::to_string(kMaxVolumePath) + ")");
  }
  if (path.find('\0') != std::string_view::npos) return Error("holds a NUL byte");
  if (path.front() == '/') return Error("is absolute");
  size_t start = 0;
  for (;;) {
    size_t slash = path.find('/', start);
    std::string_view part = path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (part.empty() || part == "." || part == "..") {
      return Error("has an empty, \".\" or \"..\" component");
    }
    if (slash == std::string_view::npos) return Ok();
    start = slash + 1;
  }
}

std::string PrintableText(std::string_view text, size_t max) {
  std::string out(text.substr(0, max));
  for (char& c : out) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  if (out.empty()) out = "?";
  return out;
}

Hello MakeHello(std::string_view kernel_release) {
  return Hello{kVersion, PrintableText(kernel_release, kMaxReleaseText)};
}

GuestError MakeGuestError(uint32_t channel, int err, std::string_view text) {
  uint32_t e = err > 0 && static_cast<uint32_t>(err) <= kMaxErrno ? static_cast<uint32_t>(err) : 0;
  return GuestError{channel, e, PrintableText(text, kMaxErrorText)};
}

Exit ExitFromWaitStatus(uint32_t channel, int wait_status) {
  if (WIFSIGNALED(wait_status)) {
    return Exit{channel, ExitKind::kSignaled, static_cast<uint32_t>(WTERMSIG(wait_status)),
                WCOREDUMP(wait_status) != 0};
  }
  return Exit{channel, ExitKind::kExited, static_cast<uint32_t>(WEXITSTATUS(wait_status)), false};
}

int ShellStatus(const Exit& exit) {
  int value = static_cast<int>(exit.value);
  return exit.kind == ExitKind::kSignaled ? 128 + value : value;
}

}  // namespace bulkhead::vmproto
