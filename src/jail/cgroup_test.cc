// Real-host tests: they make cgroups named bulkhead-test-<pid>-* and remove them again.
#include "jail/cgroup.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "base/fs.h"
#include "jail/cgroup_knobs.h"

namespace bulkhead::jail {
namespace {

using namespace std::chrono_literals;

std::string TestPath(const char* what) {
  return "/bulkhead-test-" + std::to_string(::getpid()) + "-" + what;
}

// A child that counts in shared memory until killed, to see whether it runs.
class Spinner {
 public:
  Spinner() {
    void* p = ::mmap(nullptr, sizeof(std::atomic<uint64_t>), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    counter_ = new (p) std::atomic<uint64_t>(0);
    pid_ = ::fork();
    if (pid_ == 0) {
      for (;;) counter_->fetch_add(1, std::memory_order_relaxed);
    }
  }
  ~Spinner() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::munmap(counter_, sizeof(*counter_));
  }
  pid_t pid() const { return pid_; }
  uint64_t count() const { return counter_->load(); }
  bool Advances() const {
    uint64_t before = count();
    std::this_thread::sleep_for(50ms);
    return count() != before;
  }
  // The signal that ended the child, or 0; -1 when it is still there after limit.
  int WaitFor(std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) return -1;
      std::this_thread::sleep_for(10ms);
    }
    reaped_ = true;
    return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  }
  // The signal that ended the child, or 0.
  int Wait() {
    int status = 0;
    if (::waitpid(pid_, &status, 0) != pid_) return 0;
    reaped_ = true;
    return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  }

 private:
  std::atomic<uint64_t>* counter_ = nullptr;
  pid_t pid_ = -1;
  bool reaped_ = false;
};

std::string Knob(const Cgroup& cg, std::string_view controller, std::string_view file) {
  const Cgroup::Dir* d = cg.DirFor(controller);
  if (d == nullptr) return "<no " + std::string(controller) + ">";
  auto text = ReadKnob(d->path, file);
  return text.ok() ? *text : "<" + text.error().message() + ">";
}

class CgroupHost : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    auto m = DetectCgroups();
    ASSERT_TRUE(m.ok()) << m.error().message();
    mounts_ = std::move(*m);
  }
  // Removes a leftover test directory in every hierarchy, whatever the test did.
  void Cleanup(const std::string& path) {
    auto cg = Cgroup::Open(mounts_, path, "x");
    if (cg.ok()) (void)cg->Destroy();
  }
  CgroupMounts mounts_;
};

