// Global kernel state and large kernel surfaces: keyrings, eBPF, perf, userfaultfd, io_uring,
// modules, kexec, reboot, swap, the kernel log, I/O ports, clocks, capabilities, the hostname.
//
// Where a call could do harm if it went through, its arguments are chosen to fail harmlessly
// *after* the permission check (a bad reboot magic, a missing swap file, an empty module), so
// EPERM shows the check refused it and any other errno shows the check let it pass.
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/io_uring.h>
#include <linux/perf_event.h>
#include <linux/reboot.h>
#include <sys/syscall.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

#include "attempt.h"

namespace bulkhead::escape {
namespace {

constexpr long kSessionKeyring = -3;  // KEY_SPEC_SESSION_KEYRING

std::string Keyctl() {
  return Outcome(syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, "bh-escape"));
}

std::string AddKey() {
  return Outcome(syscall(SYS_add_key, "user", "bh-escape", "x", 1, kSessionKeyring));
}

std::string RequestKey() {
  return Outcome(syscall(SYS_request_key, "user", "bh-escape", nullptr, kSessionKeyring));
}

std::string Bpf() {
  Probes p;
  bpf_attr map{};
  map.map_type = BPF_MAP_TYPE_ARRAY;
  map.key_size = 4;
  map.value_size = 4;
  map.max_entries = 1;
  p.Add("map_create", Outcome(syscall(SYS_bpf, BPF_MAP_CREATE, &map, sizeof map)));
  bpf_insn prog[2] = {};
  prog[0].code = BPF_ALU64 | BPF_MOV | BPF_K;  // r0 = 0
  prog[1].code = BPF_JMP | BPF_EXIT;
  static const char license[] = "GPL";
  bpf_attr load{};
  load.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
  load.insns = reinterpret_cast<uint64_t>(prog);
  load.insn_cnt = 2;
  load.license = reinterpret_cast<uint64_t>(license);
  p.Add("prog_load", Outcome(syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load)));
  return p.Result();
}

std::string PerfEventOpen() {
  perf_event_attr attr{};
  attr.size = sizeof attr;
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_CPU_CLOCK;
  return Outcome(syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0));
}

std::string Userfaultfd() { return Outcome(syscall(SYS_userfaultfd, O_CLOEXEC)); }

std::string IoUring() {
  io_uring_params params{};
  return Outcome(syscall(SYS_io_uring_setup, 1, &params));
}

std::string InitModule() {
  static const char image[4] = {};  // not an ELF module: ENOEXEC if the check let it in
  return Outcome(syscall(SYS_init_module, image, sizeof image, ""));
}

std::string FinitModule() {
  int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Setup("open /proc/self/exe: " + ErrnoName(errno));
  return Outcome(syscall(SYS_finit_module, fd, "", 0));
}

std::string DeleteModule() {
  return Outcome(syscall(SYS_delete_module, "bh_escape_none", O_NONBLOCK));
}

std::string KexecLoad() {
  Probes p;
  p.Add("kexec_load", Outcome(syscall(SYS_kexec_load, 0, 0, nullptr, 0xdead0000UL)));
  p.Add("kexec_file_load", Outcome(syscall(SYS_kexec_file_load, -1, -1, 0, "", 0xdead0000UL)));
  return p.Result();
}

std::string Reboot() {
  // Wrong second magic: past the CAP_SYS_BOOT check the kernel would answer EINVAL.
  return Outcome(syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, 0, LINUX_REBOOT_CMD_RESTART, nullptr));
}

std::string Swapon() { return Outcome(syscall(SYS_swapon, "/tmp/bh-escape-no-swap", 0)); }

std::string Syslog() {
  char buf[256];
  return Outcome(syscall(SYS_syslog, 3 /* SYSLOG_ACTION_READ_ALL */, buf, sizeof buf));
}

#if defined(__x86_64__)
std::string Iopl() { return Outcome(syscall(SYS_iopl, 3)); }
std::string Ioperm() { return Outcome(syscall(SYS_ioperm, 0x80, 1, 1)); }
#endif

std::string ClockSettime() {
  // Setting the clock to what it reads: the call, not the value, is what must be refused.
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  Probes p;
  p.Add("clock_settime", Outcome(clock_settime(CLOCK_REALTIME, &now)));
  timeval tv{now.tv_sec, now.tv_nsec / 1000};
  p.Add("settimeofday", Outcome(syscall(SYS_settimeofday, &tv, nullptr)));
  return p.Result();
}

