// ReadStats against fake cgroup trees in a temporary directory, for both versions.
#include <gtest/gtest.h>
#include <stdlib.h>

#include "base/fs.h"
#include "jail/cgroup.h"

namespace bulkhead::jail {
namespace {

class FakeTree {
 public:
  FakeTree() {
    char tmpl[] = "/tmp/bh_cgroup_stats.XXXXXX";
    root_ = ::mkdtemp(tmpl);
  }
  ~FakeTree() { (void)RemoveAll(root_); }
  // Adds a hierarchy mounted at root/<name> holding the cgroup "/c".
  void Hierarchy(const std::string& name, bool v2, std::vector<std::string> controllers) {
    CgroupHierarchy h;
    h.v2 = v2;
    h.mount_point = root_ + "/" + name;
    h.controllers = std::move(controllers);
    EXPECT_TRUE(MkdirAll(h.mount_point + "/c").ok());
    mounts_.hierarchies.push_back(h);
  }
  void File(const std::string& name, const std::string& file, const std::string& text) {
    EXPECT_TRUE(WriteFileAtomic(root_ + "/" + name + "/c/" + file, text).ok());
  }
  Cgroup Open() {
    auto cg = Cgroup::Open(mounts_, "/c", "id");
    EXPECT_TRUE(cg.ok());
    return *cg;
  }
  CgroupMounts mounts_;