TEST_F(CgroupHost, FullLifecycle) {
  const std::string path = TestPath("life");
  auto created = Cgroup::Create(mounts_, path, "life");
  ASSERT_TRUE(created.ok()) << created.error().message();
  Cgroup cg = std::move(*created);
  for (const Cgroup::Dir& d : cg.dirs()) EXPECT_TRUE(PathExists(d.path)) << d.path;
  ASSERT_EQ(cg.dirs().size(), mounts_.hierarchies.size());

  oci::Resources r;
  r.memory.emplace();
  r.memory->limit = 64 << 20;
  r.pids_limit = 32;
  r.cpu.emplace();
  r.cpu->quota = 50000;
  r.cpu->period = 100000;
  oci::DeviceRule fuse;
  fuse.allow = true;
  fuse.type = "c";
  fuse.major = 10;
  fuse.minor = 229;
  fuse.access = "rw";
  r.devices = {fuse};
  // On hybrid hosts hugetlb lives in the cgroup2 tree while the rest is v1.
  bool hugetlb = cg.DirFor("hugetlb") != nullptr &&
                 PathExists("/sys/kernel/mm/hugepages/hugepages-2048kB");
  if (hugetlb) r.hugepage_limits.push_back({"2MB", 8u << 20});
  Status st = cg.Apply(r);
  ASSERT_TRUE(st.ok()) << st.error().message();
  if (hugetlb) {
    EXPECT_EQ(Knob(cg, "hugetlb", cg.DirFor("hugetlb")->hierarchy.v2 ? "hugetlb.2MB.max"
                                                                      : "hugetlb.2MB.limit_in_bytes"),
              "8388608");
  }

  const Cgroup::Dir* mem = cg.DirFor("memory");
  ASSERT_NE(mem, nullptr);
  EXPECT_EQ(Knob(cg, "memory", mem->hierarchy.v2 ? "memory.max" : "memory.limit_in_bytes"),
            "67108864");
  EXPECT_EQ(Knob(cg, "pids", "pids.max"), "32");
  if (cg.DirFor("cpu")->hierarchy.v2) {
    EXPECT_EQ(Knob(cg, "cpu", "cpu.max"), "50000 100000");
  } else {
    EXPECT_EQ(Knob(cg, "cpu", "cpu.cfs_quota_us"), "50000");
    EXPECT_EQ(Knob(cg, "cpu", "cpu.cfs_period_us"), "100000");
  }
  if (!cg.DirFor("devices")->hierarchy.v2) {
    std::string list = Knob(cg, "devices", "devices.list");
    EXPECT_NE(list.find("c 10:229 rw"), std::string::npos) << list;
    EXPECT_NE(list.find("c 1:3 rwm"), std::string::npos) << list;
    EXPECT_NE(list.find("c 136:* rwm"), std::string::npos) << list;
    EXPECT_EQ(list.find("a *:* rwm"), std::string::npos) << list;  // no longer allow-all
  }

  Spinner child;
  ASSERT_TRUE(cg.AddProcess(child.pid()).ok());
  for (const Cgroup::Dir& d : cg.dirs()) {
    auto procs = ReadKnob(d.path, "cgroup.procs");
    ASSERT_TRUE(procs.ok());
    EXPECT_EQ(*procs, std::to_string(child.pid())) << d.path;
  }
  auto pids = cg.Pids();
  ASSERT_TRUE(pids.ok()) << pids.error().message();
  EXPECT_EQ(*pids, std::vector<pid_t>{child.pid()});
  EXPECT_TRUE(child.Advances());

  ASSERT_TRUE(cg.Freeze().ok());
  auto frozen = cg.IsFrozen();
  ASSERT_TRUE(frozen.ok());
  EXPECT_TRUE(*frozen);
  EXPECT_FALSE(child.Advances());
  ASSERT_TRUE(cg.Thaw().ok());
  EXPECT_FALSE(*cg.IsFrozen());
  EXPECT_TRUE(child.Advances());

  auto stats = cg.ReadStats();
  ASSERT_TRUE(stats.ok()) << stats.error().message();
  EXPECT_EQ(stats->pids.current, 1u);
  EXPECT_EQ(stats->pids.limit, 32u);
  EXPECT_EQ(stats->memory.limit, uint64_t{64} << 20);
  EXPECT_GT(stats->cpu.usage_ns, 0u);
  EXPECT_GT(stats->cpu.periods, 0u);  // the quota makes the kernel count periods

  ASSERT_TRUE(cg.KillAll(SIGKILL).ok());
  EXPECT_EQ(child.Wait(), SIGKILL);
  EXPECT_FALSE(*cg.IsFrozen());  // thawed again after the kill

  st = cg.Destroy();
  ASSERT_TRUE(st.ok()) << st.error().message();
  for (const Cgroup::Dir& d : cg.dirs()) EXPECT_FALSE(PathExists(d.path)) << d.path;
  EXPECT_FALSE(cg.Exists());
  EXPECT_TRUE(cg.Destroy().ok());  // already gone is fine
}

TEST_F(CgroupHost, MemoryLimitHoldsAndOomKillsAreCounted) {
  const std::string path = TestPath("oom");
  auto cg = Cgroup::Create(mounts_, path, "oom");
  ASSERT_TRUE(cg.ok()) << cg.error().message();
  if (cg->DirFor("memory") == nullptr) GTEST_SKIP() << "no memory controller";
  oci::Resources r;
  r.memory.emplace();
  r.memory->limit = 16 << 20;
  ASSERT_TRUE(cg->Apply(r).ok());
  int sync[2];
  ASSERT_EQ(::pipe2(sync, O_CLOEXEC), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    char c;
    if (::read(sync[0], &c, 1) != 1) ::_exit(100);
    // Touch 64 MiB, four times the limit; the OOM killer should end this.
    size_t size = 64u << 20;
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) ::_exit(101);
    for (size_t i = 0; i < size; i += 4096) static_cast<volatile char*>(p)[i] = 1;
    ::_exit(0);
  }
  ::close(sync[0]);
  ASSERT_TRUE(cg->AddProcess(pid).ok());
  ASSERT_EQ(::write(sync[1], "x", 1), 1);
  ::close(sync[1]);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
  auto stats = cg->ReadStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_GE(stats->memory.oom_kill, 1u);
  EXPECT_GT(stats->memory.failcnt, 0u);
  EXPECT_GT(stats->memory.max_usage, 0u);
  EXPECT_LE(stats->memory.max_usage, uint64_t{16} << 20);
  EXPECT_TRUE(cg->Destroy().ok());
}

