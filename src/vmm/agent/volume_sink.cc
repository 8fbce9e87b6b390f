#include "vmm/agent/volume_sink.h"

#include <sys/stat.h>
#include <unistd.h>

#include "base/syscall.h"
#include "vmm/agent/beneath.h"

namespace bulkhead::vmm::agent {

using vmproto::EntryKind;

namespace {

// Never a setuid, setgid or sticky bit on the host: the guest chooses only permissions.
constexpr mode_t kPermissionBits = 0777;
// The monitor has no CAP_DAC_OVERRIDE: a directory it makes keeps rwx for its owner (the
// monitor's user), or what the guest put below a directory of mode 0500 could not follow.
constexpr mode_t kOwnerDirBits = 0700;

std::string Name(uint32_t volume) { return "volume " + std::to_string(volume); }

}  // namespace

VolumeSink::VolumeSink(std::vector<WritebackTarget> targets, Warn warn) : warn_(std::move(warn)) {
  for (WritebackTarget& t : targets) targets_.push_back(Target{std::move(t)});
}

VolumeSink::Target* VolumeSink::Find(uint32_t volume) {
  for (Target& t : targets_) {
    if (t.config.volume == volume) return &t;
  }
  return nullptr;
}

void VolumeSink::Fail(const Target& t, const std::string& path, const Error& e) {
  ++failures_;
  if (failures_ > kMaxWarnings) return;
  warn_("writing back " + Name(t.config.volume) + " (" + t.config.host_path + "): " +
        vmproto::PrintableText(path, 256) + ": " + e.message());
}

Status VolumeSink::OnEntry(const vmproto::VolumeEntry& e) {
  if (pending_open_) {
    return Error(Name(e.volume) + ": a new entry while " + std::to_string(pending_.left) +
                 " bytes of the last file are still due");
  }
  Target* t = Find(e.volume);
  if (t == nullptr) return Error(Name(e.volume) + " is not a writable volume of this VM");
  if (++t->entries > t->config.max_entries) {
    return Error(Name(e.volume) + ": more than " + std::to_string(t->config.max_entries) + " entries");
  }
  if (e.kind == EntryKind::kFile) {
    if (e.size > t->config.max_bytes - t->bytes) {
      return Error(Name(e.volume) + ": more than its " + std::to_string(t->config.max_bytes) + " bytes");
    }
    t->bytes += e.size;
  }
  if (t->config.file && (e.kind != EntryKind::kFile || e.path != t->config.file_name)) {
    return Error(Name(e.volume) + " is the single file " + vmproto::PrintableText(t->config.file_name, 256) +
                 "; the guest named " + vmproto::PrintableText(e.path, 256));
  }
  return Apply(*t, e);
}

Status VolumeSink::Apply(Target& t, const vmproto::VolumeEntry& e) {
  const mode_t mode = e.mode & kPermissionBits;
  Status done = Ok();
  switch (e.kind) {
    case EntryKind::kDirectory:
    case EntryKind::kOpaqueDirectory:
      done = MakeDirectoryBeneath(t.config.fd.get(), e.path, mode | kOwnerDirBits,
                                  e.kind == EntryKind::kOpaqueDirectory);
      break;
    case EntryKind::kRemoved:
      done = RemoveBeneath(t.config.fd.get(), e.path);
      break;
    case EntryKind::kFile:
      return StartFile(t, e);
  }
  if (!done.ok()) Fail(t, e.path, done.error());
  return Ok();
}

Status VolumeSink::StartFile(Target& t, const vmproto::VolumeEntry& e) {
  pending_ = Pending{};
  pending_.target = &t;
  pending_.path = e.path;
  pending_.left = e.size;
  pending_open_ = true;
  if (t.config.file) {
    // The volume's own file, opened before the jail: rewritten in place.
    if (ftruncate(t.config.fd.get(), 0) == 0) {
      pending_.fd = t.config.fd.get();
    } else {
      Fail(t, e.path, Error::FromErrno("truncating"));
    }
  } else {
    Result<UniqueFd> fd = CreateFileBeneath(t.config.fd.get(), e.path, e.mode & kPermissionBits);
    if (fd.ok()) {
      pending_.owned = std::move(*fd);
      pending_.fd = pending_.owned.get();
    } else {
      Fail(t, e.path, fd.error());
    }
  }
  EndFileIfDone();
  return Ok();
}

Status VolumeSink::OnData(std::span<const uint8_t> bytes) {
  if (!pending_open_) return Error("volume-data with no file announced");
  if (bytes.size() > pending_.left) {
    return Error(Name(pending_.target->config.volume) + ": " + std::to_string(bytes.size()) +
                 " bytes of volume-data where " + std::to_string(pending_.left) + " were due");
  }
  while (pending_.fd >= 0 && !bytes.empty()) {
    ssize_t n = RetryEintr([&] {
      return pwrite(pending_.fd, bytes.data(), bytes.size(), static_cast<off_t>(pending_.offset));
    });
    if (n <= 0) {
      Fail(*pending_.target, pending_.path, n < 0 ? Error::FromErrno("writing") : Error("writing: no progress"));
      pending_.fd = -1;
      pending_.owned.reset();
      break;
    }
    pending_.offset += static_cast<uint64_t>(n);
    pending_.left -= static_cast<uint64_t>(n);
    bytes = bytes.subspan(static_cast<size_t>(n));
  }
  pending_.left -= bytes.size();  // what a failed file could not take
  EndFileIfDone();
  return Ok();
}

void VolumeSink::EndFileIfDone() {
  if (!pending_open_ || pending_.left != 0) return;
  pending_ = Pending{};
  pending_open_ = false;
}

Status VolumeSink::Finish() {
  if (pending_open_) {
    return Error(Name(pending_.target->config.volume) + ": the guest ended with " +
                 std::to_string(pending_.left) + " bytes of " +
                 vmproto::PrintableText(pending_.path, 256) + " still due");
  }
  if (failures_ > kMaxWarnings) {
    warn_("writing back volumes: " + std::to_string(failures_ - kMaxWarnings) + " more failures not shown");
  }
  return Ok();
}

}  // namespace bulkhead::vmm::agent
