// The MSRs every vCPU starts with (KVM_SET_MSRS before the first run), so
// the kernel finds them in the state a PC firmware leaves them.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <vector>

namespace bulkhead::vmm::x86 {

constexpr uint32_t kMsrIa32Tsc = 0x10;
constexpr uint32_t kMsrIa32SysenterCs = 0x174;
constexpr uint32_t kMsrIa32SysenterEsp = 0x175;
constexpr uint32_t kMsrIa32SysenterEip = 0x176;
constexpr uint32_t kMsrIa32MiscEnable = 0x1a0;
constexpr uint32_t kMsrMtrrDefType = 0x2ff;
constexpr uint32_t kMsrStar = 0xc0000081;
constexpr uint32_t kMsrLstar = 0xc0000082;
constexpr uint32_t kMsrCstar = 0xc0000083;
constexpr uint32_t kMsrSyscallMask = 0xc0000084;
constexpr uint32_t kMsrKernelGsBase = 0xc0000102;

constexpr uint64_t kMiscEnableFastStrings = 1ull << 0;
constexpr uint64_t kMtrrEnable = 1ull << 11;
constexpr uint64_t kMtrrTypeWriteBack = 6;

// SYSENTER/SYSCALL targets and KERNEL_GS_BASE zeroed (the kernel sets its
// own), TSC from 0, fast strings on, and the MTRR default type write-back with
// MTRRs enabled: with no variable ranges, all of RAM is cacheable.
std::vector<kvm_msr_entry> BootMsrs();

}  // namespace bulkhead::vmm::x86
