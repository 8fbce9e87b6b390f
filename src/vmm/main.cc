// bulkhead-vmm: one micro-VM per process, configured by a JSON file and/or flags.
#include <CLI/CLI.hpp>

#include <iostream>

#include "base/fs.h"
#include "vmm/config.h"
#include "vmm/exit_codes.h"
#include "vmm/seccomp_policy.h"
#include "vmm/vmm.h"

namespace {

int Usage(const std::string& msg) {
  std::cerr << "bulkhead-vmm: " << msg << "\n";
  return bulkhead::vmm::kExitSetupError;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace bulkhead::vmm;
  CLI::App app{"bulkhead-vmm: a small, jailed KVM micro-VM monitor"};
  std::string config_path, kernel, initrd, cmdline, serial, console, agent_socket;
  std::optional<uint32_t> vcpus;
  std::optional<uint64_t> memory;
  std::vector<std::string> disks, writeback;
  bool rng = false, no_jail = false, print_seccomp = false, agent_tty = false;
  std::string selftest;
  app.add_option("--config", config_path, "JSON configuration file (flags override it)");
  app.add_option("--kernel", kernel, "kernel: ELF vmlinux (PVH) or bzImage");
  app.add_option("--initrd", initrd, "initial ramdisk");
  app.add_option("--cmdline", cmdline, "kernel command line");
  app.add_option("--vcpus", vcpus, "number of vCPUs (1-32)");
  app.add_option("--memory", memory, "guest memory in MiB");
  app.add_option("--disk", disks, "virtio-blk disk: id=ID,path=PATH[,ro] (repeatable)");
  app.add_option("--serial", serial, "serial console output: stdout (default), none, file:PATH");
  app.add_option("--console", console, "virtio-console: socket:PATH or fd:N");
  app.add_option("--agent-socket", agent_socket,
                 "agent mode: the virtio-console port carries the host<->guest protocol; host "
                 "clients connect to this Unix socket, which the monitor creates (mode 0600)");
  app.add_flag("--agent-tty", agent_tty,
               "agent mode: stdin is the workload's terminal, whose size goes to the guest at "
               "start and on SIGWINCH");
  app.add_option("--writeback", writeback,
                 "agent mode: a writable volume the guest writes back, volume=N,max_mib=M,path=PATH "
                 "(PATH a directory or a regular file; repeatable)");
  app.add_flag("--rng", rng, "add a virtio-rng entropy device");
  app.add_flag("--no-jail", no_jail, "skip namespaces, privilege drop and seccomp (debugging only)");
  app.add_flag("--print-seccomp", print_seccomp, "print the seccomp allow-lists and exit");
  app.add_option("--seccomp-selftest", selftest,
                 "vcpu or event-loop: that thread makes a forbidden system call once its filter is "
                 "installed, so the monitor must die by SIGSYS")
      ->check(CLI::IsMember({"vcpu", "event-loop"}));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitSetupError;
  }
  if (print_seccomp) {
    std::cout << DescribePolicies();
    return 0;
  }
  VmConfig config;
  if (!config_path.empty()) {
    auto text = bulkhead::ReadFile(config_path, 1u << 20);
    if (!text.ok()) return Usage(text.error().message());
    auto st = ApplyJson(*text, &config);
    if (!st.ok()) return Usage(config_path + ": " + st.error().message());
  }
  if (!kernel.empty()) config.kernel = kernel;
  if (!initrd.empty()) config.initrd = initrd;
  if (!cmdline.empty()) config.cmdline = cmdline;
  if (vcpus) config.vcpus = *vcpus;
  if (memory) config.memory_mib = *memory;
  for (const std::string& d : disks) {
    auto disk = ParseDiskFlag(d);
    if (!disk.ok()) return Usage(disk.error().message());
    config.disks.push_back(*disk);
  }
  if (!serial.empty()) {
    auto s = ParseSerialFlag(serial);
    if (!s.ok()) return Usage(s.error().message());
    config.serial = *s;
  }
  if (!console.empty()) {
    auto c = ParseConsoleFlag(console);
    if (!c.ok()) return Usage(c.error().message());
    config.console = *c;
  }
  if (!agent_socket.empty()) {
    if (!config.agent) config.agent = AgentConfig{};
    config.agent->socket = agent_socket;
  }
  for (const std::string& w : writeback) {
    if (!config.agent) return Usage("--writeback needs agent mode (--agent-socket)");
    auto parsed = ParseWritebackFlag(w);
    if (!parsed.ok()) return Usage(parsed.error().message());
    config.agent->writeback.push_back(*parsed);
  }
  if (agent_tty) {
    if (!config.agent) return Usage("--agent-tty needs agent mode (--agent-socket)");
    config.agent->tty = true;
  }
  config.rng = config.rng || rng;
  config.jail = !no_jail;
  if (selftest == "vcpu") config.seccomp_selftest = VmConfig::SelfTest::kVcpu;
  if (selftest == "event-loop") config.seccomp_selftest = VmConfig::SelfTest::kEventLoop;
  auto valid = Validate(config);
  if (!valid.ok()) return Usage(valid.error().message());
  return RunVmm(config);
}