TEST_F(CgroupHost, EvictKernelThreadsLeavesUserProcessesWhereTheyAre) {
  const std::string path = TestPath("evict");
  auto created = Cgroup::Create(mounts_, path, "evict");
  ASSERT_TRUE(created.ok()) << created.error().message();
  Cgroup cg = std::move(*created);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    pause();
    _exit(0);
  }
  ASSERT_TRUE(cg.AddProcess(child).ok());
  auto moved = cg.EvictKernelThreads();
  ASSERT_TRUE(moved.ok()) << moved.error().message();
  EXPECT_EQ(*moved, 0);
  auto pids = cg.Pids();
  ASSERT_TRUE(pids.ok());
  EXPECT_EQ(*pids, std::vector<pid_t>{child});
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  EXPECT_TRUE(cg.Destroy().ok());
}

TEST_F(CgroupHost, OpenFindsWhatCreateMade) {
  const std::string path = TestPath("open");
  auto created = Cgroup::Create(mounts_, path, "open");
  ASSERT_TRUE(created.ok()) << created.error().message();
  Spinner child;
  ASSERT_TRUE(created->AddProcess(child.pid()).ok());
  auto opened = Cgroup::Open(mounts_, path, "open");
  ASSERT_TRUE(opened.ok());
  EXPECT_TRUE(opened->Exists());
  auto pids = opened->Pids();
  ASSERT_TRUE(pids.ok());
  EXPECT_EQ(*pids, std::vector<pid_t>{child.pid()});
  // A second container may not move into a cgroup that is in use.
  auto again = Cgroup::Create(mounts_, path, "open");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().errno_value(), EEXIST);
  EXPECT_TRUE(opened->Exists());  // and the failed attempt removed nothing
  ASSERT_TRUE(opened->KillAll(SIGTERM).ok());
  EXPECT_EQ(child.Wait(), SIGTERM);
  EXPECT_TRUE(opened->Destroy().ok());
  EXPECT_FALSE(created->Exists());
}

TEST_F(CgroupHost, FailedCreateLeavesNothingBehind) {
  const std::string path = TestPath("fail");
  CgroupMounts broken = mounts_;
  CgroupHierarchy bogus;
  bogus.mount_point = "/proc/bulkhead-no-such-hierarchy";
  bogus.controllers = {"bogus"};
  broken.hierarchies.push_back(bogus);
  auto created = Cgroup::Create(broken, path, "fail");
  ASSERT_FALSE(created.ok());
  EXPECT_NE(created.error().message().find("/proc/bulkhead-no-such-hierarchy"), std::string::npos)
      << created.error().message();
  auto probe = Cgroup::Open(mounts_, path, "fail");
  ASSERT_TRUE(probe.ok());
  for (const Cgroup::Dir& d : probe->dirs()) EXPECT_FALSE(PathExists(d.path)) << d.path;
  Cleanup(path);
}

TEST_F(CgroupHost, ErrorsNameTheFieldAndTheFile) {
  const std::string path = TestPath("err");
  auto cg = Cgroup::Create(mounts_, path, "err");
  ASSERT_TRUE(cg.ok()) << cg.error().message();
  oci::Resources r;
  r.cpu.emplace();
  r.cpu->quota = 500;  // below the kernel's 1ms minimum
  r.cpu->period = 100000;
  Status st = cg->Apply(r);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().errno_value(), EINVAL);
  const std::string& msg = st.error().message();
  std::string file = cg->DirFor("cpu")->path +
                     (cg->DirFor("cpu")->hierarchy.v2 ? "/cpu.max" : "/cpu.cfs_quota_us");
  EXPECT_EQ(msg.rfind("linux.resources.cpu.quota: writing " + file + ": ", 0), 0u) << msg;
  EXPECT_NE(msg.find("EINVAL"), std::string::npos) << msg;

  oci::Resources bad_unified;
  bad_unified.unified["../escape"] = "1";
  st = cg->Apply(bad_unified);
  if (mounts_.Unified() != nullptr) {
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.error().message().find("unified[\"../escape\"]"), std::string::npos);
  }
  EXPECT_TRUE(cg->Destroy().ok());
}