std::string Adjtimex() {
  timex tx{};  // modes 0: a query, refused all the same
  return Outcome(syscall(SYS_adjtimex, &tx));
}

std::string Sethostname() {
  static const char name[] = "bh-escaped";
  return Outcome(sethostname(name, sizeof name - 1));
}

std::string CapsetRaise() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2];
  for (auto& d : data) d = {0xffffffffu, 0xffffffffu, 0};
  return Outcome(syscall(SYS_capset, &header, data));
}

std::string Acct() { return Outcome(syscall(SYS_acct, "/tmp/bh-escape-acct")); }

}  // namespace

void AddKernelAttempts(Attempts& out) {
  out.push_back({"keyctl", "join a new session keyring", "EPERM",
                 "seccomp: keyctl refused (EPERM); keyrings are not namespaced", Keyctl});
  out.push_back({"add_key", "add a user key to the session keyring", "EPERM",
                 "seccomp: add_key refused (EPERM)", AddKey});
  out.push_back({"request_key", "request a user key", "EPERM",
                 "seccomp: request_key refused (EPERM)", RequestKey});
  out.push_back({"bpf", "create an eBPF map and load a socket filter", "EPERM",
                 "seccomp: bpf refused (EPERM)", Bpf});
  out.push_back({"perf_event_open", "open a software perf counter on itself", "EPERM",
                 "seccomp: perf_event_open refused (EPERM)", PerfEventOpen});
  out.push_back({"userfaultfd", "create a userfaultfd", "EPERM",
                 "seccomp: userfaultfd refused (EPERM)", Userfaultfd});
  out.push_back({"io_uring_setup", "set up an io_uring", "EPERM",
                 "seccomp: io_uring refused (EPERM)", IoUring});
  out.push_back({"init_module", "load a module from memory", "EPERM",
                 "seccomp: refused (EPERM); CAP_SYS_MODULE dropped", InitModule});
  out.push_back({"finit_module", "load a module from a file", "EPERM",
                 "seccomp: refused (EPERM); CAP_SYS_MODULE dropped", FinitModule});
  out.push_back(
      {"delete_module", "remove a module", "EPERM", "seccomp: refused (EPERM)", DeleteModule});
  out.push_back({"kexec_load", "kexec_load and kexec_file_load", "EPERM",
                 "seccomp: refused (EPERM); CAP_SYS_BOOT dropped", KexecLoad});
  out.push_back({"reboot", "reboot (with a wrong second magic)", "EPERM",
                 "seccomp: refused (EPERM); CAP_SYS_BOOT dropped", Reboot});
  out.push_back({"swapon", "swapon a file", "EPERM",
                 "seccomp: refused (EPERM); CAP_SYS_ADMIN dropped", Swapon});
  out.push_back({"syslog", "read the kernel log", "EPERM",
                 "seccomp: refused (EPERM): the kernel log is the host's", Syslog});
#if defined(__x86_64__)
  out.push_back({"iopl", "raise the I/O privilege level to 3", "EPERM",
                 "seccomp: refused (EPERM); CAP_SYS_RAWIO dropped", Iopl});
  out.push_back({"ioperm", "open I/O port 0x80", "EPERM",
                 "seccomp: refused (EPERM); CAP_SYS_RAWIO dropped", Ioperm});
#endif
  out.push_back({"clock_settime", "set the realtime clock (clock_settime, settimeofday)", "EPERM",
                 "seccomp: refused (EPERM): the clock is global; CAP_SYS_TIME dropped",
                 ClockSettime});
  out.push_back({"adjtimex", "query the kernel clock with adjtimex", "EPERM",
                 "seccomp: refused (EPERM), even the query", Adjtimex});
  out.push_back({"sethostname", "set the hostname", "EPERM",
                 "capabilities: CAP_SYS_ADMIN is dropped, even over the container's own UTS "
                 "namespace (EPERM); the runner checks the host's hostname is unchanged",
                 Sethostname});
  out.push_back({"capset_raise", "raise every capability with capset", "EPERM",
                 "capabilities: nothing in the permitted or bounding set to raise (EPERM)",
                 CapsetRaise});
  out.push_back({"acct", "turn on process accounting", "EPERM",
                 "seccomp: refused (EPERM); CAP_SYS_PACCT dropped", Acct});
}

}  // namespace bulkhead::escape
