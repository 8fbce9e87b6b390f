#include "runtime/sealed_exe.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "base/syscall.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U  // Linux 6.3; older headers lack it
#endif

namespace bulkhead::runtime {

Result<bool> IsSealed(int fd) {
  struct statvfs sv {};
  if (fstatvfs(fd, &sv) != 0) return Error::FromErrno("statvfs of the runtime binary");
  if ((sv.f_flag & ST_RDONLY) != 0) return true;
  int seals = fcntl(fd, F_GET_SEALS);  // EINVAL for anything but a memfd
  return seals >= 0 && (seals & F_SEAL_WRITE) != 0;
}

Result<UniqueFd> SealedCopy(int fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return Error::FromErrno("stat of the runtime binary");
  // MFD_EXEC where the kernel knows it (6.3+), so vm.memfd_noexec=1 still lets us run it.
  int m = memfd_create("bulkhead", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (m < 0 && errno == EINVAL) m = memfd_create("bulkhead", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (m < 0) return Error::FromErrno("memfd_create for a sealed copy of the runtime");
  UniqueFd copy(m);
  off_t offset = 0;
  while (offset < st.st_size) {
    ssize_t n = RetryEintr([&] {
      return sendfile(copy.get(), fd, &offset, static_cast<size_t>(st.st_size - offset));
    });
    if (n < 0) return Error::FromErrno("copying the runtime binary into a memfd");
    if (n == 0) return Error("copying the runtime binary into a memfd: it shrank", EIO);
  }
  if (fcntl(copy.get(), F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) !=
      0) {
    return Error::FromErrno("sealing the copy of the runtime binary");
  }
  // exec refuses a file open for writing (ETXTBSY): keep only a read-only descriptor.
  std::string path = "/proc/self/fd/" + std::to_string(copy.get());
  int ro = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (ro < 0) return Error::FromErrno("reopening the sealed copy read-only");
  return UniqueFd(ro);
}

Result<UniqueFd> SealedExecutable(int fd) {
  int tree = open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
  if (tree >= 0) {
    UniqueFd mount(tree);
    struct mount_attr attr {};
    attr.attr_set = MOUNT_ATTR_RDONLY;
    if (mount_setattr(mount.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) == 0) return mount;
    if (errno != ENOSYS)
      return Error::FromErrno("making a bind mount of the runtime binary read-only");
  } else if (errno != ENOSYS) {
    return Error::FromErrno("bind mounting the runtime binary");
  }
  return SealedCopy(fd);
}

Status ReexecSealed(char** argv) {
  int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (self < 0) return Error::FromErrno("opening /proc/self/exe");
  UniqueFd exe(self);
  BH_ASSIGN(bool sealed, IsSealed(exe.get()));
  if (sealed) {
    // Before Linux 6.14, execveat(AT_EMPTY_PATH) names the process after the fd ("3").
    const char* slash = strrchr(argv[0], '/');
    prctl(PR_SET_NAME, slash != nullptr ? slash + 1 : argv[0], 0, 0, 0);
    return Ok();
  }
  BH_ASSIGN(UniqueFd target, SealedExecutable(exe.get()));
  syscall(SYS_execveat, target.get(), "", argv, environ, AT_EMPTY_PATH);
  return Error::FromErrno("re-executing the runtime from a read-only copy of itself");
}

}  // namespace bulkhead::runtime
