#include "vmimage/listing.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string_view>

namespace bulkhead::vmimage {

Result<std::vector<std::string>> ListNames(int dirfd, uint64_t max_names) {
  // fdopendir takes the descriptor it is given; the caller keeps its own.
  int dup = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return Error::FromErrno("dup");
  DIR* dir = ::fdopendir(dup);
  if (dir == nullptr) {
    ::close(dup);
    return Error::FromErrno("fdopendir");
  }
  ::rewinddir(dir);  // the dup shares its offset with the caller's fd
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* ent = ::readdir(dir)) {
    std::string_view n = ent->d_name;
    if (n == "." || n == "..") continue;
    if (names.size() >= max_names) break;
    names.emplace_back(n);
  }
  int err = errno;
  ::closedir(dir);
  if (err != 0) return Error::Errno(err, "reading directory");
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace bulkhead::vmimage
