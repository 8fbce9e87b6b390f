// How bulkhead-vmm ends. docs/vmm.md lists the same table for users.
#pragma once

namespace bulkhead::vmm {

// The guest rebooted (the kernel reset the machine through the i8042
// controller with a normal reboot flag): in a micro-VM that ends the VM.
inline constexpr int kExitGuestReboot = 0;
// Bad configuration, or the VM could not be set up (KVM unusable, a file
// missing); nothing ran.
inline constexpr int kExitSetupError = 1;
// The monitor failed while the guest ran (KVM_RUN error, entry failure).
inline constexpr int kExitMonitorError = 2;
// The guest kernel panicked (it resets with the warm-reboot flag set by
// `reboot=panic_warm`); also a guest whose init exits, which Linux turns
// into a panic.
inline constexpr int kExitGuestPanic = 3;
// The guest triple-faulted (KVM_EXIT_SHUTDOWN).
inline constexpr int kExitTripleFault = 4;
// The guest powered off or halted: every vCPU sits halted with interrupts
// disabled (halt_watch.h).
inline constexpr int kExitGuestPowerOff = 5;
// Agent mode: the guest broke the host<->guest protocol (a malformed,
// oversized or wrong-direction frame, or one its session forbids); the
// monitor stops the VM at once and names the problem on stderr.
inline constexpr int kExitGuestProtocol = 6;
// A host signal stopped the VM: 128 + the signal (SIGTERM gives 143).
inline constexpr int kExitSignalBase = 128;

}  // namespace bulkhead::vmm
