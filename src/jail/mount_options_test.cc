#include "jail/mount_options.h"

#include <sys/mount.h>
#include <sys/statvfs.h>

#include <gtest/gtest.h>

namespace bulkhead::jail {
namespace {

MountFlags Parse(const std::vector<std::string>& options) {
  auto r = ParseMountOptions(options);
  EXPECT_TRUE(r.ok()) << r.error().message();
  return r.ok() ? *r : MountFlags{};
}

TEST(MountOptionsTest, FlagsAndData) {
  MountFlags f = Parse({"nosuid", "strictatime", "mode=755", "size=65536k", "nodev"});
  EXPECT_EQ(f.flags, static_cast<unsigned long>(MS_NOSUID | MS_STRICTATIME | MS_NODEV));
  EXPECT_EQ(f.data, "mode=755,size=65536k");
  EXPECT_EQ(f.propagation, 0u);
  EXPECT_FALSE(f.bind());
  EXPECT_FALSE(f.has_recursive_attrs());
}

TEST(MountOptionsTest, LaterOptionsWin) {
  MountFlags rw = Parse({"ro", "rw"});
  EXPECT_EQ(rw.flags & MS_RDONLY, 0u);
  EXPECT_NE(rw.clear & MS_RDONLY, 0u);
  MountFlags ro = Parse({"rw", "ro"});
  EXPECT_NE(ro.flags & MS_RDONLY, 0u);
  EXPECT_EQ(ro.clear & MS_RDONLY, 0u);
  MountFlags exec = Parse({"noexec", "exec", "suid"});
  EXPECT_EQ(exec.flags, 0u);
  EXPECT_EQ(exec.clear, static_cast<unsigned long>(MS_NOEXEC | MS_NOSUID));
}

TEST(MountOptionsTest, BindAndPropagation) {
  MountFlags b = Parse({"rbind", "ro", "rprivate"});
  EXPECT_TRUE(b.bind());
  EXPECT_EQ(b.flags, static_cast<unsigned long>(MS_BIND | MS_REC | MS_RDONLY));
  EXPECT_EQ(b.propagation, static_cast<unsigned long>(MS_PRIVATE | MS_REC));
  MountFlags s = Parse({"bind", "shared", "slave"});
  EXPECT_EQ(s.flags, static_cast<unsigned long>(MS_BIND));
  EXPECT_EQ(s.propagation, static_cast<unsigned long>(MS_SLAVE));
  EXPECT_EQ(Parse({"runbindable"}).propagation, static_cast<unsigned long>(MS_UNBINDABLE | MS_REC));
  EXPECT_EQ(Parse({"rshared"}).propagation, static_cast<unsigned long>(MS_SHARED | MS_REC));
}

TEST(MountOptionsTest, EveryPlainOptionIsKnown) {
  // None of these may leak into filesystem data, where the kernel would reject them.
  for (const char* o : {"defaults", "sync", "async", "dirsync", "remount", "mand", "nomand",
                        "atime", "noatime", "diratime", "nodiratime", "relatime", "norelatime",
                        "nostrictatime", "dev", "silent", "loud", "iversion", "noiversion",
                        "lazytime", "nolazytime", "nosymfollow", "symfollow", "x-systemd.auto"}) {
    EXPECT_EQ(Parse({o}).data, "") << o;
  }
  EXPECT_EQ(Parse({"remount"}).flags, static_cast<unsigned long>(MS_REMOUNT));
  EXPECT_EQ(Parse({"noatime", "nodiratime"}).flags,
            static_cast<unsigned long>(MS_NOATIME | MS_NODIRATIME));
}

TEST(MountOptionsTest, RecursiveOptions) {
  MountFlags rro = Parse({"rbind", "rro"});
  EXPECT_TRUE(rro.recursive_ro);
  EXPECT_TRUE(rro.has_recursive_attrs());
  EXPECT_EQ(rro.flags & MS_RDONLY, 0u);
  MountFlags undone = Parse({"rro", "rrw"});
  EXPECT_FALSE(undone.recursive_ro);
  EXPECT_EQ(undone.attr_clr, static_cast<uint64_t>(MOUNT_ATTR_RDONLY));
  MountFlags atime = Parse({"rnoatime", "rnosuid"});
  EXPECT_EQ(atime.attr_set, static_cast<uint64_t>(MOUNT_ATTR_NOATIME | MOUNT_ATTR_NOSUID));
  // An atime mode is an enum: choosing one clears the whole field, as mount_setattr wants.
  EXPECT_EQ(atime.attr_clr, static_cast<uint64_t>(MOUNT_ATTR__ATIME));
  MountFlags flip = Parse({"rnoexec", "rexec"});
  EXPECT_EQ(flip.attr_set, 0u);
  EXPECT_EQ(flip.attr_clr, static_cast<uint64_t>(MOUNT_ATTR_NOEXEC));
}

TEST(MountOptionsTest, UnsupportedOptionsFail) {
  for (const char* o : {"tmpcopyup", "idmap", "ridmap"}) {
    auto r = ParseMountOptions({"nosuid", o});
    ASSERT_FALSE(r.ok()) << o;
    EXPECT_EQ(r.error().errno_value(), EINVAL);
    EXPECT_NE(r.error().message().find(o), std::string::npos) << r.error().message();
  }
}

TEST(MountOptionsTest, Propagation) {
  EXPECT_EQ(*ParsePropagation(""), static_cast<unsigned long>(MS_SLAVE | MS_REC));
  EXPECT_EQ(*ParsePropagation("private"), static_cast<unsigned long>(MS_PRIVATE));
  EXPECT_EQ(*ParsePropagation("rshared"), static_cast<unsigned long>(MS_SHARED | MS_REC));
  EXPECT_EQ(*ParsePropagation("unbindable"), static_cast<unsigned long>(MS_UNBINDABLE));
  auto bad = ParsePropagation("rbind");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("linux.rootfsPropagation"), std::string::npos);
}

TEST(MountOptionsTest, LockedFlags) {
  EXPECT_EQ(LockedFlagsFromStatvfs(ST_RDONLY | ST_NOSUID | ST_NOEXEC),
            static_cast<unsigned long>(MS_NOSUID | MS_NOEXEC));
  EXPECT_EQ(LockedFlagsFromStatvfs(ST_NODEV | ST_RELATIME),
            static_cast<unsigned long>(MS_NODEV | MS_RELATIME));
  EXPECT_EQ(LockedFlagsFromStatvfs(ST_NOATIME | ST_NODIRATIME),
            static_cast<unsigned long>(MS_NOATIME | MS_NODIRATIME));
  EXPECT_EQ(LockedFlagsFromStatvfs(0), 0u);
}

}  // namespace
}  // namespace bulkhead::jail
