#include "jail/mount.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/syscall.h"
#include "jail/cgroup_mounts.h"
#include "jail/devices.h"
#include "jail/mount_options.h"
#include "jail/rootfs_path.h"

namespace bulkhead::jail {

namespace {

constexpr mode_t kDirMode = 0755;
constexpr unsigned long kRdonly = MS_RDONLY;
constexpr unsigned long kAtimeFlags = MS_NOATIME | MS_RELATIME | MS_STRICTATIME;
// Flags that say how to mount rather than what the mount carries.
constexpr unsigned long kHowFlags = MS_BIND | MS_REC | MS_REMOUNT;

struct Ctx {
  const RootfsSpec& spec;
  int root = -1;
  // A read-only /dev is made read-only only after its device nodes exist.
  bool dev_readonly = false;
  MountFlags dev_flags;
};

Status Fail(std::string_view what) { return Error::FromErrno(what); }

bool NotFound(const Error& e) { return e.errno_value() == ENOENT || e.errno_value() == ENOTDIR; }

// "/dev/", "//dev" and "/dev/." all name /dev; enough to recognise a destination.
std::string CleanDest(std::string_view p) {
  std::string out;
  size_t pos = 0;
  while (pos < p.size()) {
    size_t next = p.find('/', pos);
    if (next == std::string_view::npos) next = p.size();
    std::string_view part = p.substr(pos, next - pos);
    if (!part.empty() && part != ".") {
      out += '/';
      out += part;
    }
    pos = next + 1;
  }
  return out.empty() ? "/" : out;
}

std::string Describe(size_t i, const oci::Mount& m) {
  std::string type = m.type.empty() ? "bind" : m.type;
  return "mounts[" + std::to_string(i) + "] (" + type + " on " + m.destination + ")";
}

Status MountAt(const std::string& source, int target_fd, const char* fstype,
               unsigned long flags, const std::string& data) {
  const char* d = data.empty() ? nullptr : data.c_str();
  if (mount(source.c_str(), FdPath(target_fd).c_str(), fstype, flags, d) != 0) {
    return Fail("mounting");
  }
  return Ok();
}

// Sets the per-mount flags of the mount at `target`. Flags it already carries stay unless
// `clear` names them: silently dropping a host mount's nosuid/nodev/noexec would weaken
// it, and inside a user namespace the kernel refuses that (EPERM) anyway.
Status RemountBind(const std::string& target, unsigned long set, unsigned long clear) {
  struct statvfs sv;
  if (statvfs(target.c_str(), &sv) != 0) return Fail("reading the mount's flags");
  unsigned long keep = LockedFlagsFromStatvfs(sv.f_flag);
  if ((set & kAtimeFlags) != 0) keep &= ~kAtimeFlags;
  unsigned long flags = MS_BIND | MS_REMOUNT | (set & ~kHowFlags) | (keep & ~clear);
  if (mount(nullptr, target.c_str(), nullptr, flags, nullptr) != 0) return Fail("remounting");
  return Ok();
}

Status SetAttrs(int fd, uint64_t set, uint64_t clr) {
  struct mount_attr attr {};
  attr.attr_set = set;
  attr.attr_clr = clr;
  if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) != 0) {
    if (errno == ENOSYS) return Error("recursive mount options need Linux 5.12", ENOSYS);
    return Fail("setting recursive mount attributes");
  }
  return Ok();
}

// Read-only for the mount on fd and every mount below it; where mount_setattr is missing,
// only the top one.
Status MakeReadonlyTree(int fd) {
  Status st = SetAttrs(fd, MOUNT_ATTR_RDONLY, 0);
  if (st.ok() || st.error().errno_value() != ENOSYS) return st;
  return RemountBind(FdPath(fd), MS_RDONLY, 0);
}

Result<UniqueFd> OpenHost(const std::string& path, int flags) {
  int fd = RetryEintr([&] { return open(path.c_str(), flags | O_CLOEXEC); });
  if (fd < 0) return Error::FromErrno("opening the host's " + path);
  return UniqueFd(fd);
}

// Binds a host directory onto `rel` below base_fd; returns the new mount's root.
Result<UniqueFd> BindHostDir(const std::string& host, int base_fd, const std::string& rel,
                             unsigned long rec) {
  BH_ASSIGN(UniqueFd src, OpenHost(host, O_PATH | O_DIRECTORY));
  BH_ASSIGN(UniqueFd dst, MkdirAllInRoot(base_fd, rel, kDirMode));
  BH_TRY(MountAt(FdPath(src.get()), dst.get(), nullptr, MS_BIND | rec, ""));
  return OpenInRoot(base_fd, rel, O_PATH);
}

