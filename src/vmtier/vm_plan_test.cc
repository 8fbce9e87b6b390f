#include "vmtier/vm_plan.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace bulkhead::vmtier {
namespace {

RuntimeConfig Defaults() { return DefaultRuntimeConfig("/b/bin"); }

oci::Resources Cpu(std::optional<int64_t> quota, std::optional<uint64_t> period) {
  oci::Resources r;
  r.cpu.emplace();
  r.cpu->quota = quota;
  r.cpu->period = period;
  return r;
}

TEST(VmSize, DefaultsWithoutResources) {
  RuntimeConfig c = Defaults();
  c.vcpus = 2;
  c.memory_mib = 300;
  VmSize s = *SizeFromResources(std::nullopt, c);
  EXPECT_EQ(s.vcpus, 2u);
  EXPECT_EQ(s.memory_mib, 300u);
  s = *SizeFromResources(oci::Resources{}, c);
  EXPECT_EQ(s.vcpus, 2u);
  EXPECT_EQ(s.memory_mib, 300u);
}

TEST(VmSize, CpuQuotaRoundsUpToWholeVcpus) {
  RuntimeConfig c = Defaults();
  EXPECT_EQ(SizeFromResources(Cpu(50000, 100000), c)->vcpus, 1u);
  EXPECT_EQ(SizeFromResources(Cpu(100000, 100000), c)->vcpus, 1u);
  EXPECT_EQ(SizeFromResources(Cpu(150000, 100000), c)->vcpus, 2u);
  EXPECT_EQ(SizeFromResources(Cpu(200001, 100000), c)->vcpus, 3u);
  EXPECT_EQ(SizeFromResources(Cpu(300000, std::nullopt), c)->vcpus, 3u);  // period 100 ms
  EXPECT_EQ(SizeFromResources(Cpu(64000000, 100000), c)->vcpus, 32u);     // the monitor's limit
  EXPECT_EQ(SizeFromResources(Cpu(-1, 100000), c)->vcpus, 1u);            // no quota
  EXPECT_FALSE(SizeFromResources(Cpu(100000, 0), c).ok());
}

TEST(VmSize, MemoryLimitPlusOverhead) {
  RuntimeConfig c = Defaults();
  c.memory_overhead_mib = 64;
  oci::Resources r;
  r.memory.emplace();
  r.memory->limit = 128 << 20;
  EXPECT_EQ(SizeFromResources(r, c)->memory_mib, 192u);
  r.memory->limit = (128 << 20) + 1;  // a byte over rounds up to the next MiB
  EXPECT_EQ(SizeFromResources(r, c)->memory_mib, 193u);
  r.memory->limit = 1;  // tiny limits still give the monitor's minimum
  c.memory_overhead_mib = 0;
  EXPECT_EQ(SizeFromResources(r, c)->memory_mib, 32u);
  r.memory->limit = -1;  // unlimited
  EXPECT_EQ(SizeFromResources(r, c)->memory_mib, 256u);
  r.memory->limit = int64_t{1} << 50;
  auto big = SizeFromResources(r, c);
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.error().message().find("linux.resources.memory.limit"), std::string::npos);
}

TEST(VmSupport, RefusesWhatTheGuestDoesNotCarryYet) {
  oci::Config c;
  EXPECT_TRUE(CheckVmSupport(c, 0).ok());
  auto st = CheckVmSupport(c, 2);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message().find("--preserve-fds"), std::string::npos);
  oci::Config t = c;
  t.process.terminal = true;
  EXPECT_TRUE(CheckVmSupport(t, 0).ok());
  oci::Config h = c;
  h.hooks.poststop.push_back({});
  EXPECT_FALSE(CheckVmSupport(h, 0).ok());
  oci::Config n = c;
  n.linux.namespaces = {{"pid", ""}, {"network", ""}};
  EXPECT_TRUE(CheckVmSupport(n, 0).ok()) << "new namespaces are made in the guest";
  n.linux.namespaces[1].path = "/var/run/netns/cni-1";
  st = CheckVmSupport(n, 0);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message(),
            "linux.namespaces[1] (network) joins /var/run/netns/cni-1, a namespace of the host's: "
            "not supported in the vm tier yet (docs/vm-tier.md)");
}

