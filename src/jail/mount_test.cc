// PrepareRootfs + FinalizeRootfs for real: a forked child in its own mount namespace
// builds a container root from a busybox image and checks it from the inside, while the
// parent checks that the host's mount table never changed.
#include "jail/mount.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "base/fs.h"

namespace bulkhead::jail {
namespace {

constexpr long kMqueueMagic = 0x19800202;  // ipc/mqueue.c; not in linux/magic.h

std::set<std::string> HostMountPoints() {
  std::set<std::string> out;
  auto text = ReadFile("/proc/self/mountinfo");
  if (!text.ok()) return out;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string id, parent, dev, root, point;
    f >> id >> parent >> dev >> root >> point;
    out.insert(point);
  }
  return out;
}

oci::Mount M(std::string dest, std::string type, std::string source,
             std::vector<std::string> options) {
  return oci::Mount{std::move(dest), std::move(type), std::move(source), std::move(options)};
}

// Collects the failed checks of the child as text; empty means all passed.
class Checks {
 public:
  void Expect(bool ok, const std::string& what) {
    if (!ok) out_ += what + " (errno " + std::to_string(errno) + ")\n";
  }
  const std::string& failures() const { return out_; }

 private:
  std::string out_;
};

bool FsType(const char* path, long type) {
  struct statfs sf;
  return statfs(path, &sf) == 0 && static_cast<long>(sf.f_type) == type;
}

bool ReadOnly(const char* path) {
  struct statvfs sv;
  return statvfs(path, &sv) == 0 && (sv.f_flag & ST_RDONLY) != 0;
}

bool IsNull(const char* path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3);
}

int CreateErrno(const char* path) {
  int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  if (fd >= 0) {
    close(fd);
    return 0;
  }
  return errno;
}

std::string Slurp(const char* path) {
  auto r = ReadFile(path);
  return r.ok() ? *r : "";
}

class RootfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root for mount namespaces";
    if (!PathExists("/bin/busybox")) GTEST_SKIP() << "needs busybox-static";
    char tmpl[] = "/tmp/bh-mount-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    base_ = tmpl;
    // A shared mount holds the test, so any mount the child failed to keep to itself
    // would propagate back here, where NewHostMounts sees it.
    // nosuid, so a user namespace sees a locked flag that every remount must keep.
    ASSERT_EQ(mount("tmpfs", base_.c_str(), "tmpfs", MS_NOSUID, "mode=755"), 0);
    mounted_ = true;
    ASSERT_EQ(mount(nullptr, base_.c_str(), nullptr, MS_SHARED, nullptr), 0);
    rootfs_ = base_ + "/rootfs";
    ASSERT_TRUE(MkdirAll(rootfs_ + "/bin").ok());
    ASSERT_TRUE(MkdirAll(rootfs_ + "/etc").ok());
    ASSERT_TRUE(MkdirAll(rootfs_ + "/secretdir").ok());
    auto busybox = ReadFile("/bin/busybox");
    ASSERT_TRUE(busybox.ok());
    ASSERT_TRUE(WriteFileAtomic(rootfs_ + "/bin/busybox", *busybox, 0755).ok());
    for (const char* applet : {"sh", "cat", "test", "true"}) {
      ASSERT_EQ(symlink("busybox", (rootfs_ + "/bin/" + applet).c_str()), 0);
    }
    ASSERT_TRUE(WriteFileAtomic(rootfs_ + "/etc/hostname", "image\n").ok());
    ASSERT_TRUE(WriteFileAtomic(rootfs_ + "/secretdir/secret", "s3cret\n").ok());
    // The attack: a mount destination through this link must stay in the rootfs.
    ASSERT_EQ(symlink("/", (rootfs_ + "/evil").c_str()), 0);
    ASSERT_TRUE(WriteFileAtomic(base_ + "/hostfile", "from the host\n").ok());
    host_before_ = HostMountPoints();
  }

  void TearDown() override {
    if (base_.empty()) return;
    EXPECT_EQ(NewHostMounts(), std::set<std::string>{});
    if (mounted_) {
      EXPECT_EQ(umount2(base_.c_str(), MNT_DETACH), 0);
    }
    EXPECT_TRUE(RemoveAll(base_).ok());
    for (const std::string& p : HostMountPoints()) EXPECT_NE(p.rfind(base_, 0), 0u) << p;
    EXPECT_FALSE(PathExists(base_));
  }

  // Host mount points that appeared since SetUp and concern this test: under the test
  // directory, or where a container destination would land if it escaped. (Other tests
  // on the machine may mount elsewhere meanwhile.)
  std::set<std::string> NewHostMounts() {
    std::set<std::string> out;
    for (const std::string& p : HostMountPoints()) {
      if (host_before_.count(p) != 0) continue;
      bool ours = p.rfind(base_, 0) == 0 || p == "/etc" || p == "/tmp" || p == "/data" ||
                  p == "/secretdir" || p.rfind("/dev", 0) == 0 || p.rfind("/proc", 0) == 0 ||
                  p.rfind("/sys", 0) == 0;
      if (ours) out.insert(p);
    }
    return out;
  }

  // Runs `inside` in a forked child with a new mount namespace; the child reports its
  // failures as text and then waits while `while_alive` looks at the host.
  std::string RunChild(const std::function<std::string()>& inside,
                       const std::function<void()>& while_alive = [] {}) {
    int report[2], go[2];
    if (pipe2(report, O_CLOEXEC) != 0 || pipe2(go, O_CLOEXEC) != 0) return "pipe failed";
    pid_t pid = fork();
    if (pid == 0) {
      close(report[0]);
      close(go[1]);
      std::string msg;
      if (unshare(CLONE_NEWNS) != 0) {
        msg = "unshare failed";
      } else {
        msg = inside();
      }
      if (msg.empty()) msg = "OK";
      (void)WriteAll(report[1], msg);
      close(report[1]);
      char b;
      ssize_t n = read(go[0], &b, 1);
      (void)n;
      _exit(0);
    }
    close(report[1]);
    close(go[0]);
    UniqueFd r(report[0]);
    auto msg = ReadFd(r.get(), 1 << 20);
    while_alive();
    close(go[1]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return "child died";
    return msg.ok() ? *msg : "reading the report failed";
  }

  // Like RunChild, but `inside` runs as pid 1 of new pid and mount namespaces owned by a
  // new user namespace that maps every id to itself (so it is root, with the kernel's
  // user-namespace restrictions: locked mount flags, no sysfs without a network namespace).
  std::string RunInUserNamespace(const std::function<std::string()>& inside) {
    int report[2], ready[2], mapped[2];
    if (pipe2(report, O_CLOEXEC) != 0 || pipe2(ready, O_CLOEXEC) != 0 ||
        pipe2(mapped, O_CLOEXEC) != 0) {
      return "pipe failed";
    }
    pid_t pid = fork();
    if (pid == 0) {
      close(report[0]);
      char b = 0;
      if (unshare(CLONE_NEWUSER) != 0 || write(ready[1], &b, 1) != 1 ||
          read(mapped[0], &b, 1) != 1 || unshare(CLONE_NEWNS | CLONE_NEWPID) != 0) {
        _exit(3);
      }
      pid_t init = fork();
      if (init == 0) {
        std::string msg = inside();
        (void)WriteAll(report[1], msg.empty() ? "OK" : msg);
        _exit(0);
      }
      int status = 0;
      waitpid(init, &status, 0);
      _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 4);
    }
    close(report[1]);
    char b = 0;
    bool ok = read(ready[0], &b, 1) == 1;
    std::string proc = "/proc/" + std::to_string(pid);
    ok = ok && WriteExisting(proc + "/uid_map", "0 0 4294967295\n").ok() &&
         WriteExisting(proc + "/gid_map", "0 0 4294967295\n").ok();
    if (ok) ok = write(mapped[1], &b, 1) == 1;
    for (int fd : {ready[0], ready[1], mapped[0], mapped[1]}) close(fd);
    UniqueFd r(report[0]);
    auto msg = ReadFd(r.get(), 1 << 20);
    int status = 0;
    waitpid(pid, &status, 0);
    if (!ok) return "setting up the user namespace failed";
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      return "child failed with " + std::to_string(status);
    }
    return msg.ok() ? *msg : "reading the report failed";
  }

  std::string base_, rootfs_;
  bool mounted_ = false;
  std::set<std::string> host_before_;
};

