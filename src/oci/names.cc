#include "oci/names.h"

#include <sys/resource.h>

#include <algorithm>
#include <array>

#include "oci/validate.h"

namespace bulkhead::oci {

namespace {

struct NamedNumber {
  const char* name;
  int number;
};

// Numbering from <linux/capability.h>; the table index is the capability number.
constexpr std::array<const char*, 41> kCapabilities = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

const std::array<NamedNumber, 16> kRlimits = {{
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_STACK", RLIMIT_STACK},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
}};

}  // namespace

const std::vector<std::string>& AllCapabilityNames() {
  static const std::vector<std::string> names(kCapabilities.begin(), kCapabilities.end());
  return names;
}

Result<int> CapabilityNumber(std::string_view name) {
  for (size_t i = 0; i < kCapabilities.size(); ++i) {
    if (name == kCapabilities[i]) return static_cast<int>(i);
  }
  return Error("unknown capability \"" + std::string(name) + "\"", EINVAL);
}

Result<int> RlimitNumber(std::string_view name) {
  for (const NamedNumber& r : kRlimits) {
    if (name == r.name) return r.number;
  }
  return Error("unknown rlimit \"" + std::string(name) + "\"", EINVAL);
}

const std::vector<std::string>& RlimitNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const NamedNumber& r : kRlimits) v.emplace_back(r.name);
    return v;
  }();
  return names;
}

const std::vector<std::string>& NamespaceTypes() {
  static const std::vector<std::string> names = {"pid", "network", "mount",  "ipc",
                                                 "uts", "user",    "cgroup", "time"};
  return names;
}

const std::vector<std::string>& HookNames() {
  static const std::vector<std::string> names = {
      "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"};
  return names;
}

const std::vector<std::string>& SeccompActionNames() {
  static const std::vector<std::string> names = {
      "SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
      "SCMP_ACT_TRAP",  "SCMP_ACT_ERRNO",        "SCMP_ACT_TRACE",
      "SCMP_ACT_ALLOW", "SCMP_ACT_LOG",          "SCMP_ACT_NOTIFY"};
  return names;
}

const std::vector<std::string>& SeccompOperatorNames() {
  static const std::vector<std::string> names = {"SCMP_CMP_NE",       "SCMP_CMP_LT", "SCMP_CMP_LE",
                                                 "SCMP_CMP_EQ",       "SCMP_CMP_GE", "SCMP_CMP_GT",
                                                 "SCMP_CMP_MASKED_EQ"};
  return names;
}

// The architectures libseccomp 2.5 (Debian bookworm) can build filters for.
const std::vector<std::string>& SeccompArchNames() {
  static const std::vector<std::string> names = {
      "SCMP_ARCH_X86",     "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",         "SCMP_ARCH_ARM",
      "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS",     "SCMP_ARCH_MIPS64",      "SCMP_ARCH_MIPS64N32",
      "SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
      "SCMP_ARCH_PPC64",   "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_S390",        "SCMP_ARCH_S390X",
      "SCMP_ARCH_PARISC",  "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64"};
  return names;
}

// Filter flags libseccomp 2.5 can set (WAIT_KILLABLE_RECV needs 2.6).
const std::vector<std::string>& SeccompFlagNames() {
  static const std::vector<std::string> names = {
      "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"};
  return names;
}

// mount(2) flags and propagation types, as runc and crun spell them.
const std::vector<std::string>& MountOptionNames() {
  static const std::vector<std::string> names = {
      "async",       "atime",      "bind",       "defaults",      "dev",
      "diratime",    "dirsync",    "exec",       "iversion",      "lazytime",
      "loud",        "noatime",    "nodev",      "nodiratime",    "noexec",
      "noiversion",  "nolazytime", "norelatime", "nostrictatime", "nosuid",
      "nosymfollow", "private",    "rbind",      "relatime",      "remount",
      "ro",          "rprivate",   "rshared",    "rslave",        "runbindable",
      "rw",          "shared",     "silent",     "slave",         "strictatime",
      "suid",        "symfollow",  "sync",       "unbindable"};
  return names;
}

bool Contains(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace bulkhead::oci
