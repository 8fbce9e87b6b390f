#include "vmm/kvm/kvm.h"
#include "vmm/kvm/flex_ioctls.h"

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

// The request numbers the kernel's C headers produce (checked against a C
// compile of <linux/kvm.h>): the sizes must be the 8-byte C header.
TEST(Kvm, FlexArrayRequestsCarryTheCSizes) {
  EXPECT_EQ(kKvmGetSupportedCpuid, 0xc008ae05ul);
  EXPECT_EQ(kKvmSetCpuid2, 0x4008ae90ul);
  EXPECT_EQ(kKvmSetMsrs, 0x4008ae89ul);
  kvm_msr_entry e[2]{};
  e[1].index = 0x10;
  std::vector<uint8_t> buf = FlexBuffer(2, e);
  ASSERT_EQ(buf.size(), 8 + 2 * sizeof(kvm_msr_entry));
  EXPECT_EQ(buf[0], 2);
  EXPECT_EQ(buf[8 + sizeof(kvm_msr_entry)], 0x10);
}

}  // namespace
}  // namespace bulkhead::vmm