std::string SetUpRootfs(const RootfsSpec& spec) {
  Status st = PrepareRootfs(spec);
  if (!st.ok()) return "PrepareRootfs: " + st.error().message();
  st = FinalizeRootfs(*spec.config);
  if (!st.ok()) return "FinalizeRootfs: " + st.error().message();
  return "";
}

TEST_F(RootfsTest, FullContainerRoot) {
  oci::Config config;
  config.root.readonly = true;
  config.mounts = {
      M("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}),
      M("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      M("/dev/pts", "devpts", "devpts",
        {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}),
      M("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
      M("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
      M("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
      M("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}),
      M("/tmp", "tmpfs", "tmpfs", {"nosuid", "nodev", "mode=1777"}),
      M("/data/hostfile", "bind", base_ + "/hostfile", {"bind", "ro"}),
      M("/evil/etc", "tmpfs", "tmpfs", {"nosuid", "nodev"}),
      M("/evil" + base_ + "/escaped", "tmpfs", "tmpfs", {}),
  };
  config.linux.masked_paths = {"/proc/kcore", "/proc/timer_list", "/proc/acpi", "/secretdir",
                               "/no/such/path"};
  config.linux.readonly_paths = {"/proc/sys", "/proc/sysrq-trigger", "/proc/bus"};
  RootfsSpec spec{&config, rootfs_, false, false};
  std::string escaped_host = base_ + "/escaped";
  std::set<std::string> during;
  std::string report = RunChild(
      [&] {
        std::string err = SetUpRootfs(spec);
        if (!err.empty()) return err;
        Checks c;
        c.Expect(PathExists("/bin/busybox"), "the image is the root");
        c.Expect(!PathExists(base_ + "/hostfile"), "the host's files are out of sight");
        c.Expect(CreateErrno("/probe") == EROFS, "/ is read-only");
        c.Expect(CreateErrno("/tmp/probe") == 0, "/tmp is writable");
        c.Expect(FsType("/tmp", TMPFS_MAGIC), "/tmp is a tmpfs");
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        c.Expect(null >= 0 && write(null, "abc", 3) == 3, "/dev/null takes writes");
        char b;
        c.Expect(null >= 0 && read(null, &b, 1) == 0, "/dev/null reads empty");
        if (null >= 0) close(null);
        c.Expect(IsNull("/dev/null"), "/dev/null is 1:3");
        int zero = open("/dev/zero", O_RDONLY | O_CLOEXEC);
        char z[4] = {1, 1, 1, 1};
        c.Expect(zero >= 0 && read(zero, z, 4) == 4 && z[0] == 0 && z[3] == 0, "/dev/zero");
        if (zero >= 0) close(zero);
        c.Expect(PathExists("/dev/tty") && PathExists("/dev/urandom"), "default devices");
        int ptmx = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        c.Expect(ptmx >= 0, "/dev/ptmx opens the container's devpts");
        if (ptmx >= 0) close(ptmx);
        c.Expect(FsType("/dev/pts", DEVPTS_SUPER_MAGIC), "/dev/pts is devpts");
        c.Expect(FsType("/dev/shm", TMPFS_MAGIC), "/dev/shm is a tmpfs");
        c.Expect(FsType("/dev/mqueue", kMqueueMagic), "/dev/mqueue is mqueue");
        c.Expect(PathExists("/dev/fd/0") || PathExists("/dev/fd"), "/dev/fd");
        c.Expect(FsType("/proc", PROC_SUPER_MAGIC), "/proc is proc");
        c.Expect(FsType("/sys", SYSFS_MAGIC) && ReadOnly("/sys"), "/sys is a read-only sysfs");
        if (PathExists("/sys/fs/cgroup/memory")) {
          c.Expect(FsType("/sys/fs/cgroup/memory", CGROUP_SUPER_MAGIC) &&
                       ReadOnly("/sys/fs/cgroup/memory"),
                   "v1 memory hierarchy bound read-only");
          c.Expect(PathExists("/sys/fs/cgroup/memory/memory.limit_in_bytes"),
                   "the memory hierarchy shows a cgroup");
          c.Expect(ReadOnly("/sys/fs/cgroup"), "the cgroup tmpfs is read-only");
        } else {
          c.Expect(FsType("/sys/fs/cgroup", CGROUP2_SUPER_MAGIC) && ReadOnly("/sys/fs/cgroup"),
                   "cgroup2 mounted read-only");
        }
        c.Expect(Slurp("/data/hostfile") == "from the host\n", "the bound host file is visible");
        c.Expect(CreateErrno("/data/hostfile") == EROFS, "the bound host file is read-only");
        struct stat st;
        c.Expect(lstat("/evil", &st) == 0 && S_ISLNK(st.st_mode), "/evil is still a symlink");
        c.Expect(FsType("/etc", TMPFS_MAGIC), "/evil/etc landed on the image's /etc");
        c.Expect(FsType(escaped_host.c_str(), TMPFS_MAGIC), "/evil/<dir> landed in the image");
        c.Expect(!PathExists("/proc/kcore") || IsNull("/proc/kcore"), "/proc/kcore masked");
        c.Expect(IsNull("/proc/timer_list"), "/proc/timer_list masked");
        c.Expect(Slurp("/proc/timer_list").empty(), "/proc/timer_list reads empty");
        c.Expect(!PathExists("/proc/acpi") ||
                     (FsType("/proc/acpi", TMPFS_MAGIC) && ReadOnly("/proc/acpi")),
                 "/proc/acpi masked");
        c.Expect(!PathExists("/secretdir/secret"), "/secretdir masked");
        c.Expect(CreateErrno("/secretdir/x") == EROFS, "the mask is read-only");
        c.Expect(ReadOnly("/proc/sys") && FsType("/proc/sys", PROC_SUPER_MAGIC),
                 "/proc/sys read-only");
        c.Expect(ReadOnly("/proc/bus"), "/proc/bus read-only");
        c.Expect(!ReadOnly("/proc"), "/proc itself stays writable");
        pid_t pid = fork();
        if (pid == 0) {
          execl("/bin/sh", "sh", "-c",
                "read x < /data/hostfile && test \"$x\" = 'from the host'", nullptr);
          _exit(127);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        c.Expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "busybox runs in the root");
        return c.failures();
      },
      [&] { during = NewHostMounts(); });
  EXPECT_EQ(report, "OK");
  EXPECT_EQ(during, std::set<std::string>{}) << "mounts leaked to the host";
  EXPECT_FALSE(PathExists(escaped_host)) << "a mount destination escaped the rootfs";
}

TEST_F(RootfsTest, NoPivot) {
  oci::Config config;
  config.root.readonly = true;
  config.mounts = {M("/proc", "proc", "proc", {}), M("/tmp", "tmpfs", "tmpfs", {})};
  config.linux.masked_paths = {"/proc/timer_list"};
  RootfsSpec spec{&config, rootfs_, false, /*no_pivot=*/true};
  std::string report = RunChild([&] {
    std::string err = SetUpRootfs(spec);
    if (!err.empty()) return err;
    Checks c;
    c.Expect(PathExists("/bin/busybox"), "the image is the root");
    c.Expect(CreateErrno("/probe") == EROFS, "/ is read-only");
    c.Expect(CreateErrno("/tmp/probe") == 0, "/tmp is writable");
    c.Expect(IsNull("/proc/timer_list"), "/proc/timer_list masked");
    c.Expect(IsNull("/dev/null"), "/dev/null made in the image's /dev");
    return c.failures();
  });
  EXPECT_EQ(report, "OK");
}

TEST_F(RootfsTest, UserNamespaceBindsDeviceNodes) {
  oci::Config config;
  config.mounts = {M("/dev", "tmpfs", "tmpfs", {"mode=755"})};
  RootfsSpec spec{&config, rootfs_, /*in_user_namespace=*/true, false};
  std::string report = RunChild([&] {
    std::string err = SetUpRootfs(spec);
    if (!err.empty()) return err;
    Checks c;
    struct stat null, dev;
    c.Expect(stat("/dev/null", &null) == 0 && stat("/dev", &dev) == 0, "stat");
    c.Expect(S_ISCHR(null.st_mode) && null.st_rdev == makedev(1, 3), "/dev/null is 1:3");
    // A bound node lives on the host's devtmpfs, not on the container's /dev tmpfs.
    c.Expect(null.st_dev != dev.st_dev, "/dev/null is the host's node");
    int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    c.Expect(fd >= 0 && write(fd, "x", 1) == 1, "/dev/null works");
    if (fd >= 0) close(fd);
    return c.failures();
  });
  EXPECT_EQ(report, "OK");
}

TEST_F(RootfsTest, InsideAUserNamespace) {
  oci::Config config;
  config.root.readonly = true;
  config.mounts = {
      M("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}),
      M("/dev", "tmpfs", "tmpfs", {"nosuid", "mode=755"}),
      M("/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666"}),
      M("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
      M("/tmp", "tmpfs", "tmpfs", {"nodev"}),
      M("/data/hostfile", "bind", base_ + "/hostfile", {"bind", "ro", "nodev"}),
  };
  config.linux.masked_paths = {"/proc/timer_list"};
  config.linux.readonly_paths = {"/proc/sys"};
  RootfsSpec spec{&config, rootfs_, /*in_user_namespace=*/true, false};
  std::string report = RunInUserNamespace([&] {
    std::string err = SetUpRootfs(spec);
    if (!err.empty()) return err;
    Checks c;
    c.Expect(CreateErrno("/probe") == EROFS, "/ is read-only");
    c.Expect(CreateErrno("/tmp/probe") == 0, "/tmp is writable");
    int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    c.Expect(fd >= 0 && write(fd, "x", 1) == 1, "/dev/null (bound from the host) works");
    if (fd >= 0) close(fd);
    c.Expect(FsType("/sys", SYSFS_MAGIC) && ReadOnly("/sys"), "/sys: the host's, read-only");
    c.Expect(Slurp("/data/hostfile") == "from the host\n", "the bound host file is visible");
    c.Expect(CreateErrno("/data/hostfile") == EROFS, "the bound host file is read-only");
    c.Expect(IsNull("/proc/timer_list"), "/proc/timer_list masked");
    c.Expect(ReadOnly("/proc/sys"), "/proc/sys read-only");
    c.Expect(getpid() == 1 && Slurp("/proc/1/comm") != "", "/proc shows our pid namespace");
    return c.failures();
  });
  EXPECT_EQ(report, "OK");
}

TEST_F(RootfsTest, ErrorsNameTheMount) {
  oci::Config config;
  config.mounts = {M("/tmp", "tmpfs", "tmpfs", {}),
                   M("/x", "no-such-fs", "none", {"nosuid"})};
  RootfsSpec spec{&config, rootfs_, false, false};
  std::string report = RunChild([&] { return SetUpRootfs(spec); });
  EXPECT_EQ(report.rfind("PrepareRootfs: mounts[1] (no-such-fs on /x): mounting: ", 0), 0u)
      << report;
  config.mounts = {M("/tmp", "tmpfs", "tmpfs", {"tmpcopyup"})};
  report = RunChild([&] { return SetUpRootfs(spec); });
  EXPECT_NE(report.find("mounts[0] (tmpfs on /tmp): mount option \"tmpcopyup\""),
            std::string::npos)
      << report;
  config.mounts = {};
  config.linux.rootfs_propagation = "sideways";
  report = RunChild([&] { return SetUpRootfs(spec); });
  EXPECT_NE(report.find("linux.rootfsPropagation"), std::string::npos) << report;
}

TEST_F(RootfsTest, SharedRootPropagationStaysInside) {
  oci::Config config;
  config.mounts = {M("/proc", "proc", "proc", {}), M("/tmp", "tmpfs", "tmpfs", {})};
  config.linux.rootfs_propagation = "rshared";
  RootfsSpec spec{&config, rootfs_, false, false};
  std::set<std::string> during;
  std::string report = RunChild(
      [&] {
        std::string err = SetUpRootfs(spec);
        if (!err.empty()) return err;
        // The new root is shared (for mounts made later inside), in a peer group of its own.
        std::string mountinfo = Slurp("/proc/self/mountinfo");
        std::string first = mountinfo.substr(0, mountinfo.find('\n'));
        bool shared = first.find(" / ") != std::string::npos &&
                      first.find(" shared:") != std::string::npos;
        return shared ? std::string() : "/ is not shared: " + first;
      },
      [&] { during = NewHostMounts(); });
  EXPECT_EQ(report, "OK");
  EXPECT_EQ(during, std::set<std::string>{});
}

}  // namespace
}  // namespace bulkhead::jail
