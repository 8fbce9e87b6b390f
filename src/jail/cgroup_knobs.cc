#include "jail/cgroup_knobs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <limits>

#include "base/fs.h"
#include "base/syscall.h"
#include "base/unique_fd.h"

namespace bulkhead::jail {

Status WriteKnob(const std::string& dir, std::string_view file, std::string_view value,
                 std::string_view field) {
  std::string path = JoinPath(dir, file);
  auto fail = [&](int err) {
    std::string what = std::string(field) + ": writing " + path;
    Error e = Error::Errno(err, what);
    if (err == ENOENT) {
      e = Error(e.message() + " (the controller is not enabled here or the kernel lacks this file)",
                err);
    }
    return e;
  };
  int fd = RetryEintr([&] { return ::open(path.c_str(), O_WRONLY | O_CLOEXEC); });
  if (fd < 0) return fail(errno);
  UniqueFd owner(fd);
  ssize_t n = RetryEintr([&] { return ::write(fd, value.data(), value.size()); });
  if (n < 0) return fail(errno);
  if (static_cast<size_t>(n) != value.size()) return fail(EIO);
  return Ok();
}

Result<std::string> ReadKnob(const std::string& dir, std::string_view file) {
  BH_ASSIGN(std::string text, ReadFile(JoinPath(dir, file), 1u << 20));
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

bool KnobExists(const std::string& dir, std::string_view file) {
  struct stat st;
  return ::stat(JoinPath(dir, file).c_str(), &st) == 0;
}

Result<uint64_t> ParseKnobU64(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  if (text == "max") return std::numeric_limits<uint64_t>::max();
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return Error("\"" + std::string(text) + "\" is not a number", EINVAL);
  }
  return v;
}

uint64_t KeyedValue(std::string_view text, std::string_view key) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ' ') {
      auto v = ParseKnobU64(line.substr(key.size() + 1));
      return v.ok() ? *v : 0;
    }
  }
  return 0;
}

namespace {

Status Collect(const std::string& dir, std::vector<pid_t>* out, int depth) {
  if (depth > 64) return Error("cgroup tree under " + dir + " is too deep", ELOOP);
  BH_ASSIGN(std::string procs, ReadFile(JoinPath(dir, "cgroup.procs"), 16u << 20));
  size_t pos = 0;
  while (pos < procs.size()) {
    size_t eol = procs.find('\n', pos);
    if (eol == std::string::npos) eol = procs.size();
    pid_t pid = 0;
    auto [end, ec] = std::from_chars(procs.data() + pos, procs.data() + eol, pid);
    if (ec == std::errc() && pid > 0) out->push_back(pid);
    pos = eol + 1;
  }
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return Error::FromErrno("listing " + dir);
  Status st;
  while (struct dirent* ent = ::readdir(d)) {
    std::string_view name = ent->d_name;
    if (ent->d_type != DT_DIR || name == "." || name == "..") continue;
    st = Collect(JoinPath(dir, name), out, depth + 1);
    // A child cgroup may vanish while we walk; that is not an error.
    if (!st.ok() && st.error().errno_value() != ENOENT) break;
    st = Ok();
  }
  ::closedir(d);
  return st;
}

}  // namespace

Status CollectPids(const std::string& dir, std::vector<pid_t>* out) { return Collect(dir, out, 0); }

}  // namespace bulkhead::jail
