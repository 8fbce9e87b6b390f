// Power-off without ACPI. A Linux guest that has no firmware power-off method
// (the micro-VM has no ACPI) turns power-off into halt: it stops every CPU with
// interrupts disabled and halts them for good (cli; hlt). With the in-kernel
// LAPIC those halts never leave KVM, so the monitor looks for that state: a
// periodic timer in the event loop kicks every vCPU thread out of KVM_RUN with
// a signal; each thread reads its vCPU's activity state and RFLAGS and reports
// whether it sits halted with interrupts off. When every vCPU reports so in one
// round nothing but an NMI or INIT could wake the machine, and the monitor
// sends neither: the guest has powered off.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <atomic>
#include <memory>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace bulkhead::vmm {

class HaltWatch {
 public:
  // The signal that kicks a vCPU thread out of KVM_RUN. Blocked in every
  // thread but the vCPU threads, which handle it with an empty handler.
  static constexpr int kKickSignal = SIGUSR1;
  static constexpr int kPeriodMs = 250;

  // Installs the empty handler, blocks the kick signal in the calling thread
  // (the threads it starts inherit that) and arms the periodic timer.
  static Result<std::unique_ptr<HaltWatch>> Create(size_t vcpus);

  // The timer's fd, readable once per period: call OnTick then.
  int timer_fd() const { return timer_.get(); }

  // vCPU thread side. Start: records the thread id and unblocks the kick
  // signal; call before the thread's seccomp filter. Report: after a kick, what
  // the vCPU's state was.
  void Start(size_t index);
  void Report(size_t index, bool halted_with_interrupts_off);

  // Event-loop side: true when every vCPU reported halted with interrupts off
  // since the last tick; otherwise forgets the reports and kicks every vCPU.
  bool OnTick();

 private:
  struct Slot {
    std::atomic<pid_t> tid{0};
    std::atomic<bool> halted{false};
  };
  explicit HaltWatch(size_t vcpus) : slots_(vcpus) {}

  UniqueFd timer_;
  pid_t pid_ = 0;
  std::vector<Slot> slots_;
};

}  // namespace bulkhead::vmm
