#include "oci/seccomp_json.h"

#include <gtest/gtest.h>

#include "oci/parse.h"

namespace bulkhead::oci {
namespace {

Seccomp Sample() {
  Seccomp s;
  s.default_action = "SCMP_ACT_ERRNO";
  s.default_errno_ret = 38;
  s.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"};
  s.flags = {"SECCOMP_FILTER_FLAG_SPEC_ALLOW"};
  s.syscalls.push_back({{"read", "write"}, "SCMP_ACT_ALLOW"});
  s.syscalls.push_back(
      {{"clone"},
       "SCMP_ACT_ERRNO",
       1,
       {{0, 0x7e020000, 0, "SCMP_CMP_MASKED_EQ"}, {1, UINT64_MAX, 7, "SCMP_CMP_NE"}}});
  return s;
}

TEST(SeccompToJson, OmitsUnsetFields) {
  Seccomp s;
  s.default_action = "SCMP_ACT_ALLOW";
  nlohmann::json j = SeccompToJson(s);
  EXPECT_EQ(j["defaultAction"], "SCMP_ACT_ALLOW");
  EXPECT_FALSE(j.contains("defaultErrnoRet"));
  EXPECT_FALSE(j.contains("architectures"));
  EXPECT_FALSE(j.contains("flags"));
  EXPECT_FALSE(j.contains("listenerPath"));
  EXPECT_TRUE(j["syscalls"].is_array());
}

TEST(SeccompToJson, RoundTripsThroughTheParser) {
  const Seccomp in = Sample();
  nlohmann::json doc = {{"ociVersion", "1.0.2"}, {"linux", {{"seccomp", SeccompToJson(in)}}}};
  Result<Config> c = ParseConfig(doc.dump());
  ASSERT_TRUE(c.ok()) << c.error().message();
  ASSERT_TRUE(c->linux.seccomp.has_value());
  const Seccomp& out = *c->linux.seccomp;
  EXPECT_EQ(out.default_action, in.default_action);
  EXPECT_EQ(out.default_errno_ret, in.default_errno_ret);
  EXPECT_EQ(out.architectures, in.architectures);
  EXPECT_EQ(out.flags, in.flags);
  ASSERT_EQ(out.syscalls.size(), 2u);
  EXPECT_EQ(out.syscalls[0].names, in.syscalls[0].names);
  EXPECT_FALSE(out.syscalls[0].errno_ret.has_value());
  EXPECT_EQ(out.syscalls[1].errno_ret, 1u);
  ASSERT_EQ(out.syscalls[1].args.size(), 2u);
  EXPECT_EQ(out.syscalls[1].args[0].value, 0x7e020000u);
  EXPECT_EQ(out.syscalls[1].args[0].op, "SCMP_CMP_MASKED_EQ");
  EXPECT_EQ(out.syscalls[1].args[1].index, 1u);
  EXPECT_EQ(out.syscalls[1].args[1].value, UINT64_MAX);
  EXPECT_EQ(out.syscalls[1].args[1].value_two, 7u);
}

}  // namespace
}  // namespace bulkhead::oci
