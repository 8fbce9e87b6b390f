#include <gtest/gtest.h>

#include <map>

#include "vmm/arch/x86_64/msrs.h"

namespace bulkhead::vmm::x86 {
namespace {

TEST(Msrs, BootSetIsCompleteAndUnique) {
  std::map<uint32_t, uint64_t> msrs;
  for (const kvm_msr_entry& e : BootMsrs()) {
    EXPECT_EQ(e.reserved, 0u);
    EXPECT_TRUE(msrs.emplace(e.index, e.data).second) << "MSR listed twice: " << std::hex << e.index;
  }
  for (uint32_t index : {0x174u, 0x175u, 0x176u, 0xc0000081u, 0xc0000082u, 0xc0000083u,
                         0xc0000084u, 0xc0000102u, 0x10u}) {
    ASSERT_TRUE(msrs.count(index)) << std::hex << index;
    EXPECT_EQ(msrs[index], 0u) << std::hex << index;
  }
  EXPECT_EQ(msrs.at(0x1a0), 1u);           // fast strings
  EXPECT_EQ(msrs.at(0x2ff), 0x806u);       // MTRRs on, default write-back
  EXPECT_EQ(msrs.size(), 11u);
}

}  // namespace
}  // namespace bulkhead::vmm::x86
