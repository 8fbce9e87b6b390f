// What one micro-VM is made of, from a JSON file and/or command-line flags.
// Everything is checked here, before any resource is taken: unknown keys,
// contradictions and out-of-range values are errors that name the setting.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace bulkhead::vmm {

inline constexpr uint32_t kMaxVcpus = 32;
inline constexpr uint64_t kMinMemoryMib = 32;
inline constexpr uint64_t kMaxMemoryMib = 256 * 1024;
inline constexpr size_t kMaxDisks = 8;
inline constexpr size_t kMaxDiskIdBytes = 20;  // virtio-blk GET_ID returns 20 bytes

struct DiskConfig {
  std::string id;
  std::string path;
  bool read_only = false;
};

struct SerialConfig {
  enum class Output { kStdout, kFile, kNone };
  Output output = Output::kStdout;
  std::string path;  // for kFile
  bool input = false;  // read the guest's serial input from stdin
};

struct ConsoleConfig {
  std::string socket;  // connect to this Unix stream socket ...
  int fd = -1;         // ... or use this inherited fd (both ways)
};

// A writable volume the guest writes back in agent mode (docs/vmm.md, "Write-back"): the
// guest names it `volume`; the monitor writes what it sends beneath `path` (a directory, or
// the one regular file), at most `max_mib` MiB of file bytes.
inline constexpr uint32_t kMaxWritebackVolumes = 8;
inline constexpr uint64_t kMaxWritebackMib = 1u << 20;
struct WritebackConfig {
  uint32_t volume = 0;
  std::string path;
  uint64_t max_mib = 0;
};

// Agent mode (docs/vmm.md): the virtio-console port carries the host<->guest protocol, which
// the monitor terminates itself, serving host clients on a Unix socket it creates at `socket`.
struct AgentConfig {
  std::string socket;
  // The monitor's stdin is the workload's terminal (a pty slave that is its controlling
  // terminal): its size goes to the guest at start and on every SIGWINCH.
  bool tty = false;
  std::vector<WritebackConfig> writeback;
};

struct VmConfig {
  std::string kernel;
  std::string initrd;
  std::string cmdline = "console=ttyS0 quiet";
  uint32_t vcpus = 1;
  uint64_t memory_mib = 128;
  std::vector<DiskConfig> disks;
  SerialConfig serial;
  std::optional<ConsoleConfig> console;
  std::optional<AgentConfig> agent;
  bool rng = false;
  bool jail = true;  // enter namespaces, drop privileges, seccomp (off only for debugging)
  // Proof that a thread's seccomp list is installed: that thread makes a
  // forbidden system call right after installing it (--seccomp-selftest).
  enum class SelfTest { kNone, kVcpu, kEventLoop };
  SelfTest seccomp_selftest = SelfTest::kNone;
};

// Parses a JSON document into `config`, on top of what it holds.
Status ApplyJson(std::string_view json, VmConfig* config);

// "id=root,path=/x.img,ro" (also "readonly", "read_only=true").
Result<DiskConfig> ParseDiskFlag(std::string_view flag);
// "volume=N,max_mib=M,path=PATH": everything after "path=" is the path, commas included.
Result<WritebackConfig> ParseWritebackFlag(std::string_view flag);
// "stdout", "none", "file:PATH".
Result<SerialConfig> ParseSerialFlag(std::string_view flag);
// "socket:PATH" or "fd:N".
Result<ConsoleConfig> ParseConsoleFlag(std::string_view flag);

// Checks the whole configuration for missing and contradictory settings.
Status Validate(const VmConfig& config);

}  // namespace bulkhead::vmm
