#include "vmimage/mkfs.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/syscall.h"
#include "base/unique_fd.h"

namespace bulkhead::vmimage {
namespace {

constexpr size_t kKeptStderr = 2048;

// Reads to EOF (so mkfs.erofs never blocks on a full pipe), keeping only the last bytes:
// its error comes last, after any per-file warnings.
std::string DrainTail(int fd) {
  std::string tail;
  char buf[4096];
  for (;;) {
    ssize_t n = RetryEintr([&] { return ::read(fd, buf, sizeof buf); });
    if (n <= 0) break;
    tail.append(buf, static_cast<size_t>(n));
    if (tail.size() > 2 * kKeptStderr) tail.erase(0, tail.size() - kKeptStderr);
  }
  if (tail.size() > kKeptStderr) tail.erase(0, tail.size() - kKeptStderr);
  return tail;
}

// mkfs.erofs's lines joined with "; ", without its "<E> erofs: " prefixes and blank lines.
std::string OneLine(const std::string& text) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    for (const char* prefix : {"<E> erofs: ", "<E> erofs_io: ", "<W> erofs: "}) {
      if (line.rfind(prefix, 0) == 0) line.erase(0, std::string(prefix).size());
    }
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
      line.pop_back();
    }
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.erase(0, 1);
    if (line.empty()) continue;
    out += (out.empty() ? "" : "; ") + line;
  }
  return out.empty() ? "no message" : out;
}

}  // namespace

std::vector<std::string> MkfsBaseArgs() { return {"--quiet", "--preserve-mtime"}; }

Status RunMkfs(const std::string& mkfs, const std::vector<std::string>& args,
               const std::string& image, const std::string& source_dir) {
  std::vector<std::string> all = {mkfs};
  all.insert(all.end(), args.begin(), args.end());
  all.push_back(image);
  all.push_back(source_dir);
  std::vector<char*> argv;
  for (std::string& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  char* envp[] = {nullptr};

  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return Error::FromErrno("pipe");
  UniqueFd r(p[0]), w(p[1]);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, w.get(), 2);
  pid_t pid = 0;
  int err = ::posix_spawn(&pid, mkfs.c_str(), &fa, nullptr, argv.data(), envp);
  posix_spawn_file_actions_destroy(&fa);
  if (err != 0) return Error::Errno(err, "running " + mkfs);
  w.reset();
  std::string tail = DrainTail(r.get());
  int status = 0;
  if (RetryEintr([&] { return ::waitpid(pid, &status, 0); }) < 0) {
    return Error::FromErrno("waiting for " + mkfs);
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Ok();
  std::string how = WIFEXITED(status) ? "exited with status " + std::to_string(WEXITSTATUS(status))
                                      : "was killed by signal " + std::to_string(WTERMSIG(status));
  return Error(mkfs + " " + how + ": " + OneLine(tail), EIO);
}

}  // namespace bulkhead::vmimage
