// KVM requests whose argument ends in a flexible array. linux-libc-dev
// declares those arrays with __DECLARE_FLEX_ARRAY, which in C++ adds an empty
// struct member: sizeof(kvm_cpuid2) becomes 12 instead of 8 (kvm_msrs 16
// instead of 8), so the size encoded in KVM_GET_SUPPORTED_CPUID, KVM_SET_CPUID2
// and KVM_SET_MSRS no longer matches the kernel's and KVM answers EINVAL, and
// `entries` moves. The monitor lays these buffers out itself: an 8-byte header,
// then the entries, as the kernel's C definition has them.
#pragma once

#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace bulkhead::vmm {

struct FlexHeader {
  uint32_t count;    // nent / nmsrs
  uint32_t padding;
};
static_assert(sizeof(FlexHeader) == 8);

inline constexpr unsigned long kKvmGetSupportedCpuid = _IOWR(KVMIO, 0x05, FlexHeader);
inline constexpr unsigned long kKvmSetCpuid2 = _IOW(KVMIO, 0x90, FlexHeader);
inline constexpr unsigned long kKvmSetMsrs = _IOW(KVMIO, 0x89, FlexHeader);

// Header plus `count` entries of T, entries starting right after the header.
template <class T>
std::vector<uint8_t> FlexBuffer(uint32_t count, const T* entries) {
  std::vector<uint8_t> buf(sizeof(FlexHeader) + count * sizeof(T));
  FlexHeader h{count, 0};
  memcpy(buf.data(), &h, sizeof h);
  if (entries != nullptr && count != 0) memcpy(buf.data() + sizeof h, entries, count * sizeof(T));
  return buf;
}

}  // namespace bulkhead::vmm
