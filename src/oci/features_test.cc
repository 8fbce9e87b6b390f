#include "oci/features.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace bulkhead::oci {
namespace {

bool Has(const nlohmann::json& array, const std::string& value) {
  return std::find(array.begin(), array.end(), value) != array.end();
}

TEST(FeaturesJson, HasTheSpecKeys) {
  nlohmann::json f = nlohmann::json::parse(FeaturesJson(), nullptr, false);
  ASSERT_FALSE(f.is_discarded());
  EXPECT_EQ(f["ociVersionMin"], "1.0.0");
  EXPECT_TRUE(f["ociVersionMax"].is_string());
  ASSERT_TRUE(f["hooks"].is_array());
  EXPECT_EQ(f["hooks"].size(), 6u);
  EXPECT_TRUE(Has(f["hooks"], "createContainer"));
  EXPECT_TRUE(Has(f["mountOptions"], "nosuid"));
  EXPECT_TRUE(Has(f["mountOptions"], "rbind"));

  const nlohmann::json& l = f["linux"];
  EXPECT_EQ(l["namespaces"].size(), 8u);
  EXPECT_TRUE(Has(l["namespaces"], "user"));
  EXPECT_TRUE(Has(l["namespaces"], "time"));
  EXPECT_EQ(l["capabilities"].size(), 41u);
  EXPECT_TRUE(Has(l["capabilities"], "CAP_CHECKPOINT_RESTORE"));
  EXPECT_EQ(l["cgroup"]["v1"], true);
  EXPECT_EQ(l["cgroup"]["v2"], true);
  EXPECT_EQ(l["cgroup"]["systemd"], false);
  const nlohmann::json& s = l["seccomp"];
  EXPECT_EQ(s["enabled"], true);
  EXPECT_TRUE(Has(s["actions"], "SCMP_ACT_ERRNO"));
  EXPECT_TRUE(Has(s["actions"], "SCMP_ACT_KILL_PROCESS"));
  EXPECT_FALSE(Has(s["actions"], "SCMP_ACT_NOTIFY"));
  EXPECT_TRUE(Has(s["operators"], "SCMP_CMP_MASKED_EQ"));
  EXPECT_TRUE(Has(s["archs"], "SCMP_ARCH_X86_64"));
  EXPECT_TRUE(Has(s["knownFlags"], "SECCOMP_FILTER_FLAG_TSYNC"));
  EXPECT_TRUE(s["supportedFlags"].is_array());
  EXPECT_EQ(l["apparmor"]["enabled"], false);
  EXPECT_EQ(l["selinux"]["enabled"], false);
  EXPECT_TRUE(f["annotations"].is_object());
}

}  // namespace
}  // namespace bulkhead::oci
