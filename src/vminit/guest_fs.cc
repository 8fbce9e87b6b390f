#include "vminit/guest_fs.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"
#include "vminit/layout.h"
#include "vmproto/wire.h"

namespace bulkhead::vminit {

namespace {

Status Mount(const char* source, const std::string& target, const char* type,
             unsigned long flags, const std::string& data) {
  if (::mount(source, target.c_str(), type, flags, data.empty() ? nullptr : data.c_str()) != 0) {
    return Error::FromErrno(std::string("mounting ") + type + " on " + target);
  }
  return Ok();
}

Status MakeDir(const std::string& path, mode_t mode = 0755) {
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) {
    return Error::FromErrno("creating " + path);
  }
  return Ok();
}

constexpr unsigned long kSafe = MS_NOSUID | MS_NODEV | MS_NOEXEC;

// A writable volume's upper must hold plain entries only (volume_sync.h).
constexpr char kWritableOverlayOptions[] = ",redirect_dir=off,index=off,metacopy=off";

}  // namespace

Status LeaveInitramfs() {
  BH_TRY(MakeDir(kNewRoot));
  BH_TRY(Mount("guestroot", kNewRoot, "tmpfs", MS_NOSUID, "mode=0755,size=1m"));
  if (chdir(kNewRoot) != 0) return Error::FromErrno(std::string("entering ") + kNewRoot);
  if (::mount(".", "/", nullptr, MS_MOVE, nullptr) != 0) {
    return Error::FromErrno("moving the guest root over the initramfs");
  }
  if (chroot(".") != 0) return Error::FromErrno("chroot into the guest root");
  if (chdir("/") != 0) return Error::FromErrno("entering /");
  return Ok();
}

Status MountGuestFilesystems() {
  for (const char* dir : {"/proc", "/sys", "/dev", "/run", "/tmp"}) BH_TRY(MakeDir(dir));
  BH_TRY(Mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755"));
  BH_TRY(Mount("proc", "/proc", "proc", kSafe, ""));
  BH_TRY(Mount("sysfs", "/sys", "sysfs", kSafe, ""));
  BH_TRY(Mount("cgroup2", "/sys/fs/cgroup", "cgroup2", kSafe, ""));
  BH_TRY(MakeDir("/dev/pts"));
  BH_TRY(Mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
               "newinstance,ptmxmode=0666,mode=0620"));
  BH_TRY(Mount("run", "/run", "tmpfs", kSafe, kRunOptions));
  BH_TRY(Mount("tmp", "/tmp", "tmpfs", kSafe, kTmpOptions));
  if (::mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID, nullptr) != 0) {
    return Error::FromErrno("making the guest root read-only");
  }
  return Ok();
}

void EnsureStdio() {
  for (int fd = 0; fd < 3; ++fd) {
    if (fcntl(fd, F_GETFD) >= 0) continue;
    int opened = open("/dev/console", O_RDWR | O_NOCTTY);
    if (opened < 0) opened = open("/dev/null", O_RDWR);
    if (opened >= 0 && opened != fd) {
      dup2(opened, fd);
      close(opened);
    }
  }
}

// The image on `disk` read-only at `lower`, a tmpfs at `rw` holding upper/ and work/, and
// their overlay at `target`, all with `flags`. The overlay's root shows the upper's root, so
// that takes the image root's owner and mode. Returns the upper directory.
Result<std::string> MountImageOverlay(const std::string& disk, const std::string& lower,
                                      const std::string& rw, const std::string& target,
                                      unsigned long flags, const std::string& tmpfs_options,
                                      const std::string& overlay_options, const std::string& what) {
  const std::string upper = rw + "/upper", work = rw + "/work";
  for (const std::string& dir : {lower, rw, target}) BH_TRY(MakeDir(dir));
  BH_TRY(Mount(disk.c_str(), lower, "erofs", MS_RDONLY | MS_NODEV | flags, "")
             .Context("the image of " + what + " (" + disk + ")"));
  BH_TRY(Mount("upper", rw, "tmpfs", flags, tmpfs_options).Context("the writable layer of " + what));
  BH_TRY(MakeDir(upper));
  BH_TRY(MakeDir(work));
  struct stat root {};
  if (stat(lower.c_str(), &root) != 0) return Error::FromErrno("reading " + lower);
  if (chown(upper.c_str(), root.st_uid, root.st_gid) != 0 || chmod(upper.c_str(), root.st_mode & 07777) != 0) {
    return Error::FromErrno("giving " + upper + " the owner and mode of " + what);
  }
  std::string options = "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work + overlay_options;
  BH_TRY(Mount("overlay", target, "overlay", flags, options).Context(what));
  return upper;
}

Status AssembleRoot(const std::string& disk, uint64_t upper_mib) {
  BH_TRY(MakeDir(kStateDir));
  BH_TRY(MountImageOverlay(disk, kLowerDir, kScratchDir, kRootDir, 0,
                           "mode=0755,size=" + std::to_string(upper_mib) + "m", "",
                           "the container's root"));
  return Ok();
}

Status MountVolume(const std::string& disk, const std::string& path) {
  BH_TRY(MakeDir(kVolumesDir));
  BH_TRY(MakeDir(path));
  return Mount(disk.c_str(), path.c_str(), "erofs", MS_RDONLY | MS_NODEV | MS_NOSUID, "")
      .Context("the volume image " + disk);
}

std::string WritableOverlayOptions(const std::string& lower, const std::string& upper,
                                   const std::string& work) {
  return "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work + kWritableOverlayOptions;
}

Result<std::string> MountWritableVolume(const std::string& disk, const std::string& path,
                                        uint32_t number, uint64_t size_mib) {
  const std::string layers = std::string(kVolumeLayersDir) + "/" + std::to_string(number);
  for (const std::string& dir : {std::string(kVolumesDir), std::string(kVolumeLayersDir), layers}) {
    BH_TRY(MakeDir(dir));
  }
  return MountImageOverlay(disk, layers + "/lower", layers + "/rw", path, MS_NODEV | MS_NOSUID,
                           "mode=0755,size=" + std::to_string(size_mib) + "m,nr_inodes=" +
                               std::to_string(size_mib * vmproto::kVolumeEntriesPerMib),
                           kWritableOverlayOptions, "the writable volume " + path);
}

}  // namespace bulkhead::vminit
