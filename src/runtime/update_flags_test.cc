// runc's update flags: sizes in every form runc takes, and which fields each flag sets.
#include "runtime/update_flags.h"

#include <gtest/gtest.h>

namespace bulkhead::runtime {
namespace {

int64_t Size(std::string_view text) {
  Result<int64_t> r = ParseSize(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.error().message();
  return r.ok() ? *r : -42;
}

TEST(ParseSize, RuncForms) {
  EXPECT_EQ(Size("0"), 0);
  EXPECT_EQ(Size("4096"), 4096);
  EXPECT_EQ(Size("100b"), 100);
  EXPECT_EQ(Size("512k"), 512 << 10);
  EXPECT_EQ(Size("512m"), 512 << 20);
  EXPECT_EQ(Size("512M"), 512 << 20);
  EXPECT_EQ(Size("1G"), int64_t{1} << 30);
  EXPECT_EQ(Size("1g"), int64_t{1} << 30);
  EXPECT_EQ(Size("1GB"), int64_t{1} << 30);
  EXPECT_EQ(Size("1GiB"), int64_t{1} << 30);
  EXPECT_EQ(Size("64KiB"), 64 << 10);
  EXPECT_EQ(Size("2t"), int64_t{2} << 40);
  EXPECT_EQ(Size("1p"), int64_t{1} << 50);
  EXPECT_EQ(Size("1.5g"), int64_t{3} << 29);
  EXPECT_EQ(Size("0.5k"), 512);
  EXPECT_EQ(Size("16 m"), 16 << 20);
  EXPECT_EQ(Size("16 "), 16);  // go-units allows the space without a unit
  EXPECT_EQ(Size("9223372036854775807"), INT64_MAX);
}

TEST(ParseSize, Refused) {
  for (const char* bad : {"", "-1", "m", "1x", "1mm", "1.m", ".5m", "1  m", " 1m", "1m ", "1e3",
                          "0x10"}) {
    EXPECT_FALSE(ParseSize(bad).ok()) << "\"" << bad << "\"";
  }
  Result<int64_t> r = ParseSize("1x");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("unknown unit \"x\""), std::string::npos) << r.error().message();
  EXPECT_EQ(ParseSize("8192p").error().errno_value(), ERANGE);  // 2^63: one past the top
  EXPECT_EQ(ParseSize("9223372036854775808").error().errno_value(), ERANGE);
  EXPECT_FALSE(ParseSize("99999999999999999999999").ok());
}

TEST(ResourcesFromFlags, OnlyTheGivenFields) {
  UpdateFlags f;
  f.memory = "512m";
  f.pids_limit = "20";
  std::vector<std::string> warnings;
  Result<oci::Resources> r = ResourcesFromFlags(f, &warnings);
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_TRUE(r->memory && r->memory->limit);
  EXPECT_EQ(*r->memory->limit, 512 << 20);
  EXPECT_FALSE(r->memory->swap || r->memory->reservation);
  EXPECT_EQ(r->pids_limit, 20);
  EXPECT_FALSE(r->cpu || r->block_io);
  EXPECT_TRUE(r->devices.empty());
  EXPECT_TRUE(warnings.empty());
}

TEST(ResourcesFromFlags, EveryFlag) {
  UpdateFlags f;
  f.memory = "-1";
  f.memory_reservation = "64m";
  f.memory_swap = "1G";
  f.cpu_shares = "512";
  f.cpu_quota = "-1";
  f.cpu_period = "100000";
  f.cpu_rt_period = "1000000";
  f.cpu_rt_runtime = "950000";
  f.cpu_idle = "0";
  f.cpuset_cpus = "0-1";
  f.cpuset_mems = "0";
  f.blkio_weight = "300";
  std::vector<std::string> warnings;
  Result<oci::Resources> r = ResourcesFromFlags(f, &warnings);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->memory->limit, -1);
  EXPECT_EQ(r->memory->reservation, 64 << 20);
  EXPECT_EQ(r->memory->swap, int64_t{1} << 30);
  EXPECT_EQ(r->cpu->shares, 512u);
  EXPECT_EQ(r->cpu->quota, -1);
  EXPECT_EQ(r->cpu->period, 100000u);
  EXPECT_EQ(r->cpu->realtime_period, 1000000u);
  EXPECT_EQ(r->cpu->realtime_runtime, 950000);
  EXPECT_EQ(r->cpu->idle, 0);  // 0 is a real value for cpu.idle
  EXPECT_EQ(r->cpu->cpus, "0-1");
  EXPECT_EQ(r->cpu->mems, "0");
  EXPECT_EQ(r->block_io->weight, 300);
  EXPECT_FALSE(r->pids_limit);
}

TEST(ResourcesFromFlags, ZeroChangesNothingAsInRunc) {
  UpdateFlags f;
  f.memory = "0";
  f.cpu_shares = "0";
  f.pids_limit = "0";
  f.blkio_weight = "0";
  std::vector<std::string> warnings;
  Result<oci::Resources> r = ResourcesFromFlags(f, &warnings);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->memory || r->cpu || r->pids_limit || r->block_io);
}

TEST(ResourcesFromFlags, KernelMemoryIsAcceptedWithAWarning) {
  UpdateFlags f;
  f.kernel_memory = "64m";
  std::vector<std::string> warnings;
  Result<oci::Resources> r = ResourcesFromFlags(f, &warnings);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->memory);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("--kernel-memory"), std::string::npos);
  f.kernel_memory = "lots";
  EXPECT_FALSE(ResourcesFromFlags(f, &warnings).ok());
}

TEST(ResourcesFromFlags, ErrorsNameTheFlag) {
  auto error_of = [](UpdateFlags f) {
    std::vector<std::string> warnings;
    Result<oci::Resources> r = ResourcesFromFlags(f, &warnings);
    return r.ok() ? std::string("(accepted)") : r.error().message();
  };
  UpdateFlags f;
  f.memory = "1x";
  EXPECT_NE(error_of(f).find("--memory: invalid value \"1x\""), std::string::npos) << error_of(f);
  f = {};
  f.cpu_quota = "ten";
  EXPECT_NE(error_of(f).find("--cpu-quota"), std::string::npos) << error_of(f);
  f = {};
  f.cpu_shares = "-5";
  EXPECT_NE(error_of(f).find("--cpu-shares"), std::string::npos) << error_of(f);
  f = {};
  f.blkio_weight = "70000";
  EXPECT_NE(error_of(f).find("out of range"), std::string::npos) << error_of(f);
  f = {};
  f.l3_cache_schema = "L3:0=ff";
  EXPECT_NE(error_of(f).find("--l3-cache-schema"), std::string::npos) << error_of(f);
  f = {};
  f.mem_bw_schema = "MB:0=50";
  EXPECT_NE(error_of(f).find("not supported"), std::string::npos) << error_of(f);
}

TEST(UpdateFlags, AnyFlag) {
  UpdateFlags f;
  EXPECT_FALSE(f.AnyFlag());
  f.resources = "-";
  EXPECT_FALSE(f.AnyFlag());
  f.cpuset_mems = "0";
  EXPECT_TRUE(f.AnyFlag());
}

}  // namespace
}  // namespace bulkhead::runtime
