// The emulator against hand-written programs: each opcode's meaning and each validity rule.
#include <gtest/gtest.h>

#include <cstddef>

#include "seccomp/bpf_emulator.h"

namespace bulkhead::seccomp {
namespace {

constexpr uint32_t kNrOffset = offsetof(seccomp_data, nr);
constexpr uint32_t kArchOffset = offsetof(seccomp_data, arch);
constexpr uint32_t kArg0Offset = offsetof(seccomp_data, args);

sock_filter Stmt(uint16_t code, uint32_t k) { return sock_filter{code, 0, 0, k}; }
sock_filter Jump(uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) {
  return sock_filter{code, jt, jf, k};
}

seccomp_data Data(int nr, uint32_t arch = 0, uint64_t arg0 = 0) {
  seccomp_data d{};
  d.nr = nr;
  d.arch = arch;
  d.args[0] = arg0;
  return d;
}

TEST(BpfEmulator, ReturnsConstant) {
  std::vector<sock_filter> p = {Stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
  EXPECT_TRUE(ValidateProgram(p).ok());
  EXPECT_EQ(Emulate(p, Data(0)), SECCOMP_RET_ALLOW);
}

TEST(BpfEmulator, LoadsFieldsAndBranches) {
  // if (arch == 7 && nr == 3) errno 9 else kill
  std::vector<sock_filter> p = {
      Stmt(BPF_LD | BPF_W | BPF_ABS, kArchOffset),
      Jump(BPF_JMP | BPF_JEQ | BPF_K, 7, 0, 3),
      Stmt(BPF_LD | BPF_W | BPF_ABS, kNrOffset),
      Jump(BPF_JMP | BPF_JEQ | BPF_K, 3, 0, 1),
      Stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 9),
      Stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
  };
  ASSERT_TRUE(ValidateProgram(p).ok());
  EXPECT_EQ(Emulate(p, Data(3, 7)), SECCOMP_RET_ERRNO | 9);
  EXPECT_EQ(Emulate(p, Data(4, 7)), SECCOMP_RET_KILL_PROCESS);
  EXPECT_EQ(Emulate(p, Data(3, 8)), SECCOMP_RET_KILL_PROCESS);
}

TEST(BpfEmulator, JumpKinds) {
  auto run = [](uint16_t op, uint32_t k, uint64_t arg0) {
    std::vector<sock_filter> p = {
        Stmt(BPF_LD | BPF_W | BPF_ABS, kArg0Offset),
        Jump(BPF_JMP | op | BPF_K, k, 0, 1),
        Stmt(BPF_RET | BPF_K, 1),
        Stmt(BPF_RET | BPF_K, 2),
    };
    return Emulate(p, Data(0, 0, arg0));
  };
  EXPECT_EQ(run(BPF_JGT, 5, 6), 1u);
  EXPECT_EQ(run(BPF_JGT, 5, 5), 2u);
  EXPECT_EQ(run(BPF_JGE, 5, 5), 1u);
  EXPECT_EQ(run(BPF_JGE, 5, 4), 2u);
  EXPECT_EQ(run(BPF_JSET, 0x10, 0x30), 1u);
  EXPECT_EQ(run(BPF_JSET, 0x10, 0x20), 2u);
  // Only the low word of args[0] is loaded at its offset (little-endian host).
  EXPECT_EQ(run(BPF_JEQ, 5, 5 | (1ULL << 32)), 1u);

  // JA skips, and X operands compare against the X register.
  std::vector<sock_filter> p = {
      Stmt(BPF_LDX | BPF_IMM, 9),
      Stmt(BPF_JMP | BPF_JA, 1),
      Stmt(BPF_RET | BPF_K, 100),
      Stmt(BPF_LD | BPF_IMM, 9),
      Jump(BPF_JMP | BPF_JEQ | BPF_X, 0, 0, 1),
      Stmt(BPF_RET | BPF_K, 200),
      Stmt(BPF_RET | BPF_K, 300),
  };
  EXPECT_EQ(Emulate(p, Data(0)), 200u);
}

TEST(BpfEmulator, AluScratchAndRegisters) {
  std::vector<sock_filter> p = {
      Stmt(BPF_LD | BPF_IMM, 6),
      Stmt(BPF_ALU | BPF_MUL | BPF_K, 7),   // 42
      Stmt(BPF_ST, 3),
      Stmt(BPF_LDX | BPF_IMM, 2),
      Stmt(BPF_ALU | BPF_DIV | BPF_X, 0),   // 21
      Stmt(BPF_ALU | BPF_LSH | BPF_K, 4),   // 336
      Stmt(BPF_ALU | BPF_XOR | BPF_K, 1),   // 337
      Stmt(BPF_ALU | BPF_MOD | BPF_K, 100), // 37
      Stmt(BPF_MISC | BPF_TAX, 0),
      Stmt(BPF_LD | BPF_MEM, 3),            // 42
      Stmt(BPF_ALU | BPF_SUB | BPF_X, 0),   // 5
      Stmt(BPF_ALU | BPF_NEG, 0),           // -5
      Stmt(BPF_ALU | BPF_NEG, 0),           // 5
      Stmt(BPF_ALU | BPF_OR | BPF_K, 0x10000), Stmt(BPF_ALU | BPF_AND | BPF_K, 0xffff00ff),
      Stmt(BPF_ALU | BPF_RSH | BPF_K, 0), Stmt(BPF_ALU | BPF_ADD | BPF_K, 1),
      Stmt(BPF_RET | BPF_A, 0),
  };
  ASSERT_TRUE(ValidateProgram(p).ok());
  EXPECT_EQ(Emulate(p, Data(0)), 0x10006u);
  EXPECT_EQ(Emulate({Stmt(BPF_LD | BPF_W | BPF_LEN, 0), Stmt(BPF_RET | BPF_A, 0)}, Data(0)),
            sizeof(seccomp_data));
}

TEST(BpfEmulator, DivisionByZeroRegisterKills) {
  std::vector<sock_filter> p = {
      Stmt(BPF_LD | BPF_IMM, 6),
      Stmt(BPF_ALU | BPF_DIV | BPF_X, 0),  // X is 0
      Stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  ASSERT_TRUE(ValidateProgram(p).ok());
  EXPECT_EQ(Emulate(p, Data(0)), SECCOMP_RET_KILL_THREAD);
}

TEST(BpfEmulator, RejectsInvalidPrograms) {
  const sock_filter ret = Stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  const std::vector<std::vector<sock_filter>> bad = {
      {},                                                          // empty
      {Stmt(BPF_LD | BPF_IMM, 1)},                                 // no final RET
      {Stmt(BPF_JMP | BPF_JA, 1), ret},                            // jump past the end
      {Jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1), ret},             // conditional past the end
      {Stmt(BPF_LD | BPF_W | BPF_ABS, 2), ret},                    // misaligned load
      {Stmt(BPF_LD | BPF_W | BPF_ABS, sizeof(seccomp_data)), ret}, // load past seccomp_data
      {Stmt(BPF_LD | BPF_H | BPF_ABS, 0), ret},                    // half-word loads not allowed
      {Stmt(BPF_LD | BPF_W | BPF_IND, 0), ret},                    // indirect loads not allowed
      {Stmt(BPF_ALU | BPF_DIV | BPF_K, 0), ret},                   // division by constant zero
      {Stmt(BPF_ALU | BPF_LSH | BPF_K, 32), ret},                  // oversized shift
      {Stmt(BPF_LD | BPF_MEM, 0), ret},                            // scratch read before write
      {Stmt(BPF_ST, 16), ret},                                     // scratch index out of range
      {Stmt(BPF_RET | BPF_X, 0)},                                  // RET X not allowed
      // Scratch written on one path only, read after the paths join.
      {Stmt(BPF_LD | BPF_W | BPF_ABS, 0), Jump(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1),
       Stmt(BPF_ST, 0), Stmt(BPF_LD | BPF_MEM, 0), ret},
  };
  for (size_t i = 0; i < bad.size(); ++i) {
    EXPECT_FALSE(ValidateProgram(bad[i]).ok()) << "case " << i;
    EXPECT_EQ(Emulate(bad[i], Data(0)), SECCOMP_RET_KILL_PROCESS) << "case " << i;
  }
  std::vector<sock_filter> too_long(BPF_MAXINSNS + 1, ret);
  EXPECT_FALSE(ValidateProgram(too_long).ok());
  too_long.pop_back();
  EXPECT_TRUE(ValidateProgram(too_long).ok());
}

TEST(BpfEmulator, ScratchWrittenOnEveryPathIsFine) {
  std::vector<sock_filter> p = {
      Stmt(BPF_LD | BPF_IMM, 5), Stmt(BPF_ST, 0),
      Stmt(BPF_LD | BPF_W | BPF_ABS, 0), Jump(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1),
      Stmt(BPF_ST, 1), Stmt(BPF_LD | BPF_MEM, 0), Stmt(BPF_RET | BPF_A, 0),
  };
  ASSERT_TRUE(ValidateProgram(p).ok());
  EXPECT_EQ(Emulate(p, Data(1)), 5u);
  EXPECT_EQ(Emulate(p, Data(2)), 5u);
}

}  // namespace
}  // namespace bulkhead::seccomp