Status BindMount(Ctx& c, const oci::Mount& m, const MountFlags& mf) {
  if (m.source.empty()) return Error("a bind mount needs a source", EINVAL);
  // Host paths are the runtime's to trust; relative ones start at the bundle (our cwd).
  BH_ASSIGN(UniqueFd src, OpenHost(m.source, O_PATH));
  struct stat st;
  if (fstat(src.get(), &st) != 0) return Fail("stat of the source " + m.source);
  BH_ASSIGN(UniqueFd dst, MkdirAllInRoot(c.root, m.destination, kDirMode, !S_ISDIR(st.st_mode)));
  BH_TRY(MountAt(FdPath(src.get()), dst.get(), nullptr, MS_BIND | (mf.flags & MS_REC), ""));
  // A bind ignores every flag but MS_REC: ro, nosuid and friends need a second pass.
  if ((mf.flags & ~kHowFlags) == 0 && mf.clear == 0) return Ok();
  BH_ASSIGN(UniqueFd top, OpenInRoot(c.root, m.destination, O_PATH));
  return RemountBind(FdPath(top.get()), mf.flags, mf.clear);
}

// v2 host: cgroup2 itself when the container has its own cgroup namespace (the mount then
// shows only its subtree), else a bind of the container's own cgroup directory. v1 and
// hybrid hosts: a tmpfs holding one read-only bind of the container's cgroup per hierarchy.
Status CgroupMount(Ctx& c, const oci::Mount& m, const MountFlags& mf) {
  CgroupMounts cg;
  if (c.spec.cgroups) {
    cg = *c.spec.cgroups;
  } else {
    BH_ASSIGN(cg, DetectCgroups().Context("finding the host's cgroups"));
  }
  BH_ASSIGN(UniqueFd dst, MkdirAllInRoot(c.root, m.destination, kDirMode));
  unsigned long flags = mf.flags & ~kHowFlags;
  if (cg.layout == CgroupLayout::kV2 && cg.Unified() != nullptr) {
    const CgroupHierarchy& h = *cg.Unified();
    if (oci::FindNamespace(c.spec.config->linux, "cgroup") != nullptr) {
      Status st = MountAt("cgroup2", dst.get(), "cgroup2", flags, "");
      // EPERM/EBUSY: a user namespace that may not mount it; the bind below still works.
      if (st.ok() || (st.error().errno_value() != EPERM && st.error().errno_value() != EBUSY)) {
        return st;
      }
    }
    BH_ASSIGN(UniqueFd top, BindHostDir(JoinPath(h.mount_point, h.self), c.root, m.destination,
                                        MS_REC));
    return RemountBind(FdPath(top.get()), flags, mf.clear);
  }
  BH_TRY(MountAt("tmpfs", dst.get(), "tmpfs", flags & ~kRdonly, "mode=755"));
  BH_ASSIGN(UniqueFd top, OpenInRoot(c.root, m.destination, O_PATH | O_DIRECTORY));
  for (const CgroupHierarchy& h : cg.hierarchies) {
    std::string name = h.mount_point.substr(h.mount_point.find_last_of('/') + 1);
    std::string what = "binding the " + name + " hierarchy";
    BH_ASSIGN(UniqueFd sub, BindHostDir(JoinPath(h.mount_point, h.self), top.get(), name, 0)
                                .Context(what));
    // Always read-only: writing its own v1 limits would let a container lift them.
    BH_TRY(RemountBind(FdPath(sub.get()), flags | MS_RDONLY, mf.clear & ~kRdonly).Context(what));
  }
  if ((flags & MS_RDONLY) == 0) return Ok();
  return RemountBind(FdPath(top.get()), flags, mf.clear);
}

Status FsMount(Ctx& c, const oci::Mount& m, const MountFlags& mf) {
  if (m.type.empty()) return Error("the mount has no type", EINVAL);
  BH_ASSIGN(UniqueFd dst, MkdirAllInRoot(c.root, m.destination, kDirMode));
  unsigned long flags = mf.flags;
  if (CleanDest(m.destination) == "/dev" && (flags & MS_RDONLY) != 0) {
    flags &= ~kRdonly;
    c.dev_readonly = true;
    c.dev_flags = mf;
  }
  const std::string& source = m.source.empty() ? m.type : m.source;
  Status st = MountAt(source, dst.get(), m.type.c_str(), flags, mf.data);
  if (st.ok() || st.error().errno_value() != EPERM || !c.spec.in_user_namespace) return st;
  // A user namespace may mount sysfs only with a network namespace of its own, and mqueue
  // only with its own ipc namespace: show the host's instead, as rootless runc does.
  if (m.type == "sysfs") {
    BH_ASSIGN(UniqueFd top, BindHostDir("/sys", c.root, m.destination, MS_REC));
    return MakeReadonlyTree(top.get()).Context("sysfs fallback");
  }
  if (m.type == "mqueue") {
    BH_ASSIGN(UniqueFd top, BindHostDir("/dev/mqueue", c.root, m.destination, 0));
    return RemountBind(FdPath(top.get()), flags, mf.clear).Context("mqueue fallback");
  }
  return st;
}

