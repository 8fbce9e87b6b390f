#include "jail/mount_options.h"

#include <sys/mount.h>
#include <sys/statvfs.h>

#include <array>

namespace bulkhead::jail {

namespace {

// A plain option sets or clears one set of MS_* flags.
struct FlagOption {
  std::string_view name;
  bool clear;
  unsigned long flag;
};

constexpr std::array<FlagOption, 33> kFlagOptions = {{
    {"defaults", false, 0},
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"nosuid", false, MS_NOSUID},
    {"suid", true, MS_NOSUID},
    {"nodev", false, MS_NODEV},
    {"dev", true, MS_NODEV},
    {"noexec", false, MS_NOEXEC},
    {"exec", true, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},
    {"async", true, MS_SYNCHRONOUS},
    {"dirsync", false, MS_DIRSYNC},
    {"remount", false, MS_REMOUNT},
    {"mand", false, MS_MANDLOCK},
    {"nomand", true, MS_MANDLOCK},
    {"atime", true, MS_NOATIME},
    {"noatime", false, MS_NOATIME},
    {"diratime", true, MS_NODIRATIME},
    {"nodiratime", false, MS_NODIRATIME},
    {"relatime", false, MS_RELATIME},
    {"norelatime", true, MS_RELATIME},
    {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"bind", false, MS_BIND},
    {"rbind", false, MS_BIND | MS_REC},
    {"silent", false, MS_SILENT},
    {"loud", true, MS_SILENT},
    {"iversion", false, MS_I_VERSION},
    {"noiversion", true, MS_I_VERSION},
    {"lazytime", false, MS_LAZYTIME},
    {"nolazytime", true, MS_LAZYTIME},
    {"nosymfollow", false, MS_NOSYMFOLLOW},
    {"symfollow", true, MS_NOSYMFOLLOW},
}};

struct PropagationOption {
  std::string_view name;
  unsigned long flags;
};

constexpr std::array<PropagationOption, 8> kPropagation = {{
    {"private", MS_PRIVATE},
    {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},
    {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},
    {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE},
    {"runbindable", MS_UNBINDABLE | MS_REC},
}};

// Recursive options, applied with mount_setattr(2). The atime modes are an enum in the
// kernel, so choosing one must also clear the whole MOUNT_ATTR__ATIME field.
struct RecursiveOption {
  std::string_view name;
  uint64_t set;
  uint64_t clr;
};

constexpr std::array<RecursiveOption, 17> kRecursive = {{
    {"rrw", 0, MOUNT_ATTR_RDONLY},
    {"rnosuid", MOUNT_ATTR_NOSUID, 0},
    {"rsuid", 0, MOUNT_ATTR_NOSUID},
    {"rnodev", MOUNT_ATTR_NODEV, 0},
    {"rdev", 0, MOUNT_ATTR_NODEV},
    {"rnoexec", MOUNT_ATTR_NOEXEC, 0},
    {"rexec", 0, MOUNT_ATTR_NOEXEC},
    {"rnodiratime", MOUNT_ATTR_NODIRATIME, 0},
    {"rdiratime", 0, MOUNT_ATTR_NODIRATIME},
    {"rnoatime", MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME},
    {"ratime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME},
    {"rrelatime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME},
    {"rnorelatime", MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME},
    {"rstrictatime", MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME},
    {"rnostrictatime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME},
    {"rnosymfollow", MOUNT_ATTR_NOSYMFOLLOW, 0},
    {"rsymfollow", 0, MOUNT_ATTR_NOSYMFOLLOW},
}};

// Options that need features this runtime does not have; failing beats ignoring them.
constexpr std::array<std::string_view, 3> kUnsupported = {"tmpcopyup", "idmap", "ridmap"};

}  // namespace

bool MountFlags::bind() const { return (flags & MS_BIND) != 0; }

Result<MountFlags> ParseMountOptions(const std::vector<std::string>& options) {
  MountFlags out;
  for (const std::string& opt : options) {
    std::string_view name = opt;
    for (std::string_view bad : kUnsupported) {
      if (name == bad) return Error("mount option \"" + opt + "\" is not supported", EINVAL);
    }
    // fstab convention: x-* options are for userspace tools, never for the kernel.
    if (name.starts_with("x-")) continue;
    bool done = false;
    for (const PropagationOption& p : kPropagation) {
      if (name == p.name) {
        out.propagation = p.flags;
        done = true;
      }
    }
    if (done) continue;
    for (const FlagOption& f : kFlagOptions) {
      if (name != f.name) continue;
      if (f.clear) {
        out.flags &= ~f.flag;
        out.clear |= f.flag;
      } else {
        out.flags |= f.flag;
        out.clear &= ~f.flag;
      }
      done = true;
    }
    if (done) continue;
    if (name == "rro") {
      out.recursive_ro = true;
      out.attr_clr &= ~static_cast<uint64_t>(MOUNT_ATTR_RDONLY);
      continue;
    }
    for (const RecursiveOption& r : kRecursive) {
      if (name != r.name) continue;
      if (r.clr & MOUNT_ATTR_RDONLY) out.recursive_ro = false;
      out.attr_set = (out.attr_set & ~r.clr) | r.set;
      out.attr_clr = (out.attr_clr & ~r.set) | r.clr;
      done = true;
    }
    if (done) continue;
    if (name.empty()) continue;
    if (!out.data.empty()) out.data += ',';
    out.data += opt;
  }
  return out;
}

Result<unsigned long> ParsePropagation(std::string_view name) {
  if (name.empty()) return static_cast<unsigned long>(MS_SLAVE | MS_REC);
  for (const PropagationOption& p : kPropagation) {
    if (name == p.name) return p.flags;
  }
  return Error("linux.rootfsPropagation: unknown propagation \"" + std::string(name) + "\"",
               EINVAL);
}

unsigned long LockedFlagsFromStatvfs(unsigned long f_flag) {
  unsigned long out = 0;
  if (f_flag & ST_NOSUID) out |= MS_NOSUID;
  if (f_flag & ST_NODEV) out |= MS_NODEV;
  if (f_flag & ST_NOEXEC) out |= MS_NOEXEC;
  if (f_flag & ST_NOATIME) out |= MS_NOATIME;
  if (f_flag & ST_NODIRATIME) out |= MS_NODIRATIME;
  if (f_flag & ST_RELATIME) out |= MS_RELATIME;
  return out;
}

}  // namespace bulkhead::jail
