#include "jail/lsm.h"

#include <gtest/gtest.h>

namespace bulkhead::jail {
namespace {

TEST(Lsm, WithoutModulesFieldsAreAcceptedWithAWarning) {
  oci::Process p;
  p.apparmor_profile = "docker-default";
  p.selinux_label = "system_u:system_r:container_t:s0";
  std::string warning;
  LsmPlan plan = PlanLsm(p, LsmHost{}, &warning);
  EXPECT_TRUE(plan.apparmor_profile.empty());
  EXPECT_TRUE(plan.selinux_label.empty());
  EXPECT_NE(warning.find("process.apparmorProfile \"docker-default\" is not enforced"),
            std::string::npos);
  EXPECT_NE(warning.find("process.selinuxLabel"), std::string::npos);
}

TEST(Lsm, WithModulesTheLabelsAreApplied) {
  oci::Process p;
  p.apparmor_profile = "docker-default";
  p.selinux_label = "system_u:system_r:container_t:s0";
  std::string warning;
  LsmPlan plan = PlanLsm(p, LsmHost{true, true}, &warning);
  EXPECT_EQ(plan.apparmor_profile, "docker-default");
  EXPECT_EQ(plan.selinux_label, "system_u:system_r:container_t:s0");
  EXPECT_TRUE(warning.empty());
}

TEST(Lsm, NothingAskedNothingSaid) {
  std::string warning = "stale";
  LsmPlan plan = PlanLsm(oci::Process{}, LsmHost{}, &warning);
  EXPECT_TRUE(warning.empty());
  EXPECT_TRUE(ApplyLsm(plan).ok());
}

}  // namespace
}  // namespace bulkhead::jail
