#include "vmm/agent/beneath.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vector>

namespace bulkhead::vmm::agent {

namespace {

constexpr uint64_t kResolve =
    RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;

// Entries removed while a directory is listed can hide others from that listing, so it is
// listed again until it is seen empty; a directory that keeps filling up is an error.
constexpr int kEmptyPasses = 8;

struct Split {
  std::string parent;  // "" is the volume itself
  std::string leaf;
};

Split SplitPath(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {"", path};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

Result<UniqueFd> OpenParent(int root, const Split& s) {
  return OpenBeneath(root, s.parent.empty() ? "." : s.parent, O_PATH | O_DIRECTORY);
}

Status RemoveTree(int root, const std::string& path);

Status EmptyDirectory(int root, const std::string& path) {
  for (int pass = 0; pass < kEmptyPasses; ++pass) {
    BH_ASSIGN(UniqueFd dir, OpenBeneath(root, path, O_RDONLY | O_DIRECTORY));
    std::vector<std::string> subdirs;
    bool any = false;
    alignas(8) char buf[8192];
    for (;;) {
      ssize_t n = getdents64(dir.get(), buf, sizeof buf);
      if (n < 0) return Error::FromErrno("listing " + path);
      if (n == 0) break;
      for (ssize_t off = 0; off < n;) {
        const auto* d = reinterpret_cast<const struct dirent64*>(buf + off);
        off += d->d_reclen;
        const std::string name = d->d_name;
        if (name == "." || name == "..") continue;
        any = true;
        if (d->d_type == DT_DIR) {
          subdirs.push_back(name);
        } else if (unlinkat(dir.get(), name.c_str(), 0) != 0) {
          if (errno == EISDIR) {
            subdirs.push_back(name);  // a file system that does not fill in d_type
          } else if (errno != ENOENT) {
            return Error::FromErrno("removing " + path + "/" + name);
          }
        }
      }
    }
    // No descriptor is held while the subdirectories go, however deep they nest.
    dir.reset();
    for (const std::string& name : subdirs) BH_TRY(RemoveTree(root, path + "/" + name));
    if (!any) return Ok();
  }
  return Error("emptying " + path + ": it keeps filling up", EBUSY);
}

Status RemoveTree(int root, const std::string& path) {
  BH_TRY(EmptyDirectory(root, path));
  Split s = SplitPath(path);
  BH_ASSIGN(UniqueFd parent, OpenParent(root, s));
  if (unlinkat(parent.get(), s.leaf.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
    return Error::FromErrno("removing the directory " + path);
  }
  return Ok();
}

}  // namespace

Result<UniqueFd> OpenBeneath(int dir, const std::string& path, int flags, mode_t mode) {
  struct open_how how {};
  how.flags = __u64{static_cast<unsigned int>(flags | O_CLOEXEC)};
  how.mode = (flags & O_CREAT) != 0 ? mode : 0;
  how.resolve = kResolve;
  UniqueFd fd(static_cast<int>(syscall(SYS_openat2, dir, path.c_str(), &how, sizeof how)));
  if (!fd) return Error::FromErrno("opening " + path);
  return fd;
}

// No descriptor is held across a call that removes a tree: the write-back needs only two at
// a time (kWritebackFds), however deep the tree.
Status RemoveBeneath(int root, const std::string& path) {
  Split s = SplitPath(path);
  {
    BH_ASSIGN(UniqueFd parent, OpenParent(root, s));
    if (unlinkat(parent.get(), s.leaf.c_str(), 0) == 0 || errno == ENOENT) return Ok();
    if (errno != EISDIR) return Error::FromErrno("removing " + path);
  }
  return RemoveTree(root, path);
}

Status MakeDirectoryBeneath(int root, const std::string& path, mode_t mode, bool empty) {
  Split s = SplitPath(path);
  int there_err = 0;
  {
    BH_ASSIGN(UniqueFd parent, OpenParent(root, s));
    if (mkdirat(parent.get(), s.leaf.c_str(), mode) == 0) return Ok();
    if (errno != EEXIST) return Error::FromErrno("creating the directory " + path);
    Result<UniqueFd> there = OpenBeneath(parent.get(), s.leaf, O_PATH | O_DIRECTORY);
    if (!there.ok()) there_err = there.error().errno_value();
  }
  if (there_err == 0) return empty ? EmptyDirectory(root, path) : Ok();
  // ENOTDIR: a file; ELOOP: a symlink. Either gives way to the directory.
  if (there_err != ENOTDIR && there_err != ELOOP) {
    return Error::Errno(there_err, "opening " + path);
  }
  BH_TRY(RemoveBeneath(root, path));
  BH_ASSIGN(UniqueFd parent, OpenParent(root, s));
  if (mkdirat(parent.get(), s.leaf.c_str(), mode) != 0) {
    return Error::FromErrno("creating the directory " + path);
  }
  return Ok();
}

Result<UniqueFd> CreateFileBeneath(int root, const std::string& path, mode_t mode) {
  Split s = SplitPath(path);
  struct stat st {};
  {
    BH_ASSIGN(UniqueFd parent, OpenParent(root, s));
    if (fstatat(parent.get(), s.leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) st.st_mode = S_IFREG;
  }
  // Never opened for writing: a fifo would block, a device would act, a link would lead out.
  if (!S_ISREG(st.st_mode)) BH_TRY(RemoveBeneath(root, path));
  BH_ASSIGN(UniqueFd parent, OpenParent(root, s));
  BH_ASSIGN(UniqueFd fd, OpenBeneath(parent.get(), s.leaf,
                                     O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY,
                                     mode));
  if (fstat(fd.get(), &st) != 0) return Error::FromErrno("checking " + path);
  if (!S_ISREG(st.st_mode)) return Error("writing " + path + ": not a regular file", EEXIST);
  // A file that was there keeps its mode unless the monitor owns it.
  (void)fchmod(fd.get(), mode);
  return fd;
}

}  // namespace bulkhead::vmm::agent