TEST_F(CgroupHost, NestedV1CpusetIsFilledDownEachLevel) {
  const CgroupHierarchy* cpuset = mounts_.Find("cpuset");
  if (cpuset == nullptr || cpuset->v2) GTEST_SKIP() << "no v1 cpuset";
  const std::string top = TestPath("nest");
  auto cg = Cgroup::Create(mounts_, top + "/a/b", "nest");
  ASSERT_TRUE(cg.ok()) << cg.error().message();
  std::string root_cpus = *ReadKnob(cpuset->mount_point, "cpuset.cpus");
  EXPECT_EQ(Knob(*cg, "cpuset", "cpuset.cpus"), root_cpus);
  EXPECT_EQ(*ReadKnob(cpuset->mount_point + top + "/a", "cpuset.mems"),
            *ReadKnob(cpuset->mount_point, "cpuset.mems"));
  oci::Resources r;
  r.cpu.emplace();
  r.cpu->cpus = "0";
  ASSERT_TRUE(cg->Apply(r).ok());
  EXPECT_EQ(Knob(*cg, "cpuset", "cpuset.cpus"), "0");
  Spinner child;
  Status st = cg->AddProcess(child.pid());  // ENOSPC if a level had no cpus
  EXPECT_TRUE(st.ok()) << st.error().message();
  ASSERT_TRUE(cg->KillAll(SIGKILL).ok());
  child.Wait();
  EXPECT_TRUE(cg->Destroy().ok());
  Cleanup(top + "/a");
  Cleanup(top);
  EXPECT_FALSE(PathExists(cpuset->mount_point + top));
}

TEST_F(CgroupHost, V1SwapFollowsTheLimitBothWays) {
  const CgroupHierarchy* mem = mounts_.Find("memory");
  if (mem == nullptr || mem->v2) GTEST_SKIP() << "no v1 memory";
  if (!KnobExists(mem->mount_point, "memory.memsw.limit_in_bytes")) GTEST_SKIP() << "no memsw";
  const std::string path = TestPath("swap");
  auto cg = Cgroup::Create(mounts_, path, "swap");
  ASSERT_TRUE(cg.ok()) << cg.error().message();
  for (auto [limit, swap] : {std::pair{64 << 20, 128 << 20}, std::pair{256 << 20, 512 << 20},
                             std::pair{32 << 20, 48 << 20}}) {
    oci::Resources r;
    r.memory.emplace();
    r.memory->limit = limit;
    r.memory->swap = swap;
    Status st = cg->Apply(r);
    ASSERT_TRUE(st.ok()) << st.error().message();
    EXPECT_EQ(Knob(*cg, "memory", "memory.limit_in_bytes"), std::to_string(limit));
    EXPECT_EQ(Knob(*cg, "memory", "memory.memsw.limit_in_bytes"), std::to_string(swap));
  }
  EXPECT_TRUE(cg->Destroy().ok());
}

// `update` changes limits only: the device rules create wrote must survive it.
TEST_F(CgroupHost, ApplyLimitsKeepsTheDeviceRules) {
  const std::string path = TestPath("limits");
  auto cg = Cgroup::Create(mounts_, path, "limits");
  ASSERT_TRUE(cg.ok()) << cg.error().message();
  const Cgroup::Dir* dev = cg->DirFor("devices");
  if (dev == nullptr || dev->hierarchy.v2 || cg->DirFor("pids") == nullptr) {
    EXPECT_TRUE(cg->Destroy().ok());
    GTEST_SKIP() << "needs v1 devices and pids";
  }
  oci::Resources r;
  oci::DeviceRule fuse;
  fuse.allow = true;
  fuse.type = "c";
  fuse.major = 10;
  fuse.minor = 229;
  fuse.access = "rw";
  r.devices = {fuse};
  ASSERT_TRUE(cg->Apply(r).ok());
  std::string before = Knob(*cg, "devices", "devices.list");
  ASSERT_NE(before.find("c 10:229 rw"), std::string::npos) << before;

  oci::Resources limits;  // no devices: Apply would reset them to the defaults
  limits.pids_limit = 7;
  Status st = cg->ApplyLimits(limits);
  ASSERT_TRUE(st.ok()) << st.error().message();
  EXPECT_EQ(Knob(*cg, "pids", "pids.max"), "7");
  EXPECT_EQ(Knob(*cg, "devices", "devices.list"), before);
  EXPECT_TRUE(cg->Destroy().ok());
}

