#include "vmimage/cache_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

#include "base/fs.h"
#include "base/syscall.h"

namespace bulkhead::vmimage {
namespace {

Result<UniqueFd> OpenDirAt(int at, const std::string& name, const std::string& shown) {
  if (::mkdirat(at, name.c_str(), 0700) != 0 && errno != EEXIST) {
    return Error::FromErrno("creating " + shown);
  }
  UniqueFd fd(::openat(at, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return Error::FromErrno("opening " + shown);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Error::FromErrno("stat of " + shown);
  // Anyone else able to write here could plant an image under a key it does not match.
  if (st.st_uid != ::geteuid()) {
    return Error(shown + " belongs to uid " + std::to_string(st.st_uid) + ", not to us", EPERM);
  }
  if ((st.st_mode & 07777) != 0700 && ::fchmod(fd.get(), 0700) != 0) {
    return Error::FromErrno("making " + shown + " 0700");
  }
  return fd;
}

std::string RandomName() {
  uint8_t bytes[8] = {};
  // Up to 256 bytes, getrandom returns them all once the pool is ready; should it not, the
  // pid and the clock still differ between concurrent builders, and a collision would only
  // make the exclusive create that follows fail.
  if (::getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes)) {
    struct timespec t;
    ::clock_gettime(CLOCK_MONOTONIC, &t);
    uint64_t mix = static_cast<uint64_t>(t.tv_nsec) ^ (static_cast<uint64_t>(::getpid()) << 32) ^
                   static_cast<uint64_t>(t.tv_sec);
    for (size_t i = 0; i < sizeof bytes; ++i) bytes[i] = static_cast<uint8_t>(mix >> (8 * i));
  }
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 0xf];
  }
  return out;
}

bool SameFile(int fd, int dirfd, const std::string& name) {
  struct stat a, b;
  return ::fstat(fd, &a) == 0 && ::fstatat(dirfd, name.c_str(), &b, AT_SYMLINK_NOFOLLOW) == 0 &&
         a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

}  // namespace

bool IsKey(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Staging::~Staging() {
  if (!dir_) return;
  root_.reset();
  (void)RemoveAll(path_);
}

KeyLock::~KeyLock() {
  if (!fd_) return;
  // Unlink while still holding the lock; waiters notice the file changed and retry.
  ::unlinkat(dir_, name_.c_str(), 0);
}

Result<CacheDir> CacheDir::Open(const std::string& path) {
  if (path.empty() || path[0] != '/') {
    return Error("image cache directory must be an absolute path, got \"" + path + "\"", EINVAL);
  }
  size_t slash = path.find_last_of('/');
  if (slash > 0) BH_TRY(MkdirAll(path.substr(0, slash), 0755));
  CacheDir c;
  c.path_ = path;
  BH_ASSIGN(c.dir_, OpenDirAt(AT_FDCWD, path, path));
  BH_ASSIGN(c.index_, OpenDirAt(c.dir_.get(), "index", path + "/index"));
  BH_ASSIGN(c.locks_, OpenDirAt(c.dir_.get(), "locks", path + "/locks"));
  BH_ASSIGN(c.tmp_, OpenDirAt(c.dir_.get(), "tmp", path + "/tmp"));
  return c;
}

Result<UniqueFd> CacheDir::Hold(const std::string& key) const {
  std::string name = key + ".erofs";
  // A Prune between our open and our flock deletes the file: then look again.
  for (int attempt = 0; attempt < 8; ++attempt) {
    UniqueFd fd(::openat(dir_.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) {
      if (errno == ENOENT) return UniqueFd();
      return Error::FromErrno("opening " + ImagePath(key));
    }
    if (RetryEintr([&] { return ::flock(fd.get(), LOCK_SH); }) != 0) {
      return Error::FromErrno("locking " + ImagePath(key));
    }
    if (!SameFile(fd.get(), dir_.get(), name)) continue;
    struct timespec times[2] = {{0, UTIME_OMIT}, {0, UTIME_NOW}};
    if (::futimens(fd.get(), times) != 0) return Error::FromErrno("touching " + ImagePath(key));
    return fd;
  }
  return Error(ImagePath(key) + " keeps disappearing", EAGAIN);
}

Result<KeyLock> CacheDir::LockKey(const std::string& key) const {
  KeyLock lock;
  lock.dir_ = locks_.get();
  lock.name_ = key + ".lock";
  for (;;) {
    UniqueFd fd(::openat(locks_.get(), lock.name_.c_str(),
                         O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) return Error::FromErrno("opening lock " + path_ + "/locks/" + lock.name_);
    if (RetryEintr([&] { return ::flock(fd.get(), LOCK_EX); }) != 0) {
      return Error::FromErrno("locking " + path_ + "/locks/" + lock.name_);
    }
    if (SameFile(fd.get(), locks_.get(), lock.name_)) {
      lock.fd_ = std::move(fd);
      return lock;
    }
  }
}

Result<Staging> CacheDir::NewStaging() const {
  Staging s;
  std::string name = RandomName();
  s.path_ = path_ + "/tmp/" + name;
  if (::mkdirat(tmp_.get(), name.c_str(), 0700) != 0) {
    return Error::FromErrno("creating " + s.path_);
  }
  s.dir_.reset(::openat(tmp_.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!s.dir_) return Error::FromErrno("opening " + s.path_);
  // Prune removes unlocked leftovers of builders that died.
  if (::flock(s.dir_.get(), LOCK_EX | LOCK_NB) != 0) return Error::FromErrno("locking " + s.path_);
  if (::mkdirat(s.dir_.get(), "root", 0700) != 0) return Error::FromErrno("creating staged root");
  s.root_.reset(::openat(s.dir_.get(), "root", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!s.root_) return Error::FromErrno("opening staged root");
  s.root_path_ = s.path_ + "/root";
  s.image_path_ = s.path_ + "/image";
  return s;
}

Result<UniqueFd> CacheDir::Publish(const Staging& staging, const std::string& key) const {
  UniqueFd img(::openat(staging.dir_.get(), "image", O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!img) return Error::FromErrno("opening the built image");
  if (::fchmod(img.get(), 0600) != 0) return Error::FromErrno("chmod of the built image");
  if (::fsync(img.get()) != 0) return Error::FromErrno("fsync of the built image");
  if (::flock(img.get(), LOCK_SH) != 0) return Error::FromErrno("locking the built image");
  std::string name = key + ".erofs";
  if (::renameat(staging.dir_.get(), "image", dir_.get(), name.c_str()) != 0) {
    return Error::FromErrno("renaming the built image to " + ImagePath(key));
  }
  // The rename itself must reach the disk before anyone relies on the image.
  if (::fsync(dir_.get()) != 0) return Error::FromErrno("fsync of " + path_);
  return img;
}

std::optional<std::string> CacheDir::LookupIndex(const std::string& identity) const {
  UniqueFd fd(::openat(index_.get(), identity.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return std::nullopt;
  char buf[80];
  ssize_t n = RetryEintr([&] { return ::read(fd.get(), buf, sizeof buf); });
  if (n < 64) return std::nullopt;
  std::string key(buf, 64);
  if (!IsKey(key)) return std::nullopt;
  return key;
}

Status CacheDir::RecordIndex(const std::string& identity, const std::string& key) const {
  std::string tmp = "." + identity + "." + RandomName();
  UniqueFd fd(::openat(index_.get(), tmp.c_str(),
                       O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) return Error::FromErrno("creating index entry");
  Status st = WriteAll(fd.get(), key + "\n");
  if (st.ok() && ::renameat(index_.get(), tmp.c_str(), index_.get(), identity.c_str()) != 0) {
    st = Error::FromErrno("renaming index entry");
  }
  if (!st.ok()) ::unlinkat(index_.get(), tmp.c_str(), 0);
  return std::move(st).Context("recording the identity of a tree in " + path_ + "/index");
}

}  // namespace bulkhead::vmimage
