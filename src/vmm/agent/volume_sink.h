// Writable volumes in agent mode (docs/vmm.md, "Write-back"): the monitor applies what the
// guest reports changed in a volume (volume-entry and volume-data frames) to the volume's
// host directory or file, which it opened before its jail.
//
// The guest is hostile, so its paths are resolved beneath the volume only, by the kernel
// (openat2 with RESOLVE_BENEATH, no symlinks, no other mounts), one parent directory at a
// time; the monitor only ever makes directories and regular files (never a symlink, device or
// setuid file) and removes entries; it writes at most each volume's byte and entry bounds.
// A guest that breaks those rules (an unknown volume, data nobody announced, more than its
// bounds) ends the sandbox. Failures on the host side (a full disk, a permission, a path whose
// parent is gone) are reported through `warn` and that entry is skipped: the workload's exit
// status still comes through.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "vmproto/message.h"

namespace bulkhead::vmm::agent {

struct WritebackTarget {
  uint32_t volume = 0;    // the number the guest names it by
  std::string host_path;  // for messages only
  // A directory (opened O_PATH | O_DIRECTORY), or the regular file itself (O_WRONLY).
  UniqueFd fd;
  bool file = false;
  std::string file_name;  // a file volume: the only path the guest may name
  uint64_t max_bytes = 0;    // file bytes all its entries together may carry
  uint64_t max_entries = 0;  // entries of any kind
};

// Descriptors the write-back holds at once (a parent directory, the entry, a listing): the
// jail's RLIMIT_NOFILE leaves this much more room when the VM has writable volumes.
inline constexpr int kWritebackFds = 3;

// How many host-side failures are reported one by one before the rest are only counted.
inline constexpr size_t kMaxWarnings = 16;

class VolumeSink {
 public:
  using Warn = std::function<void(const std::string&)>;

  VolumeSink(std::vector<WritebackTarget> targets, Warn warn);

  // Errors mean the guest broke the rules.
  Status OnEntry(const vmproto::VolumeEntry& e);
  Status OnData(std::span<const uint8_t> bytes);
  // The guest is done with every volume (its main exit came): a file half sent breaks the rules.
  // Also reports how many host-side failures went unreported one by one.
  Status Finish();

  size_t failures() const { return failures_; }

 private:
  struct Target {
    WritebackTarget config;
    uint64_t bytes = 0;
    uint64_t entries = 0;
  };
  // The file whose bytes are arriving.
  struct Pending {
    Target* target = nullptr;
    std::string path;
    uint64_t left = 0;
    uint64_t offset = 0;
    UniqueFd owned;  // a directory volume's file, opened for this entry
    int fd = -1;     // where the bytes go; -1 when writing failed (they are still taken in)
  };

  Target* Find(uint32_t volume);
  void Fail(const Target& t, const std::string& path, const Error& e);
  Status Apply(Target& t, const vmproto::VolumeEntry& e);
  Status StartFile(Target& t, const vmproto::VolumeEntry& e);
  void EndFileIfDone();

  std::vector<Target> targets_;
  Warn warn_;
  Pending pending_;
  bool pending_open_ = false;
  size_t failures_ = 0;
};

}  // namespace bulkhead::vmm::agent