// A paused container: KillAll(SIGKILL) must still end it (delete --force), while other
// signals leave it paused, as runc does.
TEST_F(CgroupHost, KillAllOfAFrozenCgroup) {
  const std::string path = TestPath("paused");
  auto cg = Cgroup::Create(mounts_, path, "paused");
  ASSERT_TRUE(cg.ok()) << cg.error().message();
  if (cg->DirFor("freezer") == nullptr) {
    EXPECT_TRUE(cg->Destroy().ok());
    GTEST_SKIP() << "no freezer";
  }
  Spinner term;
  ASSERT_TRUE(cg->AddProcess(term.pid()).ok());
  ASSERT_TRUE(cg->Freeze().ok());
  ASSERT_TRUE(cg->KillAll(SIGTERM).ok());
  EXPECT_TRUE(*cg->IsFrozen());  // still paused
  ASSERT_TRUE(cg->Thaw().ok());
  EXPECT_EQ(term.WaitFor(3s), SIGTERM);

  {
    Spinner victim;
    ASSERT_TRUE(cg->AddProcess(victim.pid()).ok());
    ASSERT_TRUE(cg->Freeze().ok());
    ASSERT_TRUE(cg->KillAll(SIGKILL).ok());
    int sig = victim.WaitFor(3s);
    EXPECT_EQ(sig, SIGKILL);
    EXPECT_FALSE(*cg->IsFrozen());
    if (sig == -1) (void)cg->Thaw();  // so the test ends instead of hanging
  }
  Status st = cg->Destroy();
  EXPECT_TRUE(st.ok()) << st.error().message();
}

// The cgroup2 mount alone, as a pure v2 host would have it: on hybrid hosts this drives
// the v2 code (eBPF devices, cgroup.freeze, cgroup.kill, hugetlb.*.max) for real.
TEST_F(CgroupHost, UnifiedHierarchyAsPureV2) {
  const CgroupHierarchy* u = mounts_.Unified();
  if (u == nullptr) GTEST_SKIP() << "no cgroup2 mount";
  auto info = "1 1 0:1 / " + u->mount_point + " rw - cgroup2 cgroup2 rw\n";
  auto controllers = ReadKnob(u->mount_point, "cgroup.controllers");
  ASSERT_TRUE(controllers.ok());
  auto v2 = DetectCgroupsFrom(info, "0::" + u->self + "\n", *controllers);
  ASSERT_TRUE(v2.ok());
  ASSERT_EQ(v2->layout, CgroupLayout::kV2);
  const std::string path = TestPath("v2");
  auto created = Cgroup::Create(*v2, path, "v2");
  ASSERT_TRUE(created.ok()) << created.error().message();
  Cgroup cg = std::move(*created);

  oci::Resources r;
  bool hugetlb = v2->Find("hugetlb") != nullptr && PathExists("/sys/kernel/mm/hugepages/hugepages-2048kB");
  if (hugetlb) r.hugepage_limits.push_back({"2MB", 4u << 20});
  Status st = cg.Apply(r);  // always attaches the device filter
  ASSERT_TRUE(st.ok()) << st.error().message();
  if (hugetlb) {
    EXPECT_EQ(Knob(cg, "hugetlb", "hugetlb.2MB.max"), "4194304");
  }

  if (v2->Find("memory") == nullptr) {
    oci::Resources mem;
    mem.memory.emplace();
    mem.memory->limit = 1 << 20;
    st = cg.Apply(mem);
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.error().message().find("linux.resources.memory: no memory controller"),
              std::string::npos) << st.error().message();
  }

  // A child that reports what it could open, once it is inside.
  int sync[2];
  ASSERT_EQ(::pipe2(sync, O_CLOEXEC), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    char c;
    if (::read(sync[0], &c, 1) != 1) ::_exit(100);
    int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    int kmsg_fd = ::open("/dev/kmsg", O_RDONLY | O_CLOEXEC);
    ::_exit(null_fd >= 0 && kmsg_fd < 0 && errno == EPERM ? 0 : 1);
  }
  ::close(sync[0]);
  ASSERT_TRUE(cg.AddProcess(pid).ok());
  ASSERT_EQ(::write(sync[1], "x", 1), 1);
  ::close(sync[1]);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;

  Spinner spinner;
  ASSERT_TRUE(cg.AddProcess(spinner.pid()).ok());
  ASSERT_TRUE(cg.Freeze().ok());
  EXPECT_TRUE(*cg.IsFrozen());
  EXPECT_FALSE(spinner.Advances());
  ASSERT_TRUE(cg.Thaw().ok());
  EXPECT_TRUE(spinner.Advances());
  auto stats = cg.ReadStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_GT(stats->cpu.usage_ns, 0u);
  ASSERT_TRUE(cg.KillAll(SIGKILL).ok());
  EXPECT_EQ(spinner.Wait(), SIGKILL);
  st = cg.Destroy();
  ASSERT_TRUE(st.ok()) << st.error().message();
  EXPECT_FALSE(cg.Exists());
}

}  // namespace
}  // namespace bulkhead::jail
