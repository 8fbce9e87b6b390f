#include "jail/rootfs_path.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <deque>
#include <vector>

#include "base/syscall.h"

namespace bulkhead::jail {

namespace {

// The kernel's own limit on symlinks followed in one lookup (MAXSYMLINKS).
constexpr int kMaxSymlinks = 40;
// openat2 says EAGAIN when a rename raced a RESOLVE_IN_ROOT lookup; try again a few times.
constexpr int kOpenat2Attempts = 16;
// A file created as a bind-mount target, or by O_CREAT.
constexpr mode_t kFileMode = 0644;

enum class Create { kNone, kDirs, kDirsAndFile };

void PushComponents(std::deque<std::string>* todo, std::string_view path, bool front) {
  std::vector<std::string> parts;
  size_t pos = 0;
  while (pos < path.size()) {
    size_t next = path.find('/', pos);
    if (next == std::string_view::npos) next = path.size();
    if (next > pos) parts.emplace_back(path.substr(pos, next - pos));
    pos = next + 1;
  }
  if (front) {
    todo->insert(todo->begin(), parts.begin(), parts.end());
  } else {
    todo->insert(todo->end(), parts.begin(), parts.end());
  }
}

Result<std::string> ReadLinkFd(int fd) {
  std::string buf(256, '\0');
  for (;;) {
    ssize_t n = readlinkat(fd, "", buf.data(), buf.size());
    if (n < 0) return Error::FromErrno("reading a symlink");
    if (static_cast<size_t>(n) < buf.size()) {
      buf.resize(static_cast<size_t>(n));
      return buf;
    }
    if (buf.size() >= 4096) return Error("symlink target too long", ENAMETOOLONG);
    buf.resize(buf.size() * 2);
  }
}

// Opens one name below dirfd without following it, creating it when asked.
Result<UniqueFd> OpenComponent(int dirfd, const std::string& name, Create create, bool last,
                               mode_t mode) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    int fd = RetryEintr([&] { return openat(dirfd, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC); });
    if (fd >= 0) return UniqueFd(fd);
    if (errno != ENOENT || create == Create::kNone) return Error::FromErrno("opening " + name);
    int rc;
    if (last && create == Create::kDirsAndFile) {
      rc = RetryEintr([&] {
        return openat(dirfd, name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC,
                      mode & 0666);
      });
      if (rc >= 0) close(rc);
    } else {
      rc = mkdirat(dirfd, name.c_str(), mode);
    }
    // EEXIST: someone else made it first; the next attempt opens whatever is there.
    if (rc < 0 && errno != EEXIST) return Error::FromErrno("creating " + name);
  }
  return Error("creating " + name + ": it keeps changing", EAGAIN);
}

// The walk behind both OpenInRootByWalk and MkdirAllInRoot. `dirs` holds the resolved
// directories below the root, so ".." is a pop and can never climb above root_fd.
Result<UniqueFd> Walk(int root_fd, std::string_view path, int flags, Create create,
                      mode_t mode) {
  std::deque<std::string> todo;
  PushComponents(&todo, path, false);
  std::vector<UniqueFd> dirs;
  auto cur = [&] { return dirs.empty() ? root_fd : dirs.back().get(); };
  int links = 0;
  while (!todo.empty()) {
    std::string name = std::move(todo.front());
    todo.pop_front();
    if (name == ".") continue;
    if (name == "..") {
      if (!dirs.empty()) dirs.pop_back();
      continue;
    }
    bool last = todo.empty();
    // The final open names the resolved entry; O_NOFOLLOW keeps a swapped-in symlink out.
    auto final_open = [&]() -> Result<UniqueFd> {
      int out = RetryEintr([&] {
        return openat(cur(), name.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, kFileMode);
      });
      if (out < 0) return Error::FromErrno("opening " + name);
      return UniqueFd(out);
    };
    Result<UniqueFd> opened = OpenComponent(cur(), name, create, last, mode);
    if (!opened.ok()) {
      bool creating = last && create == Create::kNone && (flags & O_CREAT) != 0;
      if (creating && opened.error().errno_value() == ENOENT) return final_open();
      return std::move(opened).error();
    }
    UniqueFd fd = std::move(opened).value();
    struct stat st;
    if (fstat(fd.get(), &st) != 0) return Error::FromErrno("stat of " + name);
    bool follow = !last || create != Create::kNone || (flags & O_NOFOLLOW) == 0;
    if (S_ISLNK(st.st_mode) && follow) {
      if (++links > kMaxSymlinks) return Error("too many symlinks", ELOOP);
      BH_ASSIGN(std::string target, ReadLinkFd(fd.get()));
      if (target.empty()) return Error("empty symlink " + name, ENOENT);
      if (target.front() == '/') dirs.clear();
      PushComponents(&todo, target, true);
      continue;
    }
    if (!last) {
      if (!S_ISDIR(st.st_mode)) return Error(name + " is not a directory", ENOTDIR);
      dirs.push_back(std::move(fd));
      continue;
    }
    switch (create) {
      case Create::kDirs:
        if (!S_ISDIR(st.st_mode)) return Error(name + " exists and is not a directory", ENOTDIR);
        return fd;
      case Create::kDirsAndFile:
        if (S_ISDIR(st.st_mode)) return Error(name + " exists and is a directory", EISDIR);
        return fd;
      case Create::kNone:
        break;
    }
    return final_open();
  }
  // The path named the root or ended in "." or "..": the answer is the current directory.
  if (create == Create::kDirsAndFile) return Error("the path names a directory", EISDIR);
  int out_flags = create == Create::kDirs ? (O_PATH | O_DIRECTORY) : (flags & ~O_CREAT);
  int out = RetryEintr([&] { return openat(cur(), ".", out_flags | O_CLOEXEC); });
  if (out < 0) return Error::FromErrno("opening the directory");
  return UniqueFd(out);
}

std::string Quoted(std::string_view path) { return "\"" + std::string(path) + "\""; }

}  // namespace

Result<UniqueFd> OpenInRootByWalk(int root_fd, std::string_view path, int flags) {
  return Walk(root_fd, path, flags, Create::kNone, 0).Context("resolving " + Quoted(path));
}

Result<UniqueFd> OpenInRoot(int root_fd, std::string_view path, int flags) {
  std::string p = path.empty() ? std::string(".") : std::string(path);
  struct open_how how {};
  how.flags = static_cast<unsigned int>(flags | O_CLOEXEC);
  // O_TMPFILE includes O_DIRECTORY's bit, so it is tested whole; openat2 wants mode 0 otherwise.
  bool creates = (flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE;
  how.mode = creates ? kFileMode : 0;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  for (int attempt = 0; attempt < kOpenat2Attempts; ++attempt) {
    long fd = syscall(SYS_openat2, root_fd, p.c_str(), &how, sizeof(how));
    if (fd >= 0) return UniqueFd(static_cast<int>(fd));
    if (errno == EAGAIN || errno == EINTR) continue;
    if (errno == ENOSYS) return OpenInRootByWalk(root_fd, path, flags);
    return Error::FromErrno("resolving " + Quoted(path));
  }
  return Error("resolving " + Quoted(path) + ": renames kept racing the lookup", EAGAIN);
}

Result<UniqueFd> MkdirAllInRoot(int root_fd, std::string_view path, mode_t mode, bool as_file) {
  return Walk(root_fd, path, 0, as_file ? Create::kDirsAndFile : Create::kDirs, mode)
      .Context("creating " + Quoted(path));
}

std::string FdPath(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

}  // namespace bulkhead::jail