 private:
  std::string root_;
};

TEST(CgroupStats, V1) {
  FakeTree t;
  t.mounts_.layout = CgroupLayout::kV1;
  t.Hierarchy("memory", false, {"memory"});
  t.Hierarchy("cpu,cpuacct", false, {"cpu", "cpuacct"});
  t.Hierarchy("pids", false, {"pids"});
  t.Hierarchy("blkio", false, {"blkio"});
  t.File("memory", "memory.usage_in_bytes", "1000\n");
  t.File("memory", "memory.max_usage_in_bytes", "2000\n");
  t.File("memory", "memory.limit_in_bytes", "9223372036854771712\n");
  t.File("memory", "memory.failcnt", "3\n");
  t.File("memory", "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
  t.File("cpu,cpuacct", "cpuacct.usage", "5000000\n");
  t.File("cpu,cpuacct", "cpuacct.usage_user", "3000000\n");
  t.File("cpu,cpuacct", "cpuacct.usage_sys", "2000000\n");
  t.File("cpu,cpuacct", "cpuacct.usage_percpu", "1500000 3500000 \n");
  t.File("memory", "memory.stat", "cache 4096\nrss 49152\nhierarchical_memory_limit 67108864\n");
  t.File("cpu,cpuacct", "cpu.stat", "nr_periods 10\nnr_throttled 4\nthrottled_time 123456\n");
  t.File("pids", "pids.current", "7\n");
  t.File("pids", "pids.max", "max\n");
  t.File("blkio", "blkio.throttle.io_service_bytes_recursive",
         "8:0 Read 4096\n8:0 Write 8192\n8:0 Total 12288\nTotal 12288\n");
  auto s = t.Open().ReadStats();
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_EQ(s->memory.usage, 1000u);
  EXPECT_EQ(s->memory.max_usage, 2000u);
  EXPECT_EQ(s->memory.limit, 9223372036854771712u);
  EXPECT_EQ(s->memory.failcnt, 3u);
  EXPECT_EQ(s->memory.oom_kill, 2u);
  EXPECT_EQ(s->memory.swap_usage, 0u);  // no memsw files: 0, not an error
  EXPECT_EQ(s->cpu.usage_ns, 5000000u);
  EXPECT_EQ(s->cpu.user_ns, 3000000u);
  EXPECT_EQ(s->cpu.system_ns, 2000000u);
  EXPECT_EQ(s->cpu.percpu_ns, (std::vector<uint64_t>{1500000, 3500000}));
  EXPECT_EQ(s->memory.cache, 4096u);
  EXPECT_EQ(s->memory.raw.size(), 3u);
  EXPECT_EQ(s->memory.raw["rss"], 49152u);
  EXPECT_EQ(s->memory.raw["hierarchical_memory_limit"], 67108864u);
  EXPECT_EQ(s->cpu.periods, 10u);
  EXPECT_EQ(s->cpu.throttled_periods, 4u);
  EXPECT_EQ(s->cpu.throttled_ns, 123456u);
  EXPECT_EQ(s->pids.current, 7u);
  EXPECT_EQ(s->pids.limit, 0u);
  ASSERT_EQ(s->blkio_service_bytes.size(), 3u);
  EXPECT_EQ(s->blkio_service_bytes[1].major, 8u);
  EXPECT_EQ(s->blkio_service_bytes[1].op, "Write");
  EXPECT_EQ(s->blkio_service_bytes[1].value, 8192u);
}

TEST(CgroupStats, V2) {
  FakeTree t;
  t.mounts_.layout = CgroupLayout::kV2;
  t.Hierarchy("unified", true, {"memory", "cpu", "pids", "io", "freezer", "devices"});
  t.File("unified", "memory.current", "4096\n");
  t.File("unified", "memory.peak", "8192\n");
  t.File("unified", "memory.max", "max\n");
  t.File("unified", "memory.events", "low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\n");
  t.File("unified", "memory.swap.current", "0\n");
  t.File("unified", "memory.stat", "anon 8192\nfile 12288\nbogus x\n");
  t.File("unified", "cpu.stat",
         "usage_usec 300\nuser_usec 200\nsystem_usec 100\nnr_periods 9\nnr_throttled 2\n"
         "throttled_usec 50\n");
  t.File("unified", "pids.current", "2\n");
  t.File("unified", "pids.max", "64\n");
  t.File("unified", "io.stat",
         "254:0 rbytes=1024 wbytes=2048 rios=1 wios=2 dbytes=0 dios=0\n"
         "8:16 rbytes=7 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n");
  auto s = t.Open().ReadStats();
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_EQ(s->memory.usage, 4096u);
  EXPECT_EQ(s->memory.max_usage, 8192u);
  EXPECT_EQ(s->memory.limit, Cgroup::Stats::kUnlimited);
  EXPECT_EQ(s->memory.failcnt, 5u);
  EXPECT_EQ(s->memory.oom_kill, 1u);
  EXPECT_EQ(s->memory.cache, 12288u);  // v2 calls the page cache "file"
  EXPECT_EQ(s->memory.raw.size(), 2u);  // the line that is not a number is left out
  EXPECT_EQ(s->memory.raw["anon"], 8192u);
  EXPECT_TRUE(s->cpu.percpu_ns.empty());
  EXPECT_EQ(s->cpu.usage_ns, 300000u);
  EXPECT_EQ(s->cpu.user_ns, 200000u);
  EXPECT_EQ(s->cpu.system_ns, 100000u);
  EXPECT_EQ(s->cpu.periods, 9u);
  EXPECT_EQ(s->cpu.throttled_periods, 2u);
  EXPECT_EQ(s->cpu.throttled_ns, 50000u);
  EXPECT_EQ(s->pids.current, 2u);
  EXPECT_EQ(s->pids.limit, 64u);
  ASSERT_EQ(s->blkio_service_bytes.size(), 4u);
  EXPECT_EQ(s->blkio_service_bytes[0].major, 254u);
  EXPECT_EQ(s->blkio_service_bytes[0].op, "Read");
  EXPECT_EQ(s->blkio_service_bytes[0].value, 1024u);
  EXPECT_EQ(s->blkio_service_bytes[3].minor, 16u);
  EXPECT_EQ(s->blkio_service_bytes[3].op, "Write");
  EXPECT_EQ(s->blkio_service_bytes[3].value, 0u);
}

TEST(CgroupStats, MissingCgroupIsAnError) {
  FakeTree t;
  t.Hierarchy("unified", true, {"memory"});
  auto cg = Cgroup::Open(t.mounts_, "/gone", "id");
  ASSERT_TRUE(cg.ok());
  auto s = cg->ReadStats();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().errno_value(), ENOENT);
}

}  // namespace
}  // namespace bulkhead::jail
