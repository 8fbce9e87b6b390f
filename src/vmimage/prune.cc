// Prune: keeps the cache under a size budget, least recently used first, never deleting an
// image that a sandbox holds (shared flock), and sweeps what dead builders left.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>

#include "base/fs.h"
#include "vmimage/cache_dir.h"
#include "vmimage/image_cache.h"
#include "vmimage/listing.h"

namespace bulkhead::vmimage {
namespace {

// A staging directory younger than this may belong to a builder that has made it but not
// locked it yet.
constexpr time_t kStaleAfterSeconds = 60;
constexpr uint64_t kMaxCacheEntries = 1'000'000;

struct Image {
  std::string name;
  uint64_t bytes = 0;
  struct timespec used {};
};

bool Before(const Image& a, const Image& b) {
  if (a.used.tv_sec != b.used.tv_sec) return a.used.tv_sec < b.used.tv_sec;
  if (a.used.tv_nsec != b.used.tv_nsec) return a.used.tv_nsec < b.used.tv_nsec;
  return a.name < b.name;
}

bool Old(const struct stat& st) { return st.st_mtime + kStaleAfterSeconds < ::time(nullptr); }

// Opens `name` and takes an exclusive flock without waiting; an invalid fd when it is held
// (or gone, or replaced since: then it is someone else's newer file).
UniqueFd LockUnheld(int dirfd, const std::string& name, int flags) {
  UniqueFd fd(::openat(dirfd, name.c_str(), flags | O_NOFOLLOW | O_CLOEXEC));
  if (!fd || ::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) return UniqueFd();
  struct stat a, b;
  if (::fstat(fd.get(), &a) != 0 || ::fstatat(dirfd, name.c_str(), &b, AT_SYMLINK_NOFOLLOW) != 0 ||
      a.st_ino != b.st_ino || a.st_dev != b.st_dev) {
    return UniqueFd();
  }
  return fd;
}

Result<std::vector<Image>> ListImages(const CacheDir& dir) {
  BH_ASSIGN(auto names, ListNames(dir.fd(), kMaxCacheEntries));
  std::vector<Image> images;
  for (std::string& name : names) {
    constexpr std::string_view kSuffix = ".erofs";
    if (name.size() <= kSuffix.size() || !name.ends_with(kSuffix)) continue;
    if (!IsKey(std::string_view(name).substr(0, name.size() - kSuffix.size()))) continue;
    struct stat st;
    if (::fstatat(dir.fd(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) {
      continue;
    }
    images.push_back({std::move(name), static_cast<uint64_t>(st.st_size), st.st_mtim});
  }
  std::sort(images.begin(), images.end(), Before);
  return images;
}

// Staging directories of builders that died (unlocked and old).
Status SweepStaging(const CacheDir& dir) {
  BH_ASSIGN(auto names, ListNames(dir.tmp_fd(), kMaxCacheEntries));
  for (const std::string& name : names) {
    UniqueFd fd = LockUnheld(dir.tmp_fd(), name, O_RDONLY | O_DIRECTORY);
    struct stat st;
    if (!fd || ::fstat(fd.get(), &st) != 0 || !Old(st)) continue;
    BH_TRY(RemoveAll(dir.path() + "/tmp/" + name));
  }
  return Ok();
}

// Index entries naming images that are gone, temporaries of writers that died, and lock files
// of builders that died (a live builder holds its lock).
void SweepIndexAndLocks(const CacheDir& dir) {
  if (auto names = ListNames(dir.index_fd(), kMaxCacheEntries); names.ok()) {
    for (const std::string& name : *names) {
      struct stat st;
      bool stale = false;
      if (name.starts_with(".")) {
        stale = ::fstatat(dir.index_fd(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && Old(st);
      } else {
        std::optional<std::string> key = dir.LookupIndex(name);
        stale =
            !key || ::fstatat(dir.fd(), (*key + ".erofs").c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0;
      }
      if (stale) ::unlinkat(dir.index_fd(), name.c_str(), 0);
    }
  }
  if (auto names = ListNames(dir.locks_fd(), kMaxCacheEntries); names.ok()) {
    for (const std::string& name : *names) {
      if (UniqueFd fd = LockUnheld(dir.locks_fd(), name, O_RDWR)) {
        ::unlinkat(dir.locks_fd(), name.c_str(), 0);
      }
    }
  }
}

}  // namespace

Result<PruneResult> Prune(const ImageCache& cache, uint64_t max_bytes) {
  BH_ASSIGN(CacheDir dir, CacheDir::Open(cache.dir));
  BH_ASSIGN(std::vector<Image> images, ListImages(dir).Context("listing " + cache.dir));
  PruneResult r;
  uint64_t total = 0;
  for (const Image& img : images) total += img.bytes;
  for (const Image& img : images) {
    if (total <= max_bytes) {
      ++r.kept;
      continue;
    }
    // Deleted under our exclusive lock: a Hold() that opened it before waits for the lock,
    // then sees the file gone and builds again.
    UniqueFd fd = LockUnheld(dir.fd(), img.name, O_RDONLY);
    if (!fd) {
      struct stat st;
      if (::fstatat(dir.fd(), img.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        total -= img.bytes;  // another Prune deleted it
        continue;
      }
      ++r.held;
      ++r.kept;
      continue;
    }
    if (::unlinkat(dir.fd(), img.name.c_str(), 0) != 0) {
      return Error::FromErrno("deleting " + dir.path() + "/" + img.name);
    }
    total -= img.bytes;
    ++r.removed;
    r.removed_bytes += img.bytes;
  }
  r.kept_bytes = total;
  BH_TRY(SweepStaging(dir).Context("sweeping " + cache.dir + "/tmp"));
  SweepIndexAndLocks(dir);
  return r;
}

}  // namespace bulkhead::vmimage
