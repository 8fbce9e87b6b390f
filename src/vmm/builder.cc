#include "vmm/builder.h"

#include <unistd.h>

#include <cstdio>

#include "vmm/agent/relay.h"
#include "vmm/arch/x86_64/cpuid.h"
#include "vmm/arch/x86_64/layout.h"
#include "vmm/arch/x86_64/msrs.h"
#include "vmm/boot/configure_boot.h"
#include "vmm/boot/initrd.h"
#include "vmm/boot/kernel_loader.h"
#include "vmm/devices/legacy/i8042.h"
#include "vmm/devices/legacy/serial.h"
#include "vmm/exit_codes.h"
#include "vmm/vcpu_thread.h"
#include "vmm/virtio_devices.h"

namespace bulkhead::vmm {
namespace {

// x87 control word and MXCSR after FNINIT/reset: all exceptions masked.
constexpr uint16_t kFpuControlWord = 0x37f;
constexpr uint32_t kMxcsrDefault = 0x1f80;

Status SetupVcpus(Machine& m, const Kvm& kvm, const LoadedKernel& kernel, uint32_t count) {
  BH_ASSIGN(std::vector<kvm_cpuid_entry2> supported, kvm.SupportedCpuid());
  BH_ASSIGN(int tsc_deadline, kvm.CheckExtension(KVM_CAP_TSC_DEADLINE_TIMER));
  for (uint32_t i = 0; i < count; ++i) {
    BH_ASSIGN(Vcpu vcpu, Vcpu::Create(m.vm, i, kvm.vcpu_mmap_size()));
    std::vector<kvm_cpuid_entry2> cpuid = supported;
    x86::FilterCpuid(cpuid, i, count);
    if (tsc_deadline > 0) x86::EnableTscDeadlineTimer(cpuid);
    BH_TRY(vcpu.SetCpuid(cpuid));
    BH_TRY(vcpu.SetMsrs(x86::BootMsrs()));
    BH_TRY(vcpu.SetupLapic());
    if (i == 0) {
      // Only the boot CPU starts at the kernel's entry; the others wait in the
      // in-kernel LAPIC for the INIT/SIPI the kernel sends them.
      BH_ASSIGN(kvm_sregs sregs, vcpu.GetSregs());
      SetupSregsFor(kernel, sregs);
      BH_TRY(vcpu.SetSregs(sregs));
      BH_TRY(vcpu.SetRegs(RegsFor(kernel)));
      kvm_fpu fpu{};
      fpu.fcw = kFpuControlWord;
      fpu.mxcsr = kMxcsrDefault;
      BH_TRY(vcpu.SetFpu(fpu));
    }
    m.vcpus.push_back(std::make_unique<Vcpu>(std::move(vcpu)));
  }
  return Ok();
}

Status AddLegacyDevices(Machine& m, const VmConfig& config, const HostFiles& files) {
  BH_ASSIGN(Interrupt serial_irq, Interrupt::Create());
  BH_TRY(m.vm.AddIrqfd(serial_irq.fd(), x86::kCom1Irq));
  m.serial = std::make_shared<Serial>(std::move(serial_irq), files.serial_out);
  BH_TRY(m.pio.Insert(m.serial, x86::kCom1Port, x86::kCom1PortCount));
  if (config.serial.input) {
    std::shared_ptr<Serial> serial = m.serial;
    EventLoop* loop = &m.loop;
    BH_TRY(m.loop.Add(STDIN_FILENO, [serial, loop] {
      uint8_t buf[Serial::kFifoSize];
      ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
      if (n > 0) {
        serial->Enqueue(std::span<const uint8_t>(buf, static_cast<size_t>(n)));
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        (void)loop->Pause(STDIN_FILENO);  // end of input: stop polling it
      }
    }));
  }
  BH_ASSIGN(std::unique_ptr<I8042> i8042, I8042::Create());
  m.i8042 = std::move(i8042);
  BH_TRY(m.pio.Insert(m.i8042, x86::kI8042DataPort, I8042::kPortCount));
  const GuestMemory* mem = &m.memory;
  int reset_fd = m.i8042->reset_fd();
  return m.loop.Add(reset_fd, [mem] { _exit(ResetExitCode(*mem)); });
}

// The relay serves the console port, the agent socket and the monitor's stdio (the
// container's) from the event loop.
Status AddAgent(Machine& m, HostFiles& files, bool tty) {
  agent::RelayFds fds{std::move(files.agent_console), std::move(files.agent_listen), STDIN_FILENO,
                      STDOUT_FILENO, STDERR_FILENO, tty, std::move(files.writeback)};
  BH_ASSIGN(std::unique_ptr<agent::Relay> relay, agent::Relay::Create(std::move(fds)));
  m.agent = std::move(relay);
  agent::Relay* r = m.agent.get();
  return m.loop.Add(r->epoll_fd(), [r] { RunAgent(*r); });
}

}  // namespace

void RunAgent(agent::Relay& relay) {
  std::optional<agent::Outcome> end = relay.Run(0);
  if (!end) return;
  switch (end->kind) {
    case agent::Outcome::Kind::kWorkloadExited:
      _exit(end->status);
    case agent::Outcome::Kind::kGuestBrokeProtocol:
      ReportFatal("guest protocol violation, stopping the VM: " + end->message);
      _exit(kExitGuestProtocol);
    case agent::Outcome::Kind::kFailed:
      ReportFatal("agent: " + end->message);
      _exit(kExitMonitorError);
  }
}

std::string GuestCmdline(const std::string& user, size_t virtio_devices) {
  // reboot=k: reset through the i8042 (the only reset this machine has);
  // panic_warm marks a panic's reset so the monitor can tell it from a reboot;
  // panic=-1: reset at once instead of hanging.
  std::string cmdline = user + " reboot=k,panic_warm panic=-1 8250.nr_uarts=1";
  for (size_t i = 0; i < virtio_devices; ++i) {
    char dev[96];
    snprintf(dev, sizeof dev, " virtio_mmio.device=4K@0x%llx:%u",
             static_cast<unsigned long long>(x86::kVirtioMmioBase.raw() + i * x86::kVirtioMmioSize),
             x86::kVirtioFirstIrq + static_cast<uint32_t>(i));
    cmdline += dev;
  }
  return cmdline;
}

Result<std::unique_ptr<Machine>> BuildMachine(const VmConfig& config, HostFiles& files) {
  auto m = std::make_unique<Machine>();
  BH_ASSIGN(m->memory, GuestMemory::Create(x86::RamRanges(config.memory_mib << 20)));
  BH_ASSIGN(m->vm, Vm::Create(files.kvm, x86::kKvmTssAddr, x86::kKvmIdentityMapAddr));
  BH_TRY(m->vm.MapMemory(m->memory));
  BH_ASSIGN(m->loop, EventLoop::Create());

  BH_ASSIGN(LoadedKernel kernel, LoadKernel(m->memory, files.kernel.get()));
  std::optional<InitrdPlacement> initrd;
  if (files.initrd) {
    BH_ASSIGN(initrd, LoadInitrd(m->memory, kernel, files.initrd.get()));
  }
  BH_TRY(AddLegacyDevices(*m, config, files).Context("legacy devices"));
  BH_ASSIGN(size_t virtio_count, AddVirtioDevices(*m, config, files));
  if (config.agent) BH_TRY(AddAgent(*m, files, config.agent->tty).Context("agent"));
  BootConfig boot{GuestCmdline(config.cmdline, virtio_count), initrd, config.vcpus};
  BH_TRY(ConfigureBoot(m->memory, kernel, boot).Context("boot data"));
  BH_TRY(SetupVcpus(*m, files.kvm, kernel, config.vcpus));
  return m;
}

}  // namespace bulkhead::vmm
