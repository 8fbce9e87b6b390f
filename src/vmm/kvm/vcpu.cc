#include "vmm/kvm/vcpu.h"
#include "vmm/kvm/flex_ioctls.h"

#include <sys/ioctl.h>
#include <sys/mman.h>

#include <cstring>
#include <string>
#include <utility>

namespace bulkhead::vmm {
namespace {

// APIC local vector table registers and their delivery-mode field.
constexpr size_t kApicLvt0 = 0x350;
constexpr size_t kApicLvt1 = 0x360;
constexpr uint32_t kDeliveryModeMask = 0x700;
constexpr uint32_t kDeliveryExtInt = 0x700;
constexpr uint32_t kDeliveryNmi = 0x400;

uint32_t ApicReg(const kvm_lapic_state& s, size_t off) {
  uint32_t v;
  memcpy(&v, s.regs + off, sizeof v);
  return v;
}
void SetApicReg(kvm_lapic_state& s, size_t off, uint32_t v) { memcpy(s.regs + off, &v, sizeof v); }

}  // namespace

Result<Vcpu> Vcpu::Create(const Vm& vm, uint32_t index, int mmap_size) {
  Vcpu v;
  v.index_ = index;
  BH_ASSIGN(v.fd_, vm.CreateVcpuFd(index));
  v.mmap_size_ = static_cast<size_t>(mmap_size);
  void* p = mmap(nullptr, v.mmap_size_, PROT_READ | PROT_WRITE, MAP_SHARED, v.fd(), 0);
  if (p == MAP_FAILED) return Error::FromErrno("mapping kvm_run of vCPU " + std::to_string(index));
  v.run_ = static_cast<kvm_run*>(p);
  return v;
}

Vcpu::Vcpu(Vcpu&& other) noexcept
    : fd_(std::move(other.fd_)),
      run_(std::exchange(other.run_, nullptr)),
      mmap_size_(other.mmap_size_),
      index_(other.index_) {}

Vcpu::~Vcpu() {
  if (run_ != nullptr) munmap(run_, mmap_size_);
}

Status Vcpu::SetCpuid(const std::vector<kvm_cpuid_entry2>& entries) {
  std::vector<uint8_t> buf = FlexBuffer(static_cast<uint32_t>(entries.size()), entries.data());
  if (ioctl(fd(), kKvmSetCpuid2, buf.data()) < 0) return Error::FromErrno("KVM_SET_CPUID2");
  return Ok();
}

Status Vcpu::SetMsrs(const std::vector<kvm_msr_entry>& entries) {
  std::vector<uint8_t> buf = FlexBuffer(static_cast<uint32_t>(entries.size()), entries.data());
  int set = ioctl(fd(), kKvmSetMsrs, buf.data());
  if (set < 0) return Error::FromErrno("KVM_SET_MSRS");
  // KVM stops at the first MSR it refuses and returns how many it set.
  if (static_cast<size_t>(set) != entries.size()) {
    char idx[16];
    snprintf(idx, sizeof idx, "0x%x", entries[static_cast<size_t>(set)].index);
    return Error(std::string("KVM_SET_MSRS: KVM refused MSR ") + idx);
  }
  return Ok();
}

Result<kvm_sregs> Vcpu::GetSregs() const {
  kvm_sregs s{};
  if (ioctl(fd(), KVM_GET_SREGS, &s) < 0) return Error::FromErrno("KVM_GET_SREGS");
  return s;
}

Status Vcpu::SetSregs(const kvm_sregs& sregs) {
  if (ioctl(fd(), KVM_SET_SREGS, &sregs) < 0) return Error::FromErrno("KVM_SET_SREGS");
  return Ok();
}

Status Vcpu::SetRegs(const kvm_regs& regs) {
  if (ioctl(fd(), KVM_SET_REGS, &regs) < 0) return Error::FromErrno("KVM_SET_REGS");
  return Ok();
}

Status Vcpu::SetFpu(const kvm_fpu& fpu) {
  if (ioctl(fd(), KVM_SET_FPU, &fpu) < 0) return Error::FromErrno("KVM_SET_FPU");
  return Ok();
}

Status Vcpu::SetupLapic() {
  kvm_lapic_state s{};
  if (ioctl(fd(), KVM_GET_LAPIC, &s) < 0) return Error::FromErrno("KVM_GET_LAPIC");
  SetApicReg(s, kApicLvt0, (ApicReg(s, kApicLvt0) & ~kDeliveryModeMask) | kDeliveryExtInt);
  SetApicReg(s, kApicLvt1, (ApicReg(s, kApicLvt1) & ~kDeliveryModeMask) | kDeliveryNmi);
  if (ioctl(fd(), KVM_SET_LAPIC, &s) < 0) return Error::FromErrno("KVM_SET_LAPIC");
  return Ok();
}

Result<bool> Vcpu::HaltedWithInterruptsOff() const {
  constexpr uint64_t kRflagsIf = 1u << 9;
  kvm_mp_state mp{};
  if (ioctl(fd(), KVM_GET_MP_STATE, &mp) < 0) return Error::FromErrno("KVM_GET_MP_STATE");
  if (mp.mp_state != KVM_MP_STATE_HALTED) return false;
  kvm_regs regs{};
  if (ioctl(fd(), KVM_GET_REGS, &regs) < 0) return Error::FromErrno("KVM_GET_REGS");
  return (regs.rflags & kRflagsIf) == 0;
}

Result<VcpuExit> Vcpu::Run() {
  if (ioctl(fd(), KVM_RUN, 0) < 0) {
    if (errno == EINTR || errno == EAGAIN) {
      run_->immediate_exit = 0;
      return VcpuExit{.kind = VcpuExit::Kind::kInterrupted};
    }
    return Error::FromErrno("KVM_RUN on vCPU " + std::to_string(index_));
  }
  return Decode();
}

Result<VcpuExit> Vcpu::Decode() {
  VcpuExit e;
  auto* base = reinterpret_cast<uint8_t*>(run_);
  switch (run_->exit_reason) {
    case KVM_EXIT_IO: {
      // The bytes of a port access live in the kvm_run page at data_offset;
      // KVM sets both, but check them against the mapping all the same.
      uint64_t off = run_->io.data_offset;
      uint64_t len = uint64_t{run_->io.size} * run_->io.count;
      if (off > mmap_size_ || len > mmap_size_ - off || run_->io.size == 0) {
        return Error("KVM_EXIT_IO data outside kvm_run");
      }
      e.kind = run_->io.direction == KVM_EXIT_IO_OUT ? VcpuExit::Kind::kIoOut : VcpuExit::Kind::kIoIn;
      e.addr = run_->io.port;
      // A string instruction (rep outs/ins) moves `count` items of `size` bytes.
      e.data = std::span<uint8_t>(base + off, static_cast<size_t>(len));
      e.count = run_->io.count;
      return e;
    }
    case KVM_EXIT_MMIO: {
      uint32_t len = run_->mmio.len;
      if (len == 0 || len > sizeof(run_->mmio.data)) return Error("KVM_EXIT_MMIO with length " + std::to_string(len));
      e.kind = run_->mmio.is_write ? VcpuExit::Kind::kMmioWrite : VcpuExit::Kind::kMmioRead;
      e.addr = run_->mmio.phys_addr;
      e.data = std::span<uint8_t>(run_->mmio.data, len);
      return e;
    }
    case KVM_EXIT_SHUTDOWN:
      e.kind = VcpuExit::Kind::kShutdown;
      return e;
    case KVM_EXIT_SYSTEM_EVENT:
      e.kind = VcpuExit::Kind::kSystemEvent;
      e.reason = run_->system_event.type;
      return e;
    case KVM_EXIT_HLT:
      e.kind = VcpuExit::Kind::kHlt;
      return e;
    case KVM_EXIT_INTR:
      e.kind = VcpuExit::Kind::kInterrupted;
      return e;
    case KVM_EXIT_FAIL_ENTRY:
      e.kind = VcpuExit::Kind::kFailed;
      e.reason = run_->fail_entry.hardware_entry_failure_reason;
      return e;
    case KVM_EXIT_INTERNAL_ERROR:
      e.kind = VcpuExit::Kind::kFailed;
      e.reason = run_->internal.suberror;
      return e;
    default:
      e.kind = VcpuExit::Kind::kFailed;
      e.reason = run_->exit_reason;
      return e;
  }
}

}  // namespace bulkhead::vmm
