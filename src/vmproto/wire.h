// The byte layout of the host<->guest protocol of the VM tier (docs/vm-protocol.md): the
// frame header, the type numbers, every limit, and little-endian field access. Everything a
// receiver checks is a named constant here, so the spec and the code cannot drift apart.
#pragma once

#include <cstddef>
#include <cstdint>

namespace bulkhead::vmproto {

// Bumped on any change to the wire format; host and guest ship together, so a receiver
// accepts exactly its own version and names the other when they differ.
inline constexpr uint8_t kVersion = 2;

// Two bytes no text starts with, so console noise on the port fails at the first frame.
inline constexpr uint8_t kMagic0 = 0xBE;
inline constexpr uint8_t kMagic1 = 0x1D;

// magic[2] | version u8 | type u8 | channel u32 | payload length u32, all little-endian.
inline constexpr size_t kHeaderSize = 12;

// Channel 0 is the guest as a whole (hello, stats); 1 is the container's process; exec'd
// processes take 2..kMaxChannel, chosen by the host. The bound keeps per-channel tables small.
inline constexpr uint32_t kControlChannel = 0;
inline constexpr uint32_t kMainChannel = 1;
inline constexpr uint32_t kFirstExecChannel = 2;
inline constexpr uint32_t kMaxChannel = 0xFFFF;

enum class Type : uint8_t {
  // host -> guest
  kStart = 0x01,         // the container's process: spec JSON, channel 1
  kExec = 0x02,          // an extra process: spec JSON, a new channel >= 2
  kStdin = 0x03,         // bytes for a process's stdin
  kCloseStdin = 0x04,    // no more stdin on that channel
  kSignal = 0x05,        // signo for a process
  kResize = 0x06,        // terminal rows and cols
  kStatsRequest = 0x07,  // request id
  kHostCredit = 0x08,    // the guest may send that many more stdout or stderr bytes
  // guest -> host
  kHello = 0x41,        // init is up: version, kernel release
  kStarted = 0x42,      // a process runs: pid
  kStdout = 0x43,       // bytes a process wrote to stdout
  kStderr = 0x44,       // bytes a process wrote to stderr
  kExit = 0x45,         // a process ended: code or signal
  kStatsReply = 0x46,   // request id, cpu ns, memory bytes, pids
  kGuestCredit = 0x47,  // the host may send that many more stdin bytes
  kGuestError = 0x48,   // something failed in the guest: errno and text
  kVolumeEntry = 0x49,  // a writable volume's changed entry: directory, file, removal
  kVolumeData = 0x4A,   // the bytes of the file the last volume-entry announced
};

// Payload limits. Fixed layouts have exactly this size; the others at most it.
inline constexpr size_t kMaxSpecJson = size_t{1} << 20;  // start, exec
inline constexpr size_t kMaxDataChunk = 32 * 1024;       // stdin, stdout, stderr
inline constexpr size_t kMaxReleaseText = 64;            // utsname.release without its NUL
inline constexpr size_t kMaxErrorText = 1024;
inline constexpr size_t kHelloFixed = 8;        // version u32, flags u32, then the release
inline constexpr size_t kGuestErrorFixed = 8;   // errno u32, reserved u32, then the text
inline constexpr size_t kSignalSize = 4;        // signo u32
inline constexpr size_t kResizeSize = 4;        // rows u16, cols u16
inline constexpr size_t kStatsRequestSize = 4;  // id u32
inline constexpr size_t kCreditSize = 8;        // stream u8, reserved u8[3], bytes u32
inline constexpr size_t kStartedSize = 8;       // pid u32, reserved u32
inline constexpr size_t kExitSize = 8;          // kind u8, flags u8, reserved u16, value u32
inline constexpr size_t kStatsReplySize = 32;   // id u32, reserved u32, cpu_ns, memory, pids u64
// volume u8, kind u8, reserved u16, mode u32, size u64, then the path.
inline constexpr size_t kVolumeEntryFixed = 16;
inline constexpr size_t kMaxVolumePath = 4096;  // Linux PATH_MAX, its NUL left out

// The largest frame each side can receive; a decoder never buffers more than this.
inline constexpr size_t kMaxFrameFromHost = kHeaderSize + kMaxSpecJson;
inline constexpr size_t kMaxFrameFromGuest = kHeaderSize + kMaxDataChunk;

// Value ranges the receiver enforces.
inline constexpr uint32_t kMaxSignal = 64;    // Linux _NSIG - 1
inline constexpr uint32_t kMaxPid = 4194304;  // Linux PID_MAX_LIMIT
inline constexpr uint32_t kMaxErrno = 4095;   // the kernel's -MAX_ERRNO range
inline constexpr uint8_t kExitExited = 1;
inline constexpr uint8_t kExitSignaled = 2;
inline constexpr uint8_t kExitFlagCoreDumped = 0x01;
// Writable volumes are numbered as the monitor's disks vol0..vol7 name them.
inline constexpr uint32_t kMaxVolumes = 8;
inline constexpr uint32_t kMaxVolumeMode = 07777;
// A file's size as the guest announces it; the monitor bounds each volume far lower.
inline constexpr uint64_t kMaxVolumeFile = uint64_t{1} << 40;
// A writable volume of N MiB holds at most N * this many entries (the guest's tmpfs for it has
// one inode per 4 KiB), and the monitor takes no more back.
inline constexpr uint64_t kVolumeEntriesPerMib = 256;

// Flow control (per channel and stream): the sender starts with kInitialWindow bytes of
// credit; credit the receiver grants may never lift the unspent window above kMaxWindow.
inline constexpr uint32_t kInitialWindow = 64 * 1024;
inline constexpr uint32_t kMaxWindow = 1024 * 1024;

struct Header {
  uint8_t version = kVersion;
  uint8_t type = 0;
  uint32_t channel = 0;
  uint32_t length = 0;
};

inline uint16_t LoadLe16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
inline uint32_t LoadLe32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}
inline uint64_t LoadLe64(const uint8_t* p) {
  return static_cast<uint64_t>(LoadLe32(p)) | (static_cast<uint64_t>(LoadLe32(p + 4)) << 32);
}
inline void StoreLe16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}
inline void StoreLe32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline void StoreLe64(uint8_t* p, uint64_t v) {
  StoreLe32(p, static_cast<uint32_t>(v));
  StoreLe32(p + 4, static_cast<uint32_t>(v >> 32));
}

}  // namespace bulkhead::vmproto
