#include "vmm/kvm/kvm.h"

#include <fcntl.h>
#include <algorithm>
#include <cstring>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "base/syscall.h"
#include "vmm/kvm/flex_ioctls.h"

namespace bulkhead::vmm {
namespace {

// Every capability the monitor relies on, with what it is for.
struct RequiredCap {
  long cap;
  const char* name;
};
constexpr RequiredCap kRequiredCaps[] = {
    {KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP (in-kernel PIC/IOAPIC/LAPIC)"},
    {KVM_CAP_PIT2, "KVM_CAP_PIT2 (in-kernel timer)"},
    {KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY (guest RAM from our mappings)"},
    {KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR"},
    {KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID (guest CPUID)"},
    {KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD (queue notifications without exits)"},
    {KVM_CAP_IRQFD, "KVM_CAP_IRQFD (device interrupts from the event loop)"},
    {KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE (telling a powered-off guest from a running one)"},
    {KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT (stopping vCPUs without races)"},
};

}  // namespace

Status CheckKvmFlavour(const std::string& sysfs_module) {
  struct stat st;
  // PVM is a paravirtual nested hypervisor that exposes /dev/kvm but runs only
  // guests built for it: an ordinary Linux kernel hangs at its first instructions.
  if (stat((sysfs_module + "/kvm_pvm").c_str(), &st) == 0) {
    return Error(
        "this host's KVM is the paravirtual PVM hypervisor (kvm_pvm module loaded), "
        "which cannot run an unmodified Linux guest; use a host with hardware "
        "virtualization (kvm_intel or kvm_amd)");
  }
  return Ok();
}

Result<Kvm> Kvm::Open(const std::string& device, const std::string& sysfs_module) {
  BH_TRY(CheckKvmFlavour(sysfs_module));
  Kvm kvm;
  kvm.fd_ = UniqueFd(open(device.c_str(), O_RDWR | O_CLOEXEC));
  if (!kvm.fd_) {
    int err = errno;
    if (err == ENOENT) {
      return Error(device + " does not exist: this host offers no KVM (needs kvm_intel or kvm_amd "
                            "and hardware virtualization)", err);
    }
    if (err == EACCES || err == EPERM) {
      return Error::Errno(err, "no permission to open " + device + " (the kvm group owns it)");
    }
    return Error::Errno(err, "opening " + device);
  }
  int version = ioctl(kvm.fd(), KVM_GET_API_VERSION, 0);
  if (version != KVM_API_VERSION) {
    return Error(device + " speaks KVM API version " + std::to_string(version) + ", expected " +
                 std::to_string(KVM_API_VERSION));
  }
  for (const RequiredCap& c : kRequiredCaps) {
    BH_ASSIGN(int have, kvm.CheckExtension(c.cap));
    if (have <= 0) return Error(std::string("this host's KVM lacks ") + c.name);
  }
  kvm.vcpu_mmap_size_ = ioctl(kvm.fd(), KVM_GET_VCPU_MMAP_SIZE, 0);
  if (kvm.vcpu_mmap_size_ < static_cast<int>(sizeof(kvm_run))) {
    return Error::FromErrno("KVM_GET_VCPU_MMAP_SIZE");
  }
  return kvm;
}

Result<int> Kvm::CheckExtension(long cap) const {
  int r = ioctl(fd(), KVM_CHECK_EXTENSION, cap);
  if (r < 0) return Error::FromErrno("KVM_CHECK_EXTENSION");
  return r;
}

Result<std::vector<kvm_cpuid_entry2>> Kvm::SupportedCpuid() const {
  // KVM refuses more than KVM_MAX_CPUID_ENTRIES (EINVAL) and fewer than it
  // needs (E2BIG), so ask once with its maximum.
  constexpr uint32_t kMaxEntries = 256;
  std::vector<uint8_t> buf = FlexBuffer<kvm_cpuid_entry2>(kMaxEntries, nullptr);
  if (ioctl(fd(), kKvmGetSupportedCpuid, buf.data()) != 0) return Error::FromErrno("KVM_GET_SUPPORTED_CPUID");
  FlexHeader h;
  memcpy(&h, buf.data(), sizeof h);
  std::vector<kvm_cpuid_entry2> entries(std::min(h.count, kMaxEntries));
  memcpy(entries.data(), buf.data() + sizeof h, entries.size() * sizeof(kvm_cpuid_entry2));
  return entries;
}

Result<UniqueFd> Kvm::CreateVmFd() const {
  int vm = RetryEintr([&] { return ioctl(fd(), KVM_CREATE_VM, 0); });
  if (vm < 0) return Error::FromErrno("KVM_CREATE_VM");
  return UniqueFd(vm);
}

}  // namespace bulkhead::vmm