Status MountOne(Ctx& c, const oci::Mount& m) {
  BH_ASSIGN(MountFlags mf, ParseMountOptions(m.options));
  if (mf.bind() || m.type == "bind") {
    BH_TRY(BindMount(c, m, mf));
  } else if (m.type == "cgroup") {
    BH_TRY(CgroupMount(c, m, mf));
  } else {
    BH_TRY(FsMount(c, m, mf));
  }
  if (mf.propagation == 0 && !mf.has_recursive_attrs()) return Ok();
  BH_ASSIGN(UniqueFd top, OpenInRoot(c.root, m.destination, O_PATH));
  if (mf.has_recursive_attrs()) {
    uint64_t set = mf.attr_set | (mf.recursive_ro ? MOUNT_ATTR_RDONLY : 0);
    BH_TRY(SetAttrs(top.get(), set, mf.attr_clr));
  }
  if (mf.propagation != 0 &&
      mount(nullptr, FdPath(top.get()).c_str(), nullptr, mf.propagation, nullptr) != 0) {
    return Fail("setting propagation");
  }
  return Ok();
}

bool DevIsHostBind(const oci::Config& config) {
  for (const oci::Mount& m : config.mounts) {
    if (CleanDest(m.destination) != "/dev") continue;
    bool bind = m.type == "bind";
    for (const std::string& o : m.options) bind = bind || o == "bind" || o == "rbind";
    if (bind) return true;
  }
  return false;
}

// pivot_root refuses a new root whose parent mount is shared, and binding the rootfs
// under a shared mount would show the bind to the host: make the closest mount private.
Status MakeParentPrivate(const std::string& rootfs) {
  std::string path = rootfs;
  for (;;) {
    if (mount(nullptr, path.c_str(), nullptr, MS_PRIVATE, nullptr) == 0) return Ok();
    if (errno != EINVAL || path == "/" || path.empty()) {
      return Fail("making the mount that holds the rootfs private");
    }
    size_t slash = path.find_last_of('/');
    path = slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
  }
}

// pivot_root(".", ".") stacks the old root on top of the new one; the old root is then
// detached from where it sits. No directory for it is needed inside the image.
Status PivotRoot(int root_fd) {
  BH_ASSIGN(UniqueFd old_root, OpenHost("/", O_DIRECTORY | O_RDONLY));
  if (fchdir(root_fd) != 0) return Fail("entering the rootfs");
  if (syscall(SYS_pivot_root, ".", ".") != 0) return Fail("pivot_root");
  if (fchdir(old_root.get()) != 0) return Fail("entering the old root");
  // rslave first, so the detach cannot propagate to the host's mounts.
  if (mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) != 0) {
    return Fail("making the old root a slave");
  }
  if (umount2(".", MNT_DETACH) != 0) return Fail("detaching the old root");
  return Ok();
}

// --no-pivot (e.g. on a ramfs root, where pivot_root is impossible). Weaker: the host's
// mounts stay in the namespace underneath, hidden only by chroot.
Status MoveRoot(const std::string& rootfs, int root_fd) {
  if (fchdir(root_fd) != 0) return Fail("entering the rootfs");
  if (mount(rootfs.c_str(), "/", nullptr, MS_MOVE, nullptr) != 0) {
    return Fail("moving the rootfs onto /");
  }
  if (chroot(".") != 0) return Fail("chroot");
  return Ok();
}

// FdPath needs the container's proc; an image's own /proc directory must not stand in.
Status RequireProc(bool* checked) {
  if (*checked) return Ok();
  struct statfs sf;
  if (statfs("/proc", &sf) != 0 || sf.f_type != PROC_SUPER_MAGIC) {
    return Error("needs proc mounted at /proc", ENOENT);
  }
  *checked = true;
  return Ok();
}

