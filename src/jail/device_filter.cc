#include "jail/device_filter.h"

#include <cstdint>
#include <limits>

namespace bulkhead::jail {

namespace {

oci::DeviceRule Allow(const char* type, std::optional<int64_t> major, std::optional<int64_t> minor,
                      const char* access) {
  oci::DeviceRule r;
  r.allow = true;
  r.type = type;
  r.major = major;
  r.minor = minor;
  r.access = access;
  return r;
}

std::string TypeOf(const oci::DeviceRule& r) { return r.type.empty() ? "a" : r.type; }
std::string AccessOf(const oci::DeviceRule& r) { return r.access.empty() ? "rwm" : r.access; }
// Negative numbers are the spec's way of writing a wildcard too.
std::optional<int64_t> Num(std::optional<int64_t> v) {
  return v && *v >= 0 ? v : std::nullopt;
}

uint32_t AccessBits(const std::string& access) {
  uint32_t bits = 0;
  for (char c : access) {
    if (c == 'm') bits |= BPF_DEVCG_ACC_MKNOD;
    if (c == 'r') bits |= BPF_DEVCG_ACC_READ;
    if (c == 'w') bits |= BPF_DEVCG_ACC_WRITE;
  }
  return bits;
}

constexpr uint32_t kAllAccess = BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE;

// Registers the filter keeps its inputs in (r1 is the context, r0 the verdict).
constexpr uint8_t kType = 2, kAccess = 3, kMajor = 4, kMinor = 5, kScratch = 6;

bpf_insn Insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}
bpf_insn LoadCtxWord(uint8_t dst, int16_t off) { return Insn(BPF_LDX | BPF_MEM | BPF_W, dst, 1, off, 0); }
bpf_insn Mov32Reg(uint8_t dst, uint8_t src) { return Insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0); }
bpf_insn And32Imm(uint8_t dst, int32_t imm) { return Insn(BPF_ALU | BPF_AND | BPF_K, dst, 0, 0, imm); }
bpf_insn Rsh32Imm(uint8_t dst, int32_t imm) { return Insn(BPF_ALU | BPF_RSH | BPF_K, dst, 0, 0, imm); }
bpf_insn MovImm(uint8_t dst, int32_t imm) { return Insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm); }
bpf_insn Exit() { return Insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }
// A jump to the end of the current rule's block; the offset is patched once it is known.
bpf_insn JumpToNext(uint8_t op, uint8_t dst, int32_t imm) { return Insn(BPF_JMP | op | BPF_K, dst, 0, 0, imm); }

}  // namespace

const std::vector<oci::DeviceRule>& DefaultAllowedDevices() {
  static const std::vector<oci::DeviceRule> rules = {
      Allow("c", std::nullopt, std::nullopt, "m"),  // mknod of any char device
      Allow("b", std::nullopt, std::nullopt, "m"),  // mknod of any block device
      Allow("c", 1, 3, "rwm"),                      // /dev/null
      Allow("c", 1, 5, "rwm"),                      // /dev/zero
      Allow("c", 1, 7, "rwm"),                      // /dev/full
      Allow("c", 1, 8, "rwm"),                      // /dev/random
      Allow("c", 1, 9, "rwm"),                      // /dev/urandom
      Allow("c", 5, 0, "rwm"),                      // /dev/tty
      Allow("c", 5, 2, "rwm"),                      // /dev/ptmx
      Allow("c", 136, std::nullopt, "rwm"),         // /dev/pts/*
  };
  return rules;
}

std::vector<oci::DeviceRule> AllowRulesForDevices(const std::vector<oci::Device>& devices) {
  std::vector<oci::DeviceRule> out;
  for (const oci::Device& d : devices) {
    // "u" (unbuffered char) is a char device to the kernel; fifos need no rule.
    if (d.type != "c" && d.type != "u" && d.type != "b") continue;
    out.push_back(Allow(d.type == "b" ? "b" : "c", d.major, d.minor, "rwm"));
  }
  return out;
}

std::vector<oci::DeviceRule> EffectiveDeviceRules(const std::vector<oci::DeviceRule>& config_rules) {
  std::vector<oci::DeviceRule> out = config_rules;
  const auto& defaults = DefaultAllowedDevices();
  out.insert(out.end(), defaults.begin(), defaults.end());
  return out;
}

