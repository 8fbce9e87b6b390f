#include "vmm/vcpu_thread.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "vmm/exit_codes.h"

namespace bulkhead::vmm {
namespace {

constexpr GuestAddress kBiosResetFlag{0x472};
constexpr uint16_t kWarmReset = 0x1234;

void HandlePort(const Bus& pio, const VcpuExit& e) {
  size_t item = e.count == 0 ? 0 : e.data.size() / e.count;
  for (uint32_t i = 0; i < e.count && item != 0; ++i) {
    std::span<uint8_t> d = e.data.subspan(i * item, item);
    if (e.kind == VcpuExit::Kind::kIoOut) {
      pio.Write(e.addr, d);
    } else if (!pio.Read(e.addr, d)) {
      std::fill(d.begin(), d.end(), 0xff);  // nothing on the ISA bus answers with all ones
    }
  }
}

void HandleMmio(const Bus& mmio, const VcpuExit& e) {
  if (e.kind == VcpuExit::Kind::kMmioWrite) {
    mmio.Write(e.addr, e.data);
  } else if (!mmio.Read(e.addr, e.data)) {
    std::fill(e.data.begin(), e.data.end(), 0);
  }
}

}  // namespace

void ReportFatal(std::string_view msg) {
  std::string line = "bulkhead-vmm: " + std::string(msg) + "\n";
  (void)!write(STDERR_FILENO, line.data(), line.size());
}

int ResetExitCode(const GuestMemory& mem) {
  auto flag = mem.ReadObj<uint16_t>(kBiosResetFlag);
  return flag.ok() && *flag == kWarmReset ? kExitGuestPanic : kExitGuestReboot;
}

void RunVcpuThread(const VcpuThreadContext& ctx) {
  if (ctx.halt_watch != nullptr) ctx.halt_watch->Start(ctx.vcpu->index());
  if (ctx.filter != nullptr) {
    auto installed = seccomp::Install(*ctx.filter);
    if (!installed.ok()) {
      ReportFatal("vCPU " + std::to_string(ctx.vcpu->index()) + ": " + installed.error().message());
      _exit(kExitMonitorError);
    }
    if (ctx.seccomp_selftest) syscall(SYS_getppid);
  }
  for (;;) {
    auto exit = ctx.vcpu->Run();
    if (!exit.ok()) {
      ReportFatal(exit.error().message());
      _exit(kExitMonitorError);
    }
    switch (exit->kind) {
      case VcpuExit::Kind::kIoIn:
      case VcpuExit::Kind::kIoOut:
        HandlePort(*ctx.pio, *exit);
        break;
      case VcpuExit::Kind::kMmioRead:
      case VcpuExit::Kind::kMmioWrite:
        HandleMmio(*ctx.mmio, *exit);
        break;
      case VcpuExit::Kind::kInterrupted:
        if (ctx.halt_watch != nullptr) {
          auto halted = ctx.vcpu->HaltedWithInterruptsOff();
          if (!halted.ok()) {
            ReportFatal(halted.error().message());
            _exit(kExitMonitorError);
          }
          ctx.halt_watch->Report(ctx.vcpu->index(), *halted);
        }
        break;
      case VcpuExit::Kind::kShutdown:
        ReportFatal("guest triple fault on vCPU " + std::to_string(ctx.vcpu->index()));
        _exit(kExitTripleFault);
      case VcpuExit::Kind::kSystemEvent:
        _exit(exit->reason == KVM_SYSTEM_EVENT_CRASH ? kExitGuestPanic : kExitGuestReboot);
      case VcpuExit::Kind::kHlt:
      case VcpuExit::Kind::kFailed:
        ReportFatal("vCPU " + std::to_string(ctx.vcpu->index()) + " failed (KVM reason " +
                    std::to_string(exit->reason) + ")");
        _exit(kExitMonitorError);
    }
  }
}

}  // namespace bulkhead::vmm
