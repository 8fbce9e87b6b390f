// /dev/kvm: the system fd. Opening it checks, before anything else, that this
// host's KVM can run an unmodified Linux guest, and fails with a message that
// says why not (no device, no permission, an unsupported KVM flavour).
#pragma once

#include <linux/kvm.h>

#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace bulkhead::vmm {

class Kvm {
 public:
  // `device` is /dev/kvm; `sysfs_module` is /sys/module (tests point it elsewhere).
  static Result<Kvm> Open(const std::string& device = "/dev/kvm",
                          const std::string& sysfs_module = "/sys/module");

  int fd() const { return fd_.get(); }
  int vcpu_mmap_size() const { return vcpu_mmap_size_; }

  // KVM_GET_SUPPORTED_CPUID: what this host's KVM can present to a guest.
  Result<std::vector<kvm_cpuid_entry2>> SupportedCpuid() const;
  // KVM_GET_MSR_INDEX_LIST would be wider; the monitor sets a fixed list instead.
  Result<int> CheckExtension(long cap) const;
  // A new VM's fd (KVM_CREATE_VM, default machine type).
  Result<UniqueFd> CreateVmFd() const;

 private:
  UniqueFd fd_;
  int vcpu_mmap_size_ = 0;
};

// Why KVM cannot be used on this host, or Ok. Checked by Kvm::Open; exposed for tests.
Status CheckKvmFlavour(const std::string& sysfs_module);

}  // namespace bulkhead::vmm