Status ValidateDeviceRule(const oci::DeviceRule& rule) {
  std::string type = TypeOf(rule);
  if (type != "a" && type != "b" && type != "c") {
    return Error("type \"" + rule.type + "\" is not a, b or c", EINVAL);
  }
  std::string access = AccessOf(rule);
  if (access.find_first_not_of("rwm") != std::string::npos) {
    return Error("access \"" + rule.access + "\" may hold only r, w and m", EINVAL);
  }
  // Kernel device numbers are 12 + 20 bits; anything bigger matches nothing and would not
  // fit the program's signed 32-bit immediates.
  for (auto v : {Num(rule.major), Num(rule.minor)}) {
    if (v && *v > std::numeric_limits<int32_t>::max()) {
      return Error("device number " + std::to_string(*v) + " is out of range", EINVAL);
    }
  }
  return Ok();
}

std::string FormatV1DeviceRule(const oci::DeviceRule& rule) {
  std::string type = TypeOf(rule);
  // The kernel reads "a" alone as every device with every access.
  if (type == "a") return "a";
  auto num = [](std::optional<int64_t> v) { return v ? std::to_string(*v) : std::string("*"); };
  return type + " " + num(Num(rule.major)) + ":" + num(Num(rule.minor)) + " " + AccessOf(rule);
}

Result<std::vector<bpf_insn>> CompileDeviceFilter(const std::vector<oci::DeviceRule>& rules) {
  std::vector<bpf_insn> prog = {
      LoadCtxWord(kType, offsetof(bpf_cgroup_dev_ctx, access_type)),
      Mov32Reg(kAccess, kType),
      Rsh32Imm(kAccess, 16),
      And32Imm(kType, 0xffff),
      LoadCtxWord(kMajor, offsetof(bpf_cgroup_dev_ctx, major)),
      LoadCtxWord(kMinor, offsetof(bpf_cgroup_dev_ctx, minor)),
  };
  for (size_t n = rules.size(); n-- > 0;) {
    const oci::DeviceRule& rule = rules[n];
    BH_TRY(ValidateDeviceRule(rule).Context("linux.resources.devices[" + std::to_string(n) + "]"));
    std::vector<bpf_insn> block;
    std::string type = TypeOf(rule);
    if (type != "a") {
      int32_t t = type == "b" ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;
      block.push_back(JumpToNext(BPF_JNE, kType, t));
    }
    uint32_t access = AccessBits(AccessOf(rule));
    if (access != kAllAccess) {
      block.push_back(Mov32Reg(kScratch, kAccess));
      if (rule.allow) {  // every requested bit must be granted
        block.push_back(And32Imm(kScratch, static_cast<int32_t>(~access & 0xffff)));
        block.push_back(JumpToNext(BPF_JNE, kScratch, 0));
      } else {  // any requested bit that is named denies
        block.push_back(And32Imm(kScratch, static_cast<int32_t>(access)));
        block.push_back(JumpToNext(BPF_JEQ, kScratch, 0));
      }
    }
    if (auto major = Num(rule.major); major && type != "a") {
      block.push_back(JumpToNext(BPF_JNE, kMajor, static_cast<int32_t>(*major)));
    }
    if (auto minor = Num(rule.minor); minor && type != "a") {
      block.push_back(JumpToNext(BPF_JNE, kMinor, static_cast<int32_t>(*minor)));
    }
    bool matches_all = block.empty();
    size_t jumps = block.size();
    block.push_back(MovImm(0, rule.allow ? 1 : 0));
    block.push_back(Exit());
    for (size_t i = 0; i < jumps; ++i) {
      if (BPF_CLASS(block[i].code) == BPF_JMP) {
        block[i].off = static_cast<int16_t>(block.size() - i - 1);
      }
    }
    prog.insert(prog.end(), block.begin(), block.end());
    // Earlier rules can never be reached, and the verifier refuses dead code.
    if (matches_all) return prog;
  }
  prog.push_back(MovImm(0, 0));
  prog.push_back(Exit());
  return prog;
}

}  // namespace bulkhead::jail
