// Arbitrary classic-BPF programs and seccomp_data through the emulator that tests judge
// policies with. The emulator promises to refuse what the kernel refuses: a program
// ValidateProgram rejects must emulate to SECCOMP_RET_KILL_PROCESS, and running any
// program must stay in bounds (no out-of-range jump, load or scratch access).
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "seccomp/bpf_emulator.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Layout: a seccomp_data, then the program's instructions.
  struct seccomp_data sd {};
  if (size < sizeof(sd)) return 0;
  std::memcpy(&sd, data, sizeof(sd));
  data += sizeof(sd);
  size -= sizeof(sd);
  std::vector<sock_filter> prog(size / sizeof(sock_filter));
  if (!prog.empty()) std::memcpy(prog.data(), data, prog.size() * sizeof(sock_filter));

  bool valid = bulkhead::seccomp::ValidateProgram(prog).ok();
  uint32_t ret = bulkhead::seccomp::Emulate(prog, sd);
  if (!valid && ret != SECCOMP_RET_KILL_PROCESS) {
    std::fprintf(stderr, "bpf_emulator: an invalid program returned %#x\n", ret);
    std::abort();
  }
  return 0;
}
