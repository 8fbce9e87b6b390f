#include "vmm/seccomp_policy.h"

#include <linux/futex.h>
#include <linux/kvm.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <set>

namespace bulkhead::vmm {
namespace {

oci::SeccompArg Eq(uint32_t index, uint64_t value) { return {index, value, 0, "SCMP_CMP_EQ"}; }
// (arg & mask) == 0
oci::SeccompArg MaskedZero(uint32_t index, uint64_t mask) { return {index, mask, 0, "SCMP_CMP_MASKED_EQ"}; }

const std::vector<SyscallRule>& EventLoopRules() {
  static const std::vector<SyscallRule> rules = {
      {"epoll_wait", "waits for queue notifications, console input and signals", {}},
      {"epoll_ctl", "pauses and resumes console input while the guest has no receive buffers; what the agent waits for", {}},
      {"read", "drains eventfds and the signalfd; serial input from stdin; agent frames and the container's stdin", {}},
      {"write", "raises interrupts through irqfds; error messages", {}},
      {"readv", "console input straight into the guest's receive buffers", {}},
      {"writev", "console output to a pipe or terminal; agent output to the container's stdout and stderr", {}},
      {"sendmsg", "console output to a socket, without SIGPIPE; agent frames to the console port and clients", {}},
      {"accept4", "agent mode: takes host clients on the agent socket, non-blocking and close-on-exec",
       {Eq(3, SOCK_NONBLOCK | SOCK_CLOEXEC)}},
      {"close", "agent mode: lets a host client go", {}},
      {"ioctl", "agent mode with a terminal: reads its size to pass a resize on to the guest",
       {Eq(1, TIOCGWINSZ)}},
      {"preadv", "virtio-blk reads straight into guest memory", {}},
      {"pwritev", "virtio-blk writes straight from guest memory", {}},
      {"fdatasync", "virtio-blk flush requests", {}},
      {"getrandom", "virtio-rng fills guest buffers", {}},
      {"tgkill", "kicks vCPU threads out of KVM_RUN to look for a powered-off guest", {Eq(2, SIGUSR1)}},
      {"futex", "waits on a device lock held by a vCPU thread", {Eq(1, FUTEX_WAIT_PRIVATE)}},
      {"futex", "wakes a vCPU thread waiting on a device lock", {Eq(1, FUTEX_WAKE_PRIVATE)}},
      {"brk", "heap growth for descriptor chains copied out of guest memory", {}},
      {"mmap", "large heap allocations; never executable", {MaskedZero(2, PROT_EXEC)}},
      {"munmap", "frees large heap allocations", {}},
      {"madvise", "the allocator returns freed memory", {}},
      {"clock_gettime", "time when the vDSO cannot serve it", {}},
      {"exit_group", "ends the VM (guest reset, signal, fatal error)", {}},
  };
  return rules;
}

const std::vector<SyscallRule>& WritebackRuleList() {
  static const std::vector<SyscallRule> rules = {
      {"openat2", "opens a path beneath a writable volume: RESOLVE_BENEATH, no symlinks, no other mounts", {}},
      {"mkdirat", "makes a directory the guest made in a writable volume", {}},
      {"unlinkat", "removes what the guest removed from a writable volume", {}},
      {"newfstatat", "what a path of a writable volume is before it is written, and the file opened", {}},
      {"getdents64", "lists a directory of a writable volume that the guest removed or replaced", {}},
      {"ftruncate", "empties a file volume before the guest's bytes go in", {}},
      {"pwrite64", "writes a file's bytes back to a writable volume", {}},
      {"fchmod", "gives a file written back the guest's permission bits", {}},
  };
  return rules;
}

const std::vector<SyscallRule>& VcpuRules() {
  static const std::vector<SyscallRule> rules = {
      {"ioctl", "runs the vCPU", {Eq(1, KVM_RUN)}},
      {"ioctl", "after a kick: is the vCPU halted (a powered-off guest)?", {Eq(1, KVM_GET_MP_STATE)}},
      {"ioctl", "after a kick: are its interrupts off (a powered-off guest)?", {Eq(1, KVM_GET_REGS)}},
      {"rt_sigreturn", "returns from the empty handler of the kick signal", {}},
      {"write", "serial output; queue notifications forwarded to the event loop; interrupts", {}},
      {"poll", "serial output to a pipe or terminal is written only when it cannot block", {}},
      {"futex", "waits on a device lock held by another thread", {Eq(1, FUTEX_WAIT_PRIVATE)}},
      {"futex", "wakes a thread waiting on a device lock", {Eq(1, FUTEX_WAKE_PRIVATE)}},
      {"brk", "heap growth in device register handlers", {}},
      {"mmap", "large heap allocations; never executable", {MaskedZero(2, PROT_EXEC)}},
      {"munmap", "frees large heap allocations", {}},
      {"madvise", "the allocator returns freed memory", {}},
      {"exit_group", "ends the VM (reset, triple fault, fatal exit)", {}},
  };
  return rules;
}

std::string DescribeArgs(const std::vector<oci::SeccompArg>& args) {
  std::string out;
  for (const oci::SeccompArg& a : args) {
    if (!out.empty()) out += ", ";
    char buf[96];
    if (a.op == "SCMP_CMP_MASKED_EQ") {
      snprintf(buf, sizeof buf, "arg%u & 0x%llx == 0x%llx", a.index, static_cast<unsigned long long>(a.value),
               static_cast<unsigned long long>(a.value_two));
    } else {
      snprintf(buf, sizeof buf, "arg%u == 0x%llx", a.index, static_cast<unsigned long long>(a.value));
    }
    out += buf;
  }
  return out.empty() ? "any" : out;
}

}  // namespace

const char* RoleName(ThreadRole role) { return role == ThreadRole::kVcpu ? "vcpu" : "event loop"; }

std::span<const SyscallRule> RulesFor(ThreadRole role) {
  return role == ThreadRole::kVcpu ? VcpuRules() : EventLoopRules();
}

std::span<const SyscallRule> WritebackRules() { return WritebackRuleList(); }

oci::Seccomp PolicyFor(ThreadRole role, bool writeback) {
  oci::Seccomp p;
  p.default_action = "SCMP_ACT_KILL_PROCESS";
  p.architectures = {"SCMP_ARCH_X86_64"};
  auto add = [&p](std::span<const SyscallRule> rules) {
    for (const SyscallRule& r : rules) {
      oci::SeccompSyscall s;
      s.names = {r.name};
      s.action = "SCMP_ACT_ALLOW";
      s.args = r.args;
      p.syscalls.push_back(std::move(s));
    }
  };
  add(RulesFor(role));
  if (writeback && role == ThreadRole::kEventLoop) add(WritebackRules());
  return p;
}

Result<seccomp::Program> CompilePolicy(ThreadRole role, bool writeback) {
  BH_ASSIGN(seccomp::Program prog, seccomp::Compile(PolicyFor(role, writeback)));
  prog.flags = 0;  // this thread only: each role installs its own list
  return prog;
}

std::string DescribePolicies() {
  std::string out;
  for (ThreadRole role : {ThreadRole::kEventLoop, ThreadRole::kVcpu}) {
    std::set<std::string> names;
    for (const SyscallRule& r : RulesFor(role)) names.insert(r.name);
    out += "### " + std::string(RoleName(role)) + " thread: " + std::to_string(names.size()) +
           " system calls\n\n| syscall | arguments | why |\n| --- | --- | --- |\n";
    for (const SyscallRule& r : RulesFor(role)) {
      out += "| " + std::string(r.name) + " | " + DescribeArgs(r.args) + " | " + r.reason + " |\n";
    }
    out += "\n";
  }
  out += "### event loop thread with writable volumes: " + std::to_string(WritebackRules().size()) +
         " more system calls\n\n| syscall | arguments | why |\n| --- | --- | --- |\n";
  for (const SyscallRule& r : WritebackRules()) {
    out += "| " + std::string(r.name) + " | " + DescribeArgs(r.args) + " | " + r.reason + " |\n";
  }
  return out;
}

}  // namespace bulkhead::vmm