Status ReadonlyPath(int root, const std::string& path, bool* proc_ok) {
  Result<UniqueFd> fd = OpenInRoot(root, path, O_PATH);
  if (!fd.ok()) return NotFound(fd.error()) ? Ok() : Status(std::move(fd).error());
  BH_TRY(RequireProc(proc_ok));
  std::string at = FdPath(fd->get());
  if (mount(at.c_str(), at.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    return Fail("binding onto itself");
  }
  BH_ASSIGN(UniqueFd top, OpenInRoot(root, path, O_PATH));
  return MakeReadonlyTree(top.get());
}

Status MaskPath(int root, const std::string& path, UniqueFd* null, bool* proc_ok) {
  Result<UniqueFd> fd = OpenInRoot(root, path, O_PATH);
  if (!fd.ok()) return NotFound(fd.error()) ? Ok() : Status(std::move(fd).error());
  BH_TRY(RequireProc(proc_ok));
  struct stat st;
  if (fstat(fd->get(), &st) != 0) return Fail("stat");
  if (S_ISDIR(st.st_mode)) {
    return MountAt("tmpfs", fd->get(), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                   "mode=755");
  }
  if (!null->valid()) {
    // Only the real null device may cover a file, not an image's look-alike.
    BH_ASSIGN(*null, OpenInRoot(root, "/dev/null", O_PATH));
    struct stat ns;
    if (fstat(null->get(), &ns) != 0 || !S_ISCHR(ns.st_mode) || ns.st_rdev != makedev(1, 3)) {
      return Error("/dev/null is not the null device", ENODEV);
    }
  }
  return MountAt(FdPath(null->get()), fd->get(), nullptr, MS_BIND, "");
}

}  // namespace

Status PrepareRootfs(const RootfsSpec& spec) {
  const oci::Config& config = *spec.config;
  BH_ASSIGN(unsigned long propagation, ParsePropagation(config.linux.rootfs_propagation));
  if (mount(nullptr, "/", nullptr, propagation, nullptr) != 0) {
    return Fail("linux.rootfsPropagation: applying it to /");
  }
  BH_TRY(MakeParentPrivate(spec.rootfs));
  if (mount(spec.rootfs.c_str(), spec.rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    return Fail("binding the rootfs " + spec.rootfs + " onto itself");
  }
  BH_ASSIGN(UniqueFd root, OpenHost(spec.rootfs, O_PATH | O_DIRECTORY).Context("root.path"));
  Ctx c{spec, root.get()};
  for (size_t i = 0; i < config.mounts.size(); ++i) {
    BH_TRY(MountOne(c, config.mounts[i]).Context(Describe(i, config.mounts[i])));
  }
  if (!DevIsHostBind(config)) {
    BH_TRY(CreateDevices(root.get(), DevicesToCreate(config), spec.in_user_namespace)
               .Context("creating devices"));
    BH_TRY(CreateDevSymlinks(root.get()).Context("creating /dev symlinks"));
  }
  if (c.dev_readonly) {
    BH_ASSIGN(UniqueFd dev, OpenInRoot(root.get(), "/dev", O_PATH | O_DIRECTORY));
    BH_TRY(RemountBind(FdPath(dev.get()), c.dev_flags.flags, c.dev_flags.clear)
               .Context("making /dev read-only"));
  }
  if (spec.before_pivot) BH_TRY(spec.before_pivot());
  BH_TRY(spec.no_pivot ? MoveRoot(spec.rootfs, root.get()) : PivotRoot(root.get()));
  // Only now may "/" become shared: before the pivot that would have been the host's root.
  if ((propagation & MS_PRIVATE) == 0 &&
      mount(nullptr, "/", nullptr, propagation, nullptr) != 0) {
    return Fail("linux.rootfsPropagation: applying it to the new /");
  }
  if (chdir("/") != 0) return Fail("entering /");
  return Ok();
}

Status FinalizeRootfs(const oci::Config& config) {
  BH_ASSIGN(UniqueFd root, OpenHost("/", O_PATH | O_DIRECTORY));
  bool proc_ok = false;
  for (const std::string& p : config.linux.readonly_paths) {
    BH_TRY(ReadonlyPath(root.get(), p, &proc_ok).Context("linux.readonlyPaths " + p));
  }
  UniqueFd null;
  for (const std::string& p : config.linux.masked_paths) {
    BH_TRY(MaskPath(root.get(), p, &null, &proc_ok).Context("linux.maskedPaths " + p));
  }
  if (config.root.readonly) {
    BH_TRY(RemountBind("/", MS_RDONLY, 0).Context("root.readonly: remounting / read-only"));
  }
  return Ok();
}

}  // namespace bulkhead::jail
