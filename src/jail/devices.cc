#include "jail/devices.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <array>
#include <string_view>

#include "base/syscall.h"
#include "jail/rootfs_path.h"

namespace bulkhead::jail {

namespace {

constexpr mode_t kDefaultDeviceMode = 0666;
constexpr mode_t kDevDirMode = 0755;

struct DefaultDevice {
  const char* path;
  int64_t major;
  int64_t minor;
};

// Character devices every container gets (runtime-spec, "Default Devices").
constexpr std::array<DefaultDevice, 6> kDefaults = {{
    {"/dev/null", 1, 3},
    {"/dev/zero", 1, 5},
    {"/dev/full", 1, 7},
    {"/dev/random", 1, 8},
    {"/dev/urandom", 1, 9},
    {"/dev/tty", 5, 0},
}};

struct DevSymlink {
  const char* name;
  const char* target;
};

constexpr std::array<DevSymlink, 4> kSymlinks = {{
    {"fd", "/proc/self/fd"},
    {"stdin", "/proc/self/fd/0"},
    {"stdout", "/proc/self/fd/1"},
    {"stderr", "/proc/self/fd/2"},
}};

Result<mode_t> TypeBits(const oci::Device& dev) {
  if (dev.type == "c" || dev.type == "u") return static_cast<mode_t>(S_IFCHR);
  if (dev.type == "b") return static_cast<mode_t>(S_IFBLK);
  if (dev.type == "p") return static_cast<mode_t>(S_IFIFO);
  return Error("unknown device type \"" + dev.type + "\"", EINVAL);
}

dev_t DevNumber(const oci::Device& dev) {
  return makedev(static_cast<unsigned int>(dev.major), static_cast<unsigned int>(dev.minor));
}

// Splits "/dev/net/tun" into "/dev/net" and "tun".
void SplitPath(const std::string& path, std::string* dir, std::string* name) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) {
    *dir = ".";
    *name = path;
  } else {
    *dir = slash == 0 ? "/" : path.substr(0, slash);
    *name = path.substr(slash + 1);
  }
}

Status Mknod(int root_fd, const oci::Device& dev, mode_t type) {
  std::string dir, name;
  SplitPath(dev.path, &dir, &name);
  if (name.empty() || name == "." || name == "..") return Error("not a file path", EINVAL);
  BH_ASSIGN(UniqueFd parent, MkdirAllInRoot(root_fd, dir, kDevDirMode));
  // An image may ship a placeholder (or a symlink) where the node goes: replace it.
  if (unlinkat(parent.get(), name.c_str(), 0) != 0 && errno != ENOENT) {
    return Error::FromErrno("removing the existing " + name);
  }
  mode_t mode = dev.file_mode.value_or(kDefaultDeviceMode) & 07777;
  // The umask must not trim the configured mode; init is single-threaded here.
  mode_t saved = umask(0);
  int rc = mknodat(parent.get(), name.c_str(), type | mode, DevNumber(dev));
  int err = errno;
  umask(saved);
  if (rc != 0) return Error::Errno(err, "mknod");
  uid_t uid = dev.uid.value_or(0);
  gid_t gid = dev.gid.value_or(0);
  if (fchownat(parent.get(), name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) != 0) {
    return Error::FromErrno("chown");
  }
  return Ok();
}

Status BindHostNode(int root_fd, const oci::Device& dev, mode_t type) {
  int src = RetryEintr([&] { return open(dev.path.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC); });
  if (src < 0) return Error::FromErrno("opening the host's " + dev.path);
  UniqueFd host(src);
  struct stat st;
  if (fstat(host.get(), &st) != 0) return Error::FromErrno("stat of the host's " + dev.path);
  if ((st.st_mode & S_IFMT) != type || (type != S_IFIFO && st.st_rdev != DevNumber(dev))) {
    return Error("the host's " + dev.path + " is not the configured device", ENODEV);
  }
  BH_ASSIGN(UniqueFd target, MkdirAllInRoot(root_fd, dev.path, kDevDirMode, /*as_file=*/true));
  if (mount(FdPath(host.get()).c_str(), FdPath(target.get()).c_str(), nullptr, MS_BIND,
            nullptr) != 0) {
    return Error::FromErrno("bind-mounting the host's node");
  }
  return Ok();
}

}  // namespace

std::vector<oci::Device> DefaultDevices() {
  std::vector<oci::Device> out;
  for (const DefaultDevice& d : kDefaults) {
    oci::Device dev;
    dev.path = d.path;
    dev.type = "c";
    dev.major = d.major;
    dev.minor = d.minor;
    dev.file_mode = kDefaultDeviceMode;
    dev.uid = 0;
    dev.gid = 0;
    out.push_back(std::move(dev));
  }
  return out;
}

std::vector<oci::Device> DevicesToCreate(const oci::Config& config) {
  std::vector<oci::Device> out;
  for (oci::Device& d : DefaultDevices()) {
    bool overridden = false;
    for (const oci::Device& c : config.linux.devices) overridden = overridden || c.path == d.path;
    if (!overridden) out.push_back(std::move(d));
  }
  out.insert(out.end(), config.linux.devices.begin(), config.linux.devices.end());
  return out;
}

Status CreateDevices(int root_fd, const std::vector<oci::Device>& devices,
                     bool in_user_namespace) {
  for (const oci::Device& dev : devices) {
    std::string what = "device " + dev.path;
    BH_ASSIGN(mode_t type, TypeBits(dev).Context(what));
    // A fifo needs no privilege, so it is made even inside a user namespace.
    if (!in_user_namespace || type == S_IFIFO) {
      Status st = Mknod(root_fd, dev, type);
      if (st.ok()) continue;
      if (st.error().errno_value() != EPERM || type == S_IFIFO) {
        return std::move(st).Context(what);
      }
      // Refused (no CAP_MKNOD, or a nodev mount): fall through to the bind.
    }
    BH_TRY(BindHostNode(root_fd, dev, type).Context(what));
  }
  return Ok();
}

Status CreateDevSymlinks(int root_fd) {
  BH_ASSIGN(UniqueFd dev, MkdirAllInRoot(root_fd, "/dev", kDevDirMode));
  for (const DevSymlink& link : kSymlinks) {
    if (symlinkat(link.target, dev.get(), link.name) != 0 && errno != EEXIST) {
      return Error::FromErrno(std::string("creating /dev/") + link.name);
    }
  }
  if (unlinkat(dev.get(), "ptmx", 0) != 0 && errno != ENOENT) {
    return Error::FromErrno("removing /dev/ptmx");
  }
  if (symlinkat("pts/ptmx", dev.get(), "ptmx") != 0) {
    return Error::FromErrno("creating /dev/ptmx");
  }
  return Ok();
}

}  // namespace bulkhead::jail