TEST(MonitorArgs, AgentModeWithTheHeldImageAsRootfsDisk) {
  MonitorPlan p{"/b/bin/bulkhead-vmm", "/k/vmlinux", "/k/initrd.img", 7, "/run/b/x/agent.sock",
                "/run/b/x/console.log", {2, 320}};
  std::vector<std::string> want = {
      "/b/bin/bulkhead-vmm", "--kernel", "/k/vmlinux", "--initrd", "/k/initrd.img",
      "--vcpus", "2", "--memory", "320", "--disk", "id=rootfs,path=/proc/self/fd/7,ro",
      "--serial", "file:/run/b/x/console.log", "--agent-socket", "/run/b/x/agent.sock", "--rng"};
  EXPECT_EQ(MonitorArgs(p), want);
  p.tty = true;
  Volume ro, rw;
  ro.serial = "vol0";
  rw.serial = "vol1";
  rw.writable = true;
  rw.number = 1;
  rw.source = "/srv/a,b";
  p.volumes = {{ro, 9}, {rw, 10}};
  p.volume_size_mib = 16;
  for (const char* a : {"--disk", "id=vol0,path=/proc/self/fd/9,ro", "--disk",
                        "id=vol1,path=/proc/self/fd/10,ro", "--writeback",
                        "volume=1,max_mib=16,path=/srv/a,b", "--agent-tty"}) {
    want.push_back(a);
  }
  EXPECT_EQ(MonitorArgs(p), want);
}

TEST(StartSpec, RootRewrittenHooksDroppedRestKept) {
  std::string config = R"({"ociVersion": "1.0.2", "root": {"path": "rootfs", "readonly": true},
      "process": {"args": ["sh"], "cwd": "/"}, "hooks": {"poststop": [{"path": "/bin/true"}]},
      "x-extra": 1})";
  auto spec = BuildStartSpec(config, "my+id", 64);
  ASSERT_TRUE(spec.ok()) << spec.error().message();
  auto j = nlohmann::json::parse(*spec);
  EXPECT_EQ(j["id"], "my_id");
  EXPECT_EQ(j["guest"]["upper_size_mib"], 64);
  EXPECT_EQ(j["config"]["root"]["path"], "/run/bulkhead/root");
  EXPECT_EQ(j["config"]["root"]["readonly"], true);
  EXPECT_FALSE(j["config"].contains("hooks"));
  EXPECT_EQ(j["config"]["x-extra"], 1);
  EXPECT_EQ(j["config"]["process"]["args"][0], "sh");
  EXPECT_FALSE(BuildStartSpec("[1]", "a", 64).ok());
  EXPECT_FALSE(BuildStartSpec("{", "a", 64).ok());
}

TEST(StartSpec, VolumeSourcesPointAtTheGuestsImages) {
  std::string config = R"({"root": {"path": "rootfs"}, "process": {"args": ["sh"]},
      "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
                 {"destination": "/etc/app.conf", "type": "bind", "source": "/srv/app.conf",
                  "options": ["bind", "ro"]}]})";
  Volume v;
  v.mount_index = 1;
  v.source = "/srv/app.conf";
  v.file = true;
  v.serial = "vol0";
  v.guest_dir = "/run/bulkhead/volumes/0";
  auto spec = BuildStartSpec(config, "a", 64, {v});
  ASSERT_TRUE(spec.ok()) << spec.error().message();
  auto j = nlohmann::json::parse(*spec);
  EXPECT_EQ(j["config"]["mounts"][1]["source"], "/run/bulkhead/volumes/0/app.conf");
  EXPECT_EQ(j["config"]["mounts"][1]["options"][1], "ro");
  EXPECT_EQ(j["config"]["mounts"][0]["source"], "proc");
  EXPECT_EQ(j["guest"]["volumes"][0]["serial"], "vol0");
  EXPECT_EQ(j["guest"]["volumes"][0]["path"], "/run/bulkhead/volumes/0");
  EXPECT_FALSE(j["guest"]["volumes"][0].contains("writable"));
  // A writable volume says so, with its size.
  v.writable = true;
  auto writable = BuildStartSpec(config, "a", 64, {v}, 32);
  ASSERT_TRUE(writable.ok()) << writable.error().message();
  auto w = nlohmann::json::parse(*writable);
  EXPECT_EQ(w["guest"]["volumes"][0]["writable"], true);
  EXPECT_EQ(w["guest"]["volumes"][0]["size_mib"], 32);
  // No volumes, no key; a volume naming a mount that is not there is an error.
  EXPECT_FALSE(nlohmann::json::parse(*BuildStartSpec(config, "a", 64))["guest"].contains("volumes"));
  v.mount_index = 5;
  EXPECT_FALSE(BuildStartSpec(config, "a", 64, {v}).ok());
}

TEST(StartSpec, GuestIds) {
  EXPECT_EQ(GuestId("abc-1.2_x"), "abc-1.2_x");
  EXPECT_EQ(GuestId("a+b"), "a_b");
  EXPECT_EQ(GuestId(std::string(100, 'a')), std::string(64, 'a'));
  EXPECT_EQ(GuestId(".."), "container");
  EXPECT_EQ(GuestId(""), "container");
}

}  // namespace
}  // namespace bulkhead::vmtier
