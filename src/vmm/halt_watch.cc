#include "vmm/halt_watch.h"

#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cstdint>

namespace bulkhead::vmm {
namespace {

// Does nothing: its only effect is that KVM_RUN returns EINTR.
void Kicked(int) {}

}  // namespace

Result<std::unique_ptr<HaltWatch>> HaltWatch::Create(size_t vcpus) {
  std::unique_ptr<HaltWatch> w(new HaltWatch(vcpus));
  w->pid_ = getpid();
  struct sigaction sa{};
  sa.sa_handler = Kicked;  // no SA_RESTART: the interrupted KVM_RUN must return
  sigemptyset(&sa.sa_mask);
  if (sigaction(kKickSignal, &sa, nullptr) != 0) return Error::FromErrno("sigaction for the vCPU kick");
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, kKickSignal);
  if (pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) return Error("blocking the vCPU kick signal");
  w->timer_ = UniqueFd(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
  if (!w->timer_) return Error::FromErrno("timerfd_create");
  itimerspec period{};
  period.it_interval.tv_nsec = kPeriodMs * 1000000L;
  period.it_value = period.it_interval;
  if (timerfd_settime(w->timer_.get(), 0, &period, nullptr) != 0) return Error::FromErrno("timerfd_settime");
  return w;
}

void HaltWatch::Start(size_t index) {
  slots_.at(index).tid.store(static_cast<pid_t>(syscall(SYS_gettid)));
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, kKickSignal);
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

void HaltWatch::Report(size_t index, bool halted_with_interrupts_off) {
  if (index < slots_.size()) slots_[index].halted.store(halted_with_interrupts_off);
}

bool HaltWatch::OnTick() {
  uint64_t expirations = 0;
  (void)!read(timer_.get(), &expirations, sizeof expirations);
  bool all = !slots_.empty();
  for (Slot& s : slots_) all = all && s.halted.load();
  if (all) return true;
  for (Slot& s : slots_) {
    s.halted.store(false);
    pid_t tid = s.tid.load();
    // A thread not yet started has no tid; the next tick kicks it.
    if (tid != 0) syscall(SYS_tgkill, pid_, tid, kKickSignal);
  }
  return false;
}

}  // namespace bulkhead::vmm
