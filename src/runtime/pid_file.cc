#include "runtime/pid_file.h"

#include <limits.h>
#include <unistd.h>

#include "base/fs.h"

namespace bulkhead::runtime {

Status WritePidFile(const std::string& path, pid_t pid) {
  if (path.empty()) return Ok();
  std::string abs = path;
  if (abs[0] != '/') {
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd) == nullptr) return Error::FromErrno("getcwd");
    abs = JoinPath(cwd, path);
  }
  return WriteFileAtomic(abs, std::to_string(pid), 0644).Context("--pid-file");
}

}  // namespace bulkhead::runtime
