#include "seccomp/compile.h"

#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cctype>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "base/syscall.h"

namespace bulkhead::seccomp {
namespace {

// The kernel clamps larger SECCOMP_RET_ERRNO data to this; we refuse it instead of surprising.
constexpr uint32_t kMaxErrno = 4095;
constexpr size_t kMaxArgs = 6;  // seccomp_data.args

struct CtxRelease {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Ctx = std::unique_ptr<void, CtxRelease>;

Error FieldError(const std::string& field, const std::string& what) {
  return Error(field + ": " + what, EINVAL);
}

// errnoRet applies to ERRNO and TRACE (runc uses it as the tracer's message too, EPERM when
// unset); other actions ignore it, as runc does.
Result<uint32_t> ParseAction(const std::string& name, std::optional<uint32_t> errno_ret,
                             const std::string& field) {
  uint32_t data = EPERM;
  if (errno_ret) {
    if (*errno_ret > kMaxErrno) {
      return FieldError(field, "errnoRet " + std::to_string(*errno_ret) +
                                   " out of range (at most " + std::to_string(kMaxErrno) + ")");
    }
    data = *errno_ret;
  }
  if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
  if (name == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
  if (name == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
  if (name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(data);
  if (name == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(data);
  if (name == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
  if (name == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
  if (name == "SCMP_ACT_NOTIFY") return SCMP_ACT_NOTIFY;
  return FieldError(field, "unknown action " + name);
}

Result<scmp_compare> ParseOp(const std::string& name, const std::string& field) {
  static const std::map<std::string, scmp_compare> kOps = {
      {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT},
      {"SCMP_CMP_LE", SCMP_CMP_LE}, {"SCMP_CMP_EQ", SCMP_CMP_EQ},
      {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
      {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
  };
  auto it = kOps.find(name);
  if (it == kOps.end()) return FieldError(field, "unknown operator " + name);
  return it->second;
}

// Flags the OCI spec names. NEW_LISTENER and TSYNC_ESRCH are ours to set, never the profile's.
Result<unsigned int> ParseFlag(const std::string& name, const std::string& field) {
  if (name == "SECCOMP_FILTER_FLAG_TSYNC") return SECCOMP_FILTER_FLAG_TSYNC;
  if (name == "SECCOMP_FILTER_FLAG_LOG") return SECCOMP_FILTER_FLAG_LOG;
  if (name == "SECCOMP_FILTER_FLAG_SPEC_ALLOW") return SECCOMP_FILTER_FLAG_SPEC_ALLOW;
  if (name == "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") {
    return SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
  }
  return FieldError(field, "unknown flag " + name);
}

// "SCMP_ARCH_X86_64" -> libseccomp's own name "x86_64", so every architecture the installed
// libseccomp knows is accepted and nothing else.
Result<uint32_t> ParseArch(const std::string& name, const std::string& field) {
  constexpr std::string_view kPrefix = "SCMP_ARCH_";
  if (name.size() > kPrefix.size() && name.compare(0, kPrefix.size(), kPrefix) == 0) {
    std::string lower = name.substr(kPrefix.size());
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    uint32_t token = seccomp_arch_resolve_name(lower.c_str());
    if (token != 0) return token;
  }
  return FieldError(field, "unknown architecture " + name);
}

struct Rule {
  uint32_t action = 0;
  std::vector<scmp_arg_cmp> conds;
  bool split = false;  // some argument index repeats: one rule per condition
};

Result<Rule> ParseRule(const oci::SeccompSyscall& sc, const std::string& field) {
  Rule rule;
  BH_ASSIGN(rule.action, ParseAction(sc.action, sc.errno_ret, field + ".action"));
  bool seen[kMaxArgs] = {};
  for (size_t j = 0; j < sc.args.size(); ++j) {
    const oci::SeccompArg& arg = sc.args[j];
    std::string afield = field + ".args[" + std::to_string(j) + "]";
    if (arg.index >= kMaxArgs) {
      return FieldError(afield + ".index",
                        "argument index " + std::to_string(arg.index) + " out of range (0-5)");
    }
    BH_ASSIGN(scmp_compare op, ParseOp(arg.op, afield + ".op"));
    if (seen[arg.index]) rule.split = true;
    seen[arg.index] = true;
    // For MASKED_EQ, value is the mask and valueTwo the expected result, as in runc.
    rule.conds.push_back(scmp_arg_cmp{arg.index, op, arg.value, arg.value_two});
  }
  return rule;
}

Status AddRule(void* ctx, const Rule& rule, int nr) {
  auto add = [&](const scmp_arg_cmp* conds, size_t n) -> Status {
    int rc = seccomp_rule_add_array(ctx, rule.action, nr, static_cast<unsigned int>(n), conds);
    if (rc < 0) return Error::Errno(-rc, "libseccomp refused the rule");
    return Ok();
  };
  if (!rule.split) return add(rule.conds.data(), rule.conds.size());
  for (const scmp_arg_cmp& c : rule.conds) BH_TRY(add(&c, 1));
  return Ok();
}

// libseccomp writes BPF only to an fd: export into a memfd and read it back.
Result<std::vector<sock_filter>> Export(void* ctx) {
  UniqueFd mem(::memfd_create("bulkhead-seccomp", MFD_CLOEXEC));
  if (!mem) return Error::FromErrno("memfd_create");
  int rc = seccomp_export_bpf(ctx, mem.get());
  if (rc < 0) return Error::Errno(-rc, "exporting the BPF program");
  off_t size = ::lseek(mem.get(), 0, SEEK_END);
  if (size < 0) return Error::FromErrno("measuring the BPF program");
  auto bytes = static_cast<size_t>(size);
  if (bytes == 0 || bytes % sizeof(sock_filter) != 0) {
    return Error("exported BPF program has odd size " + std::to_string(bytes), EINVAL);
  }
  if (bytes / sizeof(sock_filter) > BPF_MAXINSNS) {
    return Error("BPF program has " + std::to_string(bytes / sizeof(sock_filter)) +
                     " instructions, the kernel takes at most " + std::to_string(BPF_MAXINSNS),
                 E2BIG);
  }
  std::vector<sock_filter> filter(bytes / sizeof(sock_filter));
  auto* out = reinterpret_cast<char*>(filter.data());
  size_t done = 0;
  while (done < bytes) {
    ssize_t n = RetryEintr([&] {
      return ::pread(mem.get(), out + done, bytes - done, static_cast<off_t>(done));
    });
    if (n < 0) return Error::FromErrno("reading the BPF program back");
    if (n == 0) return Error("BPF program shrank while reading", EIO);
    done += static_cast<size_t>(n);
  }
  return filter;
}

}  // namespace

Result<Program> Compile(const oci::Seccomp& profile) {
  const std::string base = "linux.seccomp";
  if (profile.default_action.empty()) return FieldError(base + ".defaultAction", "missing");
  BH_ASSIGN(uint32_t def, ParseAction(profile.default_action, profile.default_errno_ret,
                                      base + ".defaultAction"));
  // Every syscall would wait on the supervisor, including the ones that hand it the listener.
  if (def == SCMP_ACT_NOTIFY) {
    return FieldError(base + ".defaultAction", "SCMP_ACT_NOTIFY cannot be the default action");
  }

  Ctx ctx(seccomp_init(def));
  if (!ctx) return Error("libseccomp: seccomp_init failed", ENOMEM);
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, kBadArchAction); rc < 0) {
    return Error::Errno(-rc, "libseccomp: setting the bad-architecture action");
  }
  // Raw kernel-style error codes from libseccomp make better messages; older ones lack it.
  (void)seccomp_attr_set(ctx.get(), SCMP_FLTATR_API_SYSRAWRC, 1);
  (void)seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2);

  Program program;
  // Architectures first: libseccomp adds a rule only to the architectures present at the time.
  for (size_t i = 0; i < profile.architectures.size(); ++i) {
    std::string field = base + ".architectures[" + std::to_string(i) + "]";
    BH_ASSIGN(uint32_t arch, ParseArch(profile.architectures[i], field));
    int rc = seccomp_arch_add(ctx.get(), arch);
    if (rc < 0 && rc != -EEXIST) {  // EEXIST: the native one, always present
      return Error::Errno(-rc, "adding " + profile.architectures[i] + " to the filter")
          .Context(field);
    }
  }
  for (size_t i = 0; i < profile.flags.size(); ++i) {
    BH_ASSIGN(unsigned int flag,
              ParseFlag(profile.flags[i], base + ".flags[" + std::to_string(i) + "]"));
    program.flags |= flag;
  }

  for (size_t i = 0; i < profile.syscalls.size(); ++i) {
    const oci::SeccompSyscall& sc = profile.syscalls[i];
    std::string field = base + ".syscalls[" + std::to_string(i) + "]";
    BH_ASSIGN(Rule rule, ParseRule(sc, field));
    if (rule.action == def) continue;  // libseccomp refuses these; they change nothing
    for (size_t k = 0; k < sc.names.size(); ++k) {
      int nr = seccomp_syscall_resolve_name(sc.names[k].c_str());
      if (nr == __NR_SCMP_ERROR) continue;  // unknown here; runc skips them too
      Status st = AddRule(ctx.get(), rule, nr);
      if (!st.ok()) {
        return std::move(st).error().Context(field + ".names[" + std::to_string(k) + "] (" +
                                             sc.names[k] + ")");
      }
      if (rule.action == SCMP_ACT_NOTIFY) program.has_notify = true;
    }
  }

  // WAIT_KILLABLE_RECV only changes how a listener waits; the kernel refuses it without one.
  if (!program.has_notify) {
    program.flags &= ~static_cast<unsigned int>(SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);
  }

  BH_ASSIGN(program.filter, Export(ctx.get()));
  return program;
}

}  // namespace bulkhead::seccomp
