#include "vmm/kvm/kvm.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <string>

namespace bulkhead::vmm {
namespace {

std::string TempDir() {
  char tmpl[] = "/tmp/bh-kvm-test.XXXXXX";
  return mkdtemp(tmpl);
}

TEST(Kvm, MissingDeviceSaysSo) {
  std::string dir = TempDir();
  auto kvm = Kvm::Open(dir + "/kvm", dir);
  ASSERT_FALSE(kvm.ok());
  EXPECT_NE(kvm.error().message().find("does not exist: this host offers no KVM"), std::string::npos)
      << kvm.error().message();
  rmdir(dir.c_str());
}

TEST(Kvm, PvmHostIsRefusedBeforeOpening) {
  std::string dir = TempDir();
  ASSERT_EQ(mkdir((dir + "/kvm_pvm").c_str(), 0755), 0);
  // Even a device that exists is not opened: the flavour check comes first.
  auto kvm = Kvm::Open("/dev/null", dir);
  ASSERT_FALSE(kvm.ok());
  EXPECT_NE(kvm.error().message().find("cannot run an unmodified Linux guest"), std::string::npos);
  rmdir((dir + "/kvm_pvm").c_str());
  rmdir(dir.c_str());
}

TEST(Kvm, NotAKvmDeviceIsRefused) {
  std::string dir = TempDir();
  auto kvm = Kvm::Open("/dev/null", dir);
  ASSERT_FALSE(kvm.ok());
  EXPECT_NE(kvm.error().message().find("KVM API version"), std::string::npos) << kvm.error().message();
  rmdir(dir.c_str());
}

}  // namespace
}  // namespace bulkhead::vmm
