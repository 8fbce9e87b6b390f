// One virtual CPU: its fd, the shared kvm_run page, register setup and KVM_RUN.
// An exit is decoded into a VcpuExit whose data span lies inside kvm_run and is
// bounds-checked against the mapping's size.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <span>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "vmm/kvm/vm.h"

namespace bulkhead::vmm {

struct VcpuExit {
  enum class Kind {
    kIoIn,        // port read: fill `data`
    kIoOut,       // port write: `data` holds the bytes
    kMmioRead,    // MMIO read: fill `data`
    kMmioWrite,   // MMIO write: `data` holds the bytes
    kShutdown,    // triple fault or reset through the CPU (KVM_EXIT_SHUTDOWN)
    kSystemEvent, // KVM_EXIT_SYSTEM_EVENT: `reason` is the event type
    kInterrupted, // a signal kicked the vCPU out of KVM_RUN (EINTR / immediate_exit)
    kHlt,         // only without an in-kernel LAPIC
    kFailed,      // entry failure or internal error: `reason` carries KVM's code
  };
  Kind kind = Kind::kFailed;
  uint64_t addr = 0;          // port or guest-physical address
  std::span<uint8_t> data;    // inside kvm_run; valid until the next Run()
  uint32_t count = 1;         // port exits: data holds `count` items of data.size()/count bytes
  uint64_t reason = 0;
};

class Vcpu {
 public:
  static Result<Vcpu> Create(const Vm& vm, uint32_t index, int mmap_size);
  Vcpu(Vcpu&& other) noexcept;
  Vcpu& operator=(Vcpu&&) = delete;
  Vcpu(const Vcpu&) = delete;
  ~Vcpu();

  uint32_t index() const { return index_; }
  int fd() const { return fd_.get(); }

  Status SetCpuid(const std::vector<kvm_cpuid_entry2>& entries);
  Status SetMsrs(const std::vector<kvm_msr_entry>& entries);
  Result<kvm_sregs> GetSregs() const;
  Status SetSregs(const kvm_sregs& sregs);
  Status SetRegs(const kvm_regs& regs);
  Status SetFpu(const kvm_fpu& fpu);
  // LINT0 as ExtINT (the PIC's output) and LINT1 as NMI, as firmware leaves them.
  Status SetupLapic();

  Result<VcpuExit> Run();

  // True when the vCPU sits in HLT with RFLAGS.IF clear: only an NMI, INIT or
  // SMI could wake it. Call from the vCPU's own thread, between runs.
  Result<bool> HaltedWithInterruptsOff() const;

  // Async-signal-safe: makes the current or next KVM_RUN return at once.
  void RequestExit() { run_->immediate_exit = 1; }

 private:
  Vcpu() = default;
  Result<VcpuExit> Decode();

  UniqueFd fd_;
  kvm_run* run_ = nullptr;
  size_t mmap_size_ = 0;
  uint32_t index_ = 0;
};

}  // namespace bulkhead::vmm
