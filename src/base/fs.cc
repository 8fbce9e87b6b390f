#include "base/fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "base/syscall.h"

namespace bulkhead {

Result<UniqueFd> OpenFile(const std::string& path, int flags, mode_t mode) {
  int fd = RetryEintr([&] { return ::open(path.c_str(), flags | O_CLOEXEC, mode); });
  if (fd < 0) return Error::FromErrno("opening " + path);
  return UniqueFd(fd);
}

Result<std::string> ReadFd(int fd, size_t max_bytes) {
  std::string out;
  char buf[16384];
  for (;;) {
    ssize_t n = RetryEintr([&] { return ::read(fd, buf, sizeof buf); });
    if (n < 0) return Error::FromErrno("reading");
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > max_bytes) {
      return Error("larger than " + std::to_string(max_bytes) + " bytes", EFBIG);
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Result<std::string> ReadFile(const std::string& path, size_t max_bytes) {
  BH_ASSIGN(UniqueFd fd, OpenFile(path, O_RDONLY));
  return ReadFd(fd.get(), max_bytes).Context("reading " + path);
}

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = RetryEintr([&] { return ::write(fd, data.data(), data.size()); });
    if (n < 0) return Error::FromErrno("writing");
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Ok();
}

Status WriteExisting(const std::string& path, std::string_view data) {
  BH_ASSIGN(UniqueFd fd, OpenFile(path, O_WRONLY));
  return WriteAll(fd.get(), data).Context("writing " + path);
}

Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode) {
  std::string tmp = path + ".tmp";
  BH_ASSIGN(UniqueFd fd, OpenFile(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode));
  Status st = WriteAll(fd.get(), data);
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return std::move(st).Context("writing " + tmp);
  }
  fd.reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Error e = Error::FromErrno("renaming " + tmp + " to " + path);
    ::unlink(tmp.c_str());
    return e;
  }
  return Ok();
}

Status MkdirAll(const std::string& path, mode_t mode) {
  if (path.empty()) return Ok();
  std::string cur;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t next = path.find('/', pos);
    if (next == std::string::npos) next = path.size();
    cur = path.substr(0, next);
    pos = next + 1;
    if (cur.empty()) continue;
    if (::mkdir(cur.c_str(), mode) != 0 && errno != EEXIST) {
      return Error::FromErrno("creating directory " + cur);
    }
  }
  return Ok();
}

namespace {

Status RemoveAt(int dirfd, const char* name, int depth) {
  if (depth > 256) return Error("directory tree too deep", ELOOP);
  if (::unlinkat(dirfd, name, 0) == 0 || errno == ENOENT) return Ok();
  if (errno != EISDIR && errno != EPERM) return Error::FromErrno(std::string("removing ") + name);
  int fd = ::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return Error::FromErrno(std::string("opening ") + name);
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    ::close(fd);
    return Error::FromErrno("fdopendir");
  }
  Status st;
  while (struct dirent* ent = ::readdir(dir)) {
    std::string_view n = ent->d_name;
    if (n == "." || n == "..") continue;
    st = RemoveAt(::dirfd(dir), ent->d_name, depth + 1);
    if (!st.ok()) break;
  }
  ::closedir(dir);
  if (!st.ok()) return st;
  if (::unlinkat(dirfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT) {
    return Error::FromErrno(std::string("removing directory ") + name);
  }
  return Ok();
}

}  // namespace

Status RemoveAll(const std::string& path) {
  return RemoveAt(AT_FDCWD, path.c_str(), 0).Context("removing " + path);
}

bool PathExists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

std::string JoinPath(std::string_view a, std::string_view b) {
  std::string out(a);
  while (!b.empty() && b.front() == '/') b.remove_prefix(1);
  if (out.empty() || out.back() != '/') out += '/';
  out += b;
  return out;
}

}  // namespace bulkhead
