// Reshaping the filesystem view: mount, umount, the new mount API, pivot_root, chroot, and
// opening files by handle. All of them are off the seccomp allow-list (EPERM) and need
// CAP_SYS_ADMIN, CAP_SYS_CHROOT or CAP_DAC_READ_SEARCH, which are dropped.
#include <fcntl.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "attempt.h"

namespace bulkhead::escape {
namespace {

std::string MountProc() {
  mkdir("/tmp/proc2", 0755);
  // A fresh procfs would come without the masked and read-only paths.
  return Outcome(mount("proc", "/tmp/proc2", "proc", 0, nullptr));
}

std::string MountBindRoot() {
  mkdir("/tmp/root2", 0755);
  return Outcome(mount("/", "/tmp/root2", nullptr, MS_BIND | MS_REC, nullptr));
}

std::string RemountRootRw() {
  return Outcome(mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND, nullptr));
}

std::string UmountMasked() {
  // Unmounting the mask over /proc/kcore or the read-only bind over /proc/sys would expose
  // what the runtime covered.
  Probes p;
  p.Add("/proc/kcore", Outcome(umount2("/proc/kcore", MNT_DETACH)));
  p.Add("/proc/sys", Outcome(umount2("/proc/sys", MNT_DETACH)));
  return p.Result();
}

std::string NewMountApi() {
  Probes p;
  p.Add("fsopen", Outcome(syscall(SYS_fsopen, "tmpfs", 0)));
  p.Add("fspick", Outcome(syscall(SYS_fspick, AT_FDCWD, "/", 0)));
  return p.Result();
}

std::string OpenTree() {
  // A detached copy of /proc, moved elsewhere, would carry no masks.
  long fd = syscall(SYS_open_tree, AT_FDCWD, "/proc", OPEN_TREE_CLONE | AT_RECURSIVE);
  Probes p;
  p.Add("open_tree", Outcome(fd));
  mkdir("/tmp/tree", 0755);
  p.Add("move_mount",
        Outcome(syscall(SYS_move_mount, fd >= 0 ? fd : AT_FDCWD, fd >= 0 ? "" : "/proc", AT_FDCWD,
                        "/tmp/tree", fd >= 0 ? MOVE_MOUNT_F_EMPTY_PATH : 0)));
  return p.Result();
}

std::string PivotRoot() {
  mkdir("/tmp/old", 0755);
  return Outcome(syscall(SYS_pivot_root, "/tmp", "/tmp/old"));
}

std::string ChrootFchdir() {
  // The classic escape: keep a directory fd, chroot below it, fchdir back out and climb.
  int root = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return Setup("open /: " + ErrnoName(errno));
  mkdir("/tmp/jail", 0755);
  std::string seen = Outcome(chroot("/tmp/jail"));
  if (seen != "ok") return seen;
  struct stat before {};
  stat("/", &before);
  if (fchdir(root) != 0) return "ok+fchdir=" + ErrnoName(errno);
  for (int i = 0; i < 64; ++i) (void)!chdir("..");
  (void)!chroot(".");
  struct stat after {};
  stat("/", &after);
  // Reaching a root other than the container's own is the escape.
  return after.st_ino == before.st_ino && after.st_dev == before.st_dev ? "ok" : "ok+climbed";
}

std::string OpenByHandle() {
  // "Shocker": a handle naming inode 2, the root of an ext4 file system, reaches the host's
  // files without any path through the container's mounts.
  struct {
    file_handle h;
    unsigned char bytes[8];
  } handle{};
  handle.h.handle_bytes = 8;
  handle.h.handle_type = 1;  // FILEID_INO32_GEN
  handle.bytes[0] = 2;
  int mnt = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  return Outcome(open_by_handle_at(mnt, &handle.h, O_RDONLY));
}

std::string NameToHandle() {
  struct {
    file_handle h;
    unsigned char bytes[128];
  } handle{};
  handle.h.handle_bytes = 128;
  int mount_id = 0;
  return Outcome(name_to_handle_at(AT_FDCWD, "/", &handle.h, &mount_id, 0));
}

}  // namespace

void AddMountAttempts(Attempts& out) {
  const char* seccomp = "seccomp: not on the allow-list (EPERM); the capability is dropped too";
  out.push_back({"mount_proc", "mount a fresh procfs (no masks)", "EPERM", seccomp, MountProc});
  out.push_back({"mount_bind_root", "bind mount / recursively", "EPERM", seccomp, MountBindRoot});
  out.push_back({"remount_root_rw", "remount the read-only root read-write", "EPERM", seccomp,
                 RemountRootRw});
  out.push_back({"umount_masked", "unmount the masks over /proc/kcore and /proc/sys", "EPERM",
                 seccomp, UmountMasked});
  out.push_back({"new_mount_api", "fsopen tmpfs, fspick /", "EPERM", seccomp, NewMountApi});
  out.push_back(
      {"open_tree", "clone /proc with open_tree and move_mount it", "EPERM", seccomp, OpenTree});
  out.push_back({"pivot_root", "pivot_root into /tmp", "EPERM", seccomp, PivotRoot});
  out.push_back({"chroot_fchdir", "chroot, fchdir to a kept fd, climb .. and chroot again", "EPERM",
                 "seccomp: chroot refused (EPERM); CAP_SYS_CHROOT dropped", ChrootFchdir});
  out.push_back(
      {"open_by_handle_at", "open inode 2 of the file system by handle (shocker)", "EPERM",
       "seccomp: refused (EPERM); needs CAP_DAC_READ_SEARCH in the host namespace", OpenByHandle});
  out.push_back({"name_to_handle_at", "get a file handle for /", "EPERM",
                 "seccomp: refused (EPERM)", NameToHandle});
}

}  // namespace bulkhead::escape
