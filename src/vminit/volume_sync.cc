#include "vminit/volume_sync.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "base/log.h"
#include "base/syscall.h"
#include "base/unique_fd.h"

namespace bulkhead::vminit {

namespace {

using vmproto::EntryKind;

constexpr char kOpaqueXattr[] = "trusted.overlay.opaque";

class Walker {
 public:
  Walker(uint32_t number, const SendFrame& send) : number_(number), send_(send) {}

  Status Directory(int fd, const std::string& prefix, int depth) {
    for (const std::string& name : Names(fd, prefix)) {
      std::string path = prefix.empty() ? name : prefix + "/" + name;
      if (path.size() > vmproto::kMaxVolumePath) {
        Skip(prefix + "/...", "a path longer than " + std::to_string(vmproto::kMaxVolumePath) + " bytes");
        continue;
      }
      BH_TRY(Entry(fd, name, path, depth));
    }
    return Ok();
  }

 private:
  // The directory's entries, sorted: the host sees the same order every time.
  std::vector<std::string> Names(int fd, const std::string& prefix) {
    std::vector<std::string> names;
    int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    DIR* dir = copy < 0 ? nullptr : fdopendir(copy);
    if (dir == nullptr) {
      if (copy >= 0) close(copy);
      Skip(prefix.empty() ? "." : prefix, Error::FromErrno("listing").message());
      return names;
    }
    while (struct dirent* d = readdir(dir)) {
      std::string name = d->d_name;
      if (name != "." && name != "..") names.push_back(std::move(name));
    }
    closedir(dir);
    std::sort(names.begin(), names.end());
    return names;
  }

  Status Entry(int parent, const std::string& name, const std::string& path, int depth) {
    struct stat st {};
    if (fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      Skip(path, Error::FromErrno("stat").message());
      return Ok();
    }
    const uint32_t mode = st.st_mode & 07777;
    if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
      return send_(vmproto::VolumeEntry{number_, EntryKind::kRemoved, 0, 0, path});
    }
    if (S_ISDIR(st.st_mode)) {
      UniqueFd dir(openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!dir) {
        Skip(path, Error::FromErrno("opening").message());
        return Ok();
      }
      char opaque = 0;
      bool is_opaque = fgetxattr(dir.get(), kOpaqueXattr, &opaque, 1) == 1 && opaque == 'y';
      BH_TRY(send_(vmproto::VolumeEntry{
          number_, is_opaque ? EntryKind::kOpaqueDirectory : EntryKind::kDirectory, mode, 0, path}));
      if (depth + 1 > kMaxVolumeDepth) {
        Skip(path + "/...", "more than " + std::to_string(kMaxVolumeDepth) + " directory levels");
        return Ok();
      }
      return Directory(dir.get(), path, depth + 1);
    }
    if (S_ISREG(st.st_mode)) return File(parent, name, path, mode);
    Skip(path, S_ISLNK(st.st_mode) ? "a symlink, which is not carried to the host"
                                   : "not a regular file or directory, which is not carried to the host");
    return Ok();
  }

  Status File(int parent, const std::string& name, const std::string& path, uint32_t mode) {
    UniqueFd fd(openat(parent, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    struct stat st {};
    if (!fd || fstat(fd.get(), &st) != 0) {
      Skip(path, Error::FromErrno("opening").message());
      return Ok();
    }
    uint64_t left = static_cast<uint64_t>(st.st_size);
    BH_TRY(send_(vmproto::VolumeEntry{number_, EntryKind::kFile, mode, left, path}));
    bool failed = false;
    while (left > 0) {
      std::vector<uint8_t> chunk(std::min<uint64_t>(left, vmproto::kMaxDataChunk));
      ssize_t n = failed ? 0 : RetryEintr([&] { return read(fd.get(), chunk.data(), chunk.size()); });
      if (n <= 0 && !failed) {
        // The size went first: the rest is zeros, and the log says so.
        failed = true;
        Skip(path, n < 0 ? Error::FromErrno("reading").message() : "shorter than its size");
      }
      if (n > 0) chunk.resize(static_cast<size_t>(n));
      left -= chunk.size();
      BH_TRY(send_(vmproto::VolumeData{std::move(chunk)}));
    }
    return Ok();
  }

  void Skip(const std::string& path, const std::string& why) {
    LogWarning("volume " + std::to_string(number_) + ": " + vmproto::PrintableText(path, 256) +
               ": " + why + "; left out of the write-back");
  }

  uint32_t number_;
  const SendFrame& send_;
};

}  // namespace

Status SendVolumeChanges(uint32_t number, const std::string& upper, const SendFrame& send) {
  UniqueFd root(open(upper.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root) return Error::FromErrno("opening " + upper);
  Walker w(number, send);
  return w.Directory(root.get(), "", 0);
}

}  // namespace bulkhead::vminit
