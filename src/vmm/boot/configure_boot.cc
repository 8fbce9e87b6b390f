#include "vmm/boot/configure_boot.h"

#include "vmm/arch/x86_64/boot_params.h"
#include "vmm/arch/x86_64/gdt.h"
#include "vmm/arch/x86_64/layout.h"
#include "vmm/arch/x86_64/mptable.h"
#include "vmm/arch/x86_64/page_tables.h"
#include "vmm/arch/x86_64/pvh.h"
#include "vmm/arch/x86_64/regs.h"
#include "vmm/boot/cmdline.h"

namespace bulkhead::vmm {

namespace {

std::optional<GuestRange> InitrdRange(const BootConfig& config) {
  if (!config.initrd) return std::nullopt;
  return GuestRange{config.initrd->addr, config.initrd->size};
}

Status ConfigureLinux64(GuestMemory& mem, const LoadedKernel& kernel, const BootConfig& config) {
  if (!kernel.header) return Error("a kLinux64 kernel needs its setup header for the zero page");
  BH_TRY(x86::WriteGdt(mem, x86::CpuMode::kLong64));
  BH_TRY(x86::WriteIdentityPageTables(mem));
  x86::ZeroPageConfig zero;
  zero.header = *kernel.header;
  zero.cmdline = x86::kCmdlineAddr;
  zero.initrd = InitrdRange(config);
  zero.memory_map = x86::BuildMemoryMap(mem);
  BH_ASSIGN(boot_params params, x86::BuildZeroPage(zero));
  return mem.WriteObj(x86::kZeroPageAddr, params).Context("writing the zero page");
}

Status ConfigurePvh(GuestMemory& mem, const BootConfig& config) {
  BH_TRY(x86::WriteGdt(mem, x86::CpuMode::kProtected32));
  x86::PvhConfig pvh;
  pvh.cmdline = x86::kCmdlineAddr;
  pvh.initrd = InitrdRange(config);
  pvh.memory_map = x86::BuildMemoryMap(mem);
  return x86::WritePvhStartInfo(mem, pvh);
}

}  // namespace

Status ConfigureBoot(GuestMemory& mem, const LoadedKernel& kernel, const BootConfig& config) {
  BH_TRY(WriteCmdline(mem, x86::kCmdlineAddr, config.cmdline, CmdlineCapacity(kernel)));
  BH_TRY(x86::WriteMpTable(mem, config.vcpu_count));
  switch (kernel.protocol) {
    case BootProtocol::kLinux64:
      return ConfigureLinux64(mem, kernel, config).Context("configuring the 64-bit boot");
    case BootProtocol::kPvh:
      return ConfigurePvh(mem, config).Context("configuring the PVH boot");
  }
  return Error("unknown boot protocol");
}

kvm_regs RegsFor(const LoadedKernel& kernel) {
  return kernel.protocol == BootProtocol::kPvh ? x86::PvhRegs(kernel.entry) : x86::LongModeRegs(kernel.entry);
}

void SetupSregsFor(const LoadedKernel& kernel, kvm_sregs& sregs) {
  if (kernel.protocol == BootProtocol::kPvh) {
    x86::SetupPvhSregs(sregs);
  } else {
    x86::SetupLongModeSregs(sregs);
  }
}

}  // namespace bulkhead::vmm
