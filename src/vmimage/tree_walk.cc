#include "vmimage/tree_walk.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/unique_fd.h"
#include "vmimage/listing.h"
#include "vmimage/record.h"
#include "vmimage/stage_copy.h"
#include "vmimage/xattrs.h"

namespace bulkhead::vmimage {
namespace {

// Filesystems whose ctime only the kernel sets. FUSE, NFS, 9p and the like are left out: their
// servers report whatever ctime they like.
bool KernelKeepsCtime(const struct statfs& fs) {
  constexpr long kZfs = 0x2fc12fc1;  // not in linux/magic.h
  switch (fs.f_type) {
    case EXT4_SUPER_MAGIC:
    case XFS_SUPER_MAGIC:
    case BTRFS_SUPER_MAGIC:
    case TMPFS_MAGIC:
    case RAMFS_MAGIC:
    case OVERLAYFS_SUPER_MAGIC:
    case F2FS_SUPER_MAGIC:
    case EROFS_SUPER_MAGIC_V1:
    case SQUASHFS_MAGIC:
    case kZfs:
      return true;
    default:
      return false;
  }
}

bool Older(const struct timespec& a, const struct timespec& b) {
  return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

bool SameVersion(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_size == b.st_size &&
         a.st_ctim.tv_sec == b.st_ctim.tv_sec && a.st_ctim.tv_nsec == b.st_ctim.tv_nsec;
}

Error Changed() {
  return Error("changed while being read; retry when the rootfs is still", EAGAIN);
}

class Walker {
 public:
  enum class Mode { kIdentity, kContent, kStage };

  Walker(std::string_view preamble, const WalkLimits& limits, Mode mode, int stage_root)
      : limits_(limits), mode_(mode), stage_root_(stage_root) {
    identity_.Update(preamble);
    content_.Update(preamble);
    buffer_.reserve(1 << 20);
  }

  Result<WalkResult> Run(int root_fd) {
    struct timespec now;
    ::clock_gettime(CLOCK_REALTIME, &now);
    int64_t cut =
        static_cast<int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec - limits_.memo_min_age_ns;
    cutoff_ = {static_cast<time_t>(cut / 1'000'000'000), static_cast<long>(cut % 1'000'000'000)};
    struct stat st;
    if (::fstat(root_fd, &st) != 0) return Error::FromErrno("stat of the rootfs");
    if (!S_ISDIR(st.st_mode)) return Error("the rootfs is not a directory", ENOTDIR);
    entries_ = 1;
    BH_TRY(Directory(root_fd, stage_root_, "", st, 0, 0));
    WalkResult r;
    r.identity = identity_.Finish();
    if (reading()) r.content = content_.Finish();
    r.memo_safe = memo_safe_;
    r.entries = entries_;
    r.bytes = bytes_;
    return r;
  }

 private:
  bool reading() const { return mode_ != Mode::kIdentity; }
  bool staging() const { return mode_ == Mode::kStage; }

  void Emit(const Record& common, const Record& identity_tail, const Record& content_tail) {
    Record id = common, ct = common;
    id.Raw(identity_tail.bytes());
    ct.Raw(content_tail.bytes());
    identity_.Update(Framed(id));
    if (reading()) content_.Update(Framed(ct));
  }
  void Emit(const Record& common, const Record& tail) { Emit(common, tail, tail); }

  void CheckFilesystem(int fd) {
    struct statfs fs;
    if (::fstatfs(fd, &fs) != 0 || !KernelKeepsCtime(fs)) memo_safe_ = false;
  }

  Status Directory(int src, int dst, const std::string& path, const struct stat& st,
                   dev_t parent_dev, int depth) {
    if (depth == 0 || st.st_dev != parent_dev) CheckFilesystem(src);
    BH_ASSIGN(Xattrs x, ReadXattrs(src).Context(Shown(path)));
    Emit(Common(path, st, x), Record().Tag('D'));
    // One name past the limit is enough to know it is exceeded; the loop below reports it.
    uint64_t room = limits_.max_entries - entries_ + 1;
    BH_ASSIGN(auto names, ListNames(src, room).Context(Shown(path)));
    for (const std::string& name : names) {
      if (++entries_ > limits_.max_entries) {
        return Error(LimitText("entries", limits_.max_entries), E2BIG);
      }
      BH_TRY(Child(src, dst, path + "/" + name, name, st.st_dev, depth + 1));
    }
    if (staging()) BH_TRY(ApplyMetadata(dst, st, x).Context("staging " + Shown(path)));
    return Ok();
  }

  Status Child(int src_dir, int dst_dir, const std::string& path, const std::string& name,
               dev_t dir_dev, int depth) {
    if (name.size() > limits_.max_name) {
      return Error(Shown(path) + ": a name longer than " + std::to_string(limits_.max_name) +
                       " bytes, which mkfs.erofs cannot keep",
                   ENAMETOOLONG);
    }
    if (path.size() > limits_.max_path) {
      return Error(Shown(path) + ": " + LimitText("path bytes", limits_.max_path), ENAMETOOLONG);
    }
    struct stat st;
    if (::fstatat(src_dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return Error::FromErrno("stat").Context(Shown(path));
    }
    if (S_ISDIR(st.st_mode)) return ChildDirectory(src_dir, dst_dir, path, name, dir_dev, depth);
    Status s = S_ISREG(st.st_mode) ? Regular(src_dir, dst_dir, path, name, st)
                                   : Other(src_dir, dst_dir, path, name, st);
    return std::move(s).Context(Shown(path));
  }

  Status ChildDirectory(int src_dir, int dst_dir, const std::string& path, const std::string& name,
                        dev_t dir_dev, int depth) {
    if (depth > limits_.max_depth) {
      return Error(Shown(path) + ": " +
                       LimitText("directory levels", static_cast<uint64_t>(limits_.max_depth)),
                   ELOOP);
    }
    // O_NOFOLLOW: if it became a symlink since the stat, this fails instead of leaving the tree.
    UniqueFd src(::openat(src_dir, name.c_str(),
                          O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    struct stat st;
    if (!src || ::fstat(src.get(), &st) != 0)
      return Error::FromErrno("opening").Context(Shown(path));
    UniqueFd dst;
    if (staging()) {
      if (::mkdirat(dst_dir, name.c_str(), 0700) != 0) {
        return Error::FromErrno("staging directory").Context(Shown(path));
      }
      dst.reset(::openat(dst_dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!dst) return Error::FromErrno("opening staged directory").Context(Shown(path));
    }
    return Directory(src.get(), dst.get(), path, st, dir_dev, depth);
  }

  // Opens by O_PATH and checks it before opening for reading: opening whatever the name
  // points at now could be a device (a watchdog reboots when opened) or block on a FIFO.
  static Result<UniqueFd> OpenRegular(int src_dir, const std::string& name, struct stat& st) {
    UniqueFd pin(::openat(src_dir, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    struct stat now;
    if (!pin || ::fstat(pin.get(), &now) != 0) return Error::FromErrno("opening");
    if (!S_ISREG(now.st_mode) || now.st_ino != st.st_ino || now.st_dev != st.st_dev) {
      return Changed();
    }
    std::string proc = "/proc/self/fd/" + std::to_string(pin.get());
    UniqueFd fd(::open(proc.c_str(), O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
    if (!fd) return Error::FromErrno("opening");
    st = now;
    return fd;
  }

  Status Regular(int src_dir, int dst_dir, const std::string& path, const std::string& name,
                 struct stat st) {
    UniqueFd fd;
    Xattrs x;
    if (reading()) {
      BH_ASSIGN(fd, OpenRegular(src_dir, name, st));
      BH_ASSIGN(x, ReadXattrs(fd.get()));
    } else {
      BH_ASSIGN(x, ReadXattrsAt(src_dir, name));
    }
    Record common = Common(path, st, x);
    if (st.st_nlink > 1) {
      auto [it, first] = links_.try_emplace({st.st_dev, st.st_ino}, path);
      if (!first) return Hardlink(dst_dir, name, common, it->second);
    }
    auto size = static_cast<uint64_t>(st.st_size);
    if (size > limits_.max_bytes - bytes_) {
      return Error(LimitText("bytes in regular files", limits_.max_bytes), EFBIG);
    }
    bytes_ += size;
    if (!Older(st.st_ctim, cutoff_)) memo_safe_ = false;
    Record id;
    id.Tag('F').U64(size).U64(st.st_dev).U64(st.st_ino).Time(st.st_ctim);
    if (!reading()) {
      Emit(common, id, id);
      return Ok();
    }
    UniqueFd out;
    if (staging()) {
      out.reset(::openat(dst_dir, name.c_str(),
                         O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
      if (!out) return Error::FromErrno("staging");
    }
    BH_ASSIGN(Digest digest, CopyAndHash(fd.get(), out.get(), size, buffer_));
    struct stat after;
    if (::fstat(fd.get(), &after) != 0 || !SameVersion(st, after)) memo_safe_ = false;
    if (staging()) BH_TRY(ApplyMetadata(out.get(), st, x).Context("staging"));
    Record ct;
    ct.Tag('F').U64(size).Raw(View(digest));
    Emit(common, id, ct);
    return Ok();
  }

  Status Hardlink(int dst_dir, const std::string& name, const Record& common,
                  const std::string& first) {
    Emit(common, Record().Tag('H').Bytes(first));
    if (!staging()) return Ok();
    // `first` is "/a/b"; relative to the staged root it is "a/b", all inside the private copy.
    if (::linkat(stage_root_, first.c_str() + 1, dst_dir, name.c_str(), 0) != 0) {
      return Error::FromErrno("staging hard link to " + Shown(first));
    }
    return Ok();
  }

  // Symlinks, devices, FIFOs and sockets: recorded by value, never opened.
  Status Other(int src_dir, int dst_dir, const std::string& path, const std::string& name,
               const struct stat& st) {
    BH_ASSIGN(Xattrs x, ReadXattrsAt(src_dir, name));
    Record tail;
    std::string target;
    if (S_ISLNK(st.st_mode)) {
      target.resize(4096);
      ssize_t n = ::readlinkat(src_dir, name.c_str(), target.data(), target.size());
      if (n < 0) return Error::FromErrno("readlink");
      target.resize(static_cast<size_t>(n));
      tail.Tag('L').Bytes(target);
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      tail.Tag('N').U64(major(st.st_rdev)).U64(minor(st.st_rdev));
    } else if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) {
      tail.Tag('N');
    } else {
      return Error("unknown file type " + std::to_string(st.st_mode & S_IFMT), EINVAL);
    }
    Emit(Common(path, st, x), tail);
    if (!staging()) return Ok();
    int rc = S_ISLNK(st.st_mode)
                 ? ::symlinkat(target.c_str(), dst_dir, name.c_str())
                 : ::mknodat(dst_dir, name.c_str(), (st.st_mode & S_IFMT) | 0600, st.st_rdev);
    if (rc != 0) return Error::FromErrno("staging");
    return ApplyMetadataAt(dst_dir, name, st, x).Context("staging");
  }

  static Record Common(const std::string& path, const struct stat& st, const Xattrs& x) {
    Record r;
    r.Bytes(path).U64(st.st_mode).U64(st.st_uid).U64(st.st_gid).Time(st.st_mtim).U64(x.size());
    for (const auto& [k, v] : x) r.Bytes(k).Bytes(v);
    return r;
  }

  static std::string LimitText(const char* what, uint64_t limit) {
    return std::string("the rootfs exceeds the limit of ") + std::to_string(limit) + " " + what;
  }

  const WalkLimits limits_;
  const Mode mode_;
  const int stage_root_;
  Sha256 identity_, content_;
  std::map<std::pair<dev_t, ino_t>, std::string> links_;  // first path of each hard-linked file
  std::vector<uint8_t> buffer_;
  struct timespec cutoff_ {};
  bool memo_safe_ = true;
  uint64_t entries_ = 0;
  uint64_t bytes_ = 0;
};

}  // namespace

Result<WalkResult> HashIdentity(int root_fd, std::string_view preamble, const WalkLimits& limits) {
  return Walker(preamble, limits, Walker::Mode::kIdentity, -1).Run(root_fd);
}

Result<WalkResult> HashContent(int root_fd, std::string_view preamble, const WalkLimits& limits) {
  return Walker(preamble, limits, Walker::Mode::kContent, -1).Run(root_fd);
}

Result<WalkResult> StageTree(int root_fd, int stage_fd, std::string_view preamble,
                             const WalkLimits& limits) {
  return Walker(preamble, limits, Walker::Mode::kStage, stage_fd).Run(root_fd);
}

}  // namespace bulkhead::vmimage
