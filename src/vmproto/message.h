// The typed messages of the host<->guest protocol, one struct per frame type, and the rules
// on their values that both the encoder and the decoder enforce (docs/vm-protocol.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/result.h"
#include "vmproto/wire.h"

namespace bulkhead::vmproto {

// Who sent the bytes. Everything from the guest is hostile input for the host.
enum class Direction : uint8_t { kHostToGuest, kGuestToHost };

// The process's standard streams, numbered as their descriptors.
enum class Stream : uint8_t { kStdin = 0, kStdout = 1, kStderr = 2 };

enum class ExitKind : uint8_t { kExited = kExitExited, kSignaled = kExitSignaled };

// host -> guest. The spec is JSON the guest parses (it trusts the host): the OCI process and
// whatever else it needs to run it. Start is always on kMainChannel.
struct Start {
  std::string spec_json;
  bool operator==(const Start&) const = default;
};
struct Exec {
  uint32_t channel = 0;  // a new channel, 2..kMaxChannel
  std::string spec_json;
  bool operator==(const Exec&) const = default;
};
// stdin (host -> guest), stdout and stderr (guest -> host); 1..kMaxDataChunk bytes.
struct Data {
  uint32_t channel = 0;
  Stream stream = Stream::kStdin;
  std::vector<uint8_t> bytes;
  bool operator==(const Data&) const = default;
};
struct CloseStdin {
  uint32_t channel = 0;
  bool operator==(const CloseStdin&) const = default;
};
struct Signal {
  uint32_t channel = 0;
  uint32_t signo = 0;  // 1..kMaxSignal
  bool operator==(const Signal&) const = default;
};
struct Resize {
  uint32_t channel = 0;
  uint16_t rows = 0;
  uint16_t cols = 0;
  bool operator==(const Resize&) const = default;
};
struct StatsRequest {
  uint32_t id = 0;  // echoed by the reply
  bool operator==(const StatsRequest&) const = default;
};
// Flow control: the receiver of a stream lets its sender send `bytes` more. The host grants
// stdout and stderr credit, the guest grants stdin credit.
struct Credit {
  uint32_t channel = 0;
  Stream stream = Stream::kStdin;
  uint32_t bytes = 0;  // 1..kMaxWindow
  bool operator==(const Credit&) const = default;
};

// guest -> host.
struct Hello {
  uint32_t version = kVersion;
  std::string kernel_release;  // 1..kMaxReleaseText printable ASCII
  bool operator==(const Hello&) const = default;
};
struct Started {
  uint32_t channel = 0;
  uint32_t pid = 0;  // 1..kMaxPid, in the guest's pid namespace
  bool operator==(const Started&) const = default;
};
struct Exit {
  uint32_t channel = 0;
  ExitKind kind = ExitKind::kExited;
  uint32_t value = 0;        // the exit code 0..255, or the signal 1..kMaxSignal
  bool core_dumped = false;  // only with kSignaled
  bool operator==(const Exit&) const = default;
};
struct StatsReply {
  uint32_t id = 0;
  uint64_t cpu_ns = 0;
  uint64_t memory_bytes = 0;
  uint64_t pids = 0;  // 0..kMaxPid
  bool operator==(const StatsReply&) const = default;
};
struct GuestError {
  uint32_t channel = 0;  // 0: the guest as a whole
  uint32_t err = 0;      // an errno 0..kMaxErrno, 0 when none applies
  std::string text;      // 1..kMaxErrorText printable ASCII
  bool operator==(const GuestError&) const = default;
};

// Writable volumes (docs/vm-tier.md, "Volumes"): once the container's process has exited, and
// before its exit frame, the guest sends what changed in each writable volume, one entry per
// path (parents first), on channel 1. A file's entry is followed by exactly `size` bytes of
// volume-data.
enum class EntryKind : uint8_t {
  kDirectory = 1,        // make sure a directory is there
  kOpaqueDirectory = 2,  // a directory that replaced whatever was there: emptied first
  kFile = 3,             // a regular file, rewritten whole
  kRemoved = 4,          // the path was deleted
};
struct VolumeEntry {
  uint32_t volume = 0;  // 0..kMaxVolumes-1
  EntryKind kind = EntryKind::kDirectory;
  uint32_t mode = 0;    // permission bits 0..07777 (directories and files)
  uint64_t size = 0;    // files only: the bytes that follow
  std::string path;     // relative, '/'-separated; no empty, "." or ".." component
  bool operator==(const VolumeEntry&) const = default;
};
struct VolumeData {
  std::vector<uint8_t> bytes;  // 1..kMaxDataChunk
  bool operator==(const VolumeData&) const = default;
};

using Message = std::variant<Start, Exec, Data, CloseStdin, Signal, Resize, StatsRequest, Credit,
                             Hello, Started, Exit, StatsReply, GuestError, VolumeEntry, VolumeData>;

// What the table in message.cc knows of each type.
std::string_view TypeName(Type type);
bool IsKnownType(uint8_t type);
Direction SenderOf(Type type);
std::string_view DirectionName(Direction from);  // "host", "guest": who sent it

Type TypeOf(const Message& m);
uint32_t ChannelOf(const Message& m);

// The payload size range of a type (equal for fixed layouts).
size_t MinPayload(Type type);
size_t MaxPayload(Type type);

// Fails when `channel` is not one this type may carry ("exec on channel 1 (must be 2..)").
Status CheckChannel(Type type, uint32_t channel);
// Every rule on the message's values: channel, ranges, text, sizes. The decoder applies it to
// what it parsed and the encoder to what it is given, so neither side emits what the other
// rejects.
Status CheckMessage(const Message& m);

// A volume path as volume-entry carries it: 1..kMaxVolumePath bytes, no NUL, relative, and no
// empty, "." or ".." component. The receiver resolves it beneath the volume alone.
Status CheckVolumePath(std::string_view path);

// Printable ASCII (0x20..0x7e), cut to `max` bytes, anything else replaced by '?': what
// the guest puts in text fields so they are safe to print on the host. Empty becomes "?".
std::string PrintableText(std::string_view text, size_t max);
Hello MakeHello(std::string_view kernel_release);
GuestError MakeGuestError(uint32_t channel, int err, std::string_view text);

// From waitpid's status (guest side), and the shell-style status 0..255 or 128+signal that
// the host's process exits with.
Exit ExitFromWaitStatus(uint32_t channel, int wait_status);
int ShellStatus(const Exit& exit);

}  // namespace bulkhead::vmproto
