#include "seccomp/bpf_emulator.h"

#include <cstring>
#include <string>

namespace bulkhead::seccomp {
namespace {

constexpr uint32_t kDataLen = sizeof(struct seccomp_data);

Error Bad(size_t pc, const std::string& what) {
  return Error("BPF instruction " + std::to_string(pc) + ": " + what, EINVAL);
}

bool IsCondJump(uint16_t code) {
  switch (code) {
    case BPF_JMP | BPF_JEQ | BPF_K: case BPF_JMP | BPF_JEQ | BPF_X:
    case BPF_JMP | BPF_JGT | BPF_K: case BPF_JMP | BPF_JGT | BPF_X:
    case BPF_JMP | BPF_JGE | BPF_K: case BPF_JMP | BPF_JGE | BPF_X:
    case BPF_JMP | BPF_JSET | BPF_K: case BPF_JMP | BPF_JSET | BPF_X:
      return true;
    default:
      return false;
  }
}

bool IsAlu(uint16_t code) {
  if (BPF_CLASS(code) != BPF_ALU) return false;
  if (code == (BPF_ALU | BPF_NEG)) return true;
  switch (BPF_OP(code)) {
    case BPF_ADD: case BPF_SUB: case BPF_MUL: case BPF_DIV: case BPF_MOD:
    case BPF_AND: case BPF_OR: case BPF_XOR: case BPF_LSH: case BPF_RSH:
      return BPF_SRC(code) == BPF_K || BPF_SRC(code) == BPF_X;
    default:
      return false;
  }
}

// Per-instruction checks: the opcode set of seccomp_check_filter and bpf_check_classic.
Status CheckInsn(const std::vector<sock_filter>& prog, size_t pc) {
  const sock_filter& in = prog[pc];
  const size_t len = prog.size();
  switch (in.code) {
    case BPF_LD | BPF_W | BPF_ABS:
      if (in.k >= kDataLen || (in.k & 3) != 0) return Bad(pc, "misaligned or out-of-bounds load");
      return Ok();
    case BPF_LD | BPF_W | BPF_LEN: case BPF_LDX | BPF_W | BPF_LEN:
    case BPF_LD | BPF_IMM: case BPF_LDX | BPF_IMM:
    case BPF_MISC | BPF_TAX: case BPF_MISC | BPF_TXA:
    case BPF_RET | BPF_K: case BPF_RET | BPF_A:
      return Ok();
    case BPF_LD | BPF_MEM: case BPF_LDX | BPF_MEM: case BPF_ST: case BPF_STX:
      if (in.k >= BPF_MEMWORDS) return Bad(pc, "scratch memory index out of range");
      return Ok();
    case BPF_JMP | BPF_JA:
      if (in.k >= len - pc - 1) return Bad(pc, "jump out of range");
      return Ok();
    default:
      break;
  }
  if (IsCondJump(in.code)) {
    if (pc + in.jt + 1 >= len || pc + in.jf + 1 >= len) return Bad(pc, "jump out of range");
    return Ok();
  }
  if (IsAlu(in.code)) {
    if (BPF_SRC(in.code) == BPF_K) {
      uint16_t op = BPF_OP(in.code);
      if ((op == BPF_DIV || op == BPF_MOD) && in.k == 0) return Bad(pc, "division by zero");
      if ((op == BPF_LSH || op == BPF_RSH) && in.k >= 32) return Bad(pc, "shift too large");
    }
    return Ok();
  }
  return Bad(pc, "opcode " + std::to_string(in.code) + " not allowed in seccomp");
}

// The kernel's check_load_and_stores: a scratch word must be stored on every path to a load.
Status CheckMemory(const std::vector<sock_filter>& prog) {
  std::vector<uint16_t> masks(prog.size(), 0xffff);
  uint16_t valid = 0;
  for (size_t pc = 0; pc < prog.size(); ++pc) {
    const sock_filter& in = prog[pc];
    valid &= masks[pc];
    if (in.code == BPF_ST || in.code == BPF_STX) {
      valid = static_cast<uint16_t>(valid | (1u << in.k));
    } else if (in.code == (BPF_LD | BPF_MEM) || in.code == (BPF_LDX | BPF_MEM)) {
      if ((valid & (1u << in.k)) == 0) return Bad(pc, "reads scratch memory never written");
    } else if (in.code == (BPF_JMP | BPF_JA)) {
      masks[pc + 1 + in.k] &= valid;
      valid = 0xffff;
    } else if (IsCondJump(in.code)) {
      masks[pc + 1 + in.jt] &= valid;
      masks[pc + 1 + in.jf] &= valid;
      valid = 0xffff;
    }
  }
  return Ok();
}

uint32_t Alu(uint16_t op, uint32_t a, uint32_t operand) {
  switch (op) {
    case BPF_ADD: return a + operand;
    case BPF_SUB: return a - operand;
    case BPF_MUL: return a * operand;
    case BPF_DIV: return a / operand;  // callers rule out zero
    case BPF_MOD: return a % operand;
    case BPF_AND: return a & operand;
    case BPF_OR: return a | operand;
    case BPF_XOR: return a ^ operand;
    case BPF_LSH: return a << (operand & 31);  // as the x86 JIT: shift counts wrap
    case BPF_RSH: return a >> (operand & 31);
    default: return 0;
  }
}

bool Jump(uint16_t op, uint32_t a, uint32_t operand) {
  switch (op) {
    case BPF_JEQ: return a == operand;
    case BPF_JGT: return a > operand;
    case BPF_JGE: return a >= operand;
    case BPF_JSET: return (a & operand) != 0;
    default: return false;
  }
}

}  // namespace

Status ValidateProgram(const std::vector<sock_filter>& prog) {
  if (prog.empty() || prog.size() > BPF_MAXINSNS) {
    return Error("BPF program has " + std::to_string(prog.size()) + " instructions", EINVAL);
  }
  for (size_t pc = 0; pc < prog.size(); ++pc) BH_TRY(CheckInsn(prog, pc));
  uint16_t last = prog.back().code;
  if (last != (BPF_RET | BPF_K) && last != (BPF_RET | BPF_A)) {
    return Bad(prog.size() - 1, "program does not end in RET");
  }
  return CheckMemory(prog);
}

uint32_t Emulate(const std::vector<sock_filter>& prog, const struct seccomp_data& data) {
  if (!ValidateProgram(prog).ok()) return SECCOMP_RET_KILL_PROCESS;
  unsigned char bytes[kDataLen];
  std::memcpy(bytes, &data, kDataLen);
  uint32_t a = 0, x = 0;
  uint32_t mem[BPF_MEMWORDS] = {};
  // Jumps only go forward and were bounds-checked, so this ends within prog.size() steps.
  for (size_t pc = 0; pc < prog.size(); ++pc) {
    const sock_filter& in = prog[pc];
    if (IsAlu(in.code)) {
      if (in.code == (BPF_ALU | BPF_NEG)) {
        a = 0u - a;
        continue;
      }
      uint32_t operand = BPF_SRC(in.code) == BPF_X ? x : in.k;
      uint16_t op = BPF_OP(in.code);
      // The kernel ends the program with 0 (kill) on division by a zero register.
      if ((op == BPF_DIV || op == BPF_MOD) && operand == 0) return SECCOMP_RET_KILL_THREAD;
      a = Alu(op, a, operand);
      continue;
    }
    if (IsCondJump(in.code)) {
      uint32_t operand = BPF_SRC(in.code) == BPF_X ? x : in.k;
      pc += Jump(BPF_OP(in.code), a, operand) ? in.jt : in.jf;
      continue;
    }
    switch (in.code) {
      case BPF_LD | BPF_W | BPF_ABS: std::memcpy(&a, bytes + in.k, sizeof a); break;
      case BPF_LD | BPF_W | BPF_LEN: a = kDataLen; break;
      case BPF_LDX | BPF_W | BPF_LEN: x = kDataLen; break;
      case BPF_LD | BPF_IMM: a = in.k; break;
      case BPF_LDX | BPF_IMM: x = in.k; break;
      case BPF_LD | BPF_MEM: a = mem[in.k]; break;
      case BPF_LDX | BPF_MEM: x = mem[in.k]; break;
      case BPF_ST: mem[in.k] = a; break;
      case BPF_STX: mem[in.k] = x; break;
      case BPF_MISC | BPF_TAX: x = a; break;
      case BPF_MISC | BPF_TXA: a = x; break;
      case BPF_JMP | BPF_JA: pc += in.k; break;
      case BPF_RET | BPF_K: return in.k;
      case BPF_RET | BPF_A: return a;
      default: return SECCOMP_RET_KILL_PROCESS;  // unreachable after validation
    }
  }
  return SECCOMP_RET_KILL_PROCESS;  // unreachable: the last instruction is a RET
}

}  // namespace bulkhead::seccomp
