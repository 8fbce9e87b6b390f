#include "vmimage/stage_copy.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/syscall.h"

namespace bulkhead::vmimage {
namespace {

constexpr size_t kChunk = 1 << 20;

void HashZeros(Sha256& h, uint64_t n) {
  static const uint8_t kZeros[65536] = {};
  while (n > 0) {
    size_t step = static_cast<size_t>(std::min<uint64_t>(n, sizeof kZeros));
    h.Update(std::span<const uint8_t>(kZeros, step));
    n -= step;
  }
}

// Where the next data at or after `off` starts; `size` when only a hole is left. A filesystem
// without SEEK_DATA reports everything as data.
Result<uint64_t> NextData(int fd, uint64_t off, uint64_t size) {
  off_t r = ::lseek(fd, static_cast<off_t>(off), SEEK_DATA);
  if (r < 0) {
    if (errno == ENXIO) return size;
    if (errno == EINVAL) return off;
    return Error::FromErrno("seeking data");
  }
  return std::min(static_cast<uint64_t>(r), size);
}

Result<uint64_t> NextHole(int fd, uint64_t off, uint64_t size) {
  off_t r = ::lseek(fd, static_cast<off_t>(off), SEEK_HOLE);
  if (r < 0) {
    if (errno == ENXIO || errno == EINVAL) return size;
    return Error::FromErrno("seeking hole");
  }
  return std::min(static_cast<uint64_t>(r), size);
}

Status CopyRange(int src, int dst, uint64_t from, uint64_t to, Sha256& h,
                 std::vector<uint8_t>& buffer) {
  buffer.resize(kChunk);
  uint64_t off = from;
  while (off < to) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(to - off, buffer.size()));
    ssize_t n =
        RetryEintr([&] { return ::pread(src, buffer.data(), want, static_cast<off_t>(off)); });
    if (n < 0) return Error::FromErrno("reading");
    if (n == 0) return Error("file shrank while being read", EAGAIN);
    auto got = static_cast<size_t>(n);
    h.Update(std::span<const uint8_t>(buffer.data(), got));
    for (size_t done = 0; dst >= 0 && done < got;) {
      ssize_t w = RetryEintr([&] {
        return ::pwrite(dst, buffer.data() + done, got - done, static_cast<off_t>(off + done));
      });
      if (w < 0) return Error::FromErrno("writing the staged copy");
      done += static_cast<size_t>(w);
    }
    off += got;
  }
  return Ok();
}

void TimesOf(const struct stat& st, struct timespec (&out)[2]) {
  out[0].tv_sec = 0;
  out[0].tv_nsec = UTIME_OMIT;  // erofs keeps no atime
  out[1] = st.st_mtim;
}

}  // namespace

Result<Digest> CopyAndHash(int src, int dst, uint64_t size, std::vector<uint8_t>& buffer) {
  Sha256 h;
  uint64_t off = 0;
  while (off < size) {
    BH_ASSIGN(uint64_t data, NextData(src, off, size));
    HashZeros(h, data - off);
    if (data >= size) break;
    BH_ASSIGN(uint64_t hole, NextHole(src, data, size));
    if (hole <= data) hole = size;
    BH_TRY(CopyRange(src, dst, data, hole, h, buffer));
    off = hole;
  }
  if (dst >= 0 && ::ftruncate(dst, static_cast<off_t>(size)) != 0) {
    return Error::FromErrno("sizing the staged copy");
  }
  return h.Finish();
}

Status ApplyMetadata(int fd, const struct stat& st, const Xattrs& xattrs) {
  if (::fchown(fd, st.st_uid, st.st_gid) != 0) return Error::FromErrno("chown");
  BH_TRY(WriteXattrs(fd, xattrs));
  if (::fchmod(fd, st.st_mode & 07777) != 0) return Error::FromErrno("chmod");
  struct timespec times[2];
  TimesOf(st, times);
  if (::futimens(fd, times) != 0) return Error::FromErrno("setting mtime");
  return Ok();
}

Status ApplyMetadataAt(int dirfd, const std::string& name, const struct stat& st,
                       const Xattrs& xattrs) {
  const char* n = name.c_str();
  if (::fchownat(dirfd, n, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) != 0) {
    return Error::FromErrno("chown");
  }
  BH_TRY(WriteXattrsAt(dirfd, name, xattrs));
  // A symlink's mode is always 0777; for the others, fchmodat is safe here because the staged
  // directory is private and `name` is the node just made in it.
  if (!S_ISLNK(st.st_mode) && ::fchmodat(dirfd, n, st.st_mode & 07777, 0) != 0) {
    return Error::FromErrno("chmod");
  }
  struct timespec times[2];
  TimesOf(st, times);
  if (::utimensat(dirfd, n, times, AT_SYMLINK_NOFOLLOW) != 0) {
    return Error::FromErrno("setting mtime");
  }
  return Ok();
}

}  // namespace bulkhead::vmimage
