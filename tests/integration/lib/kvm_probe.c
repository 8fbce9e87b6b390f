// kvm_probe: proves that /dev/kvm runs guest code, not only that it opens.
// Creates a VM with one page of real-mode code (mov al, 42; out 0x10, al; hlt), runs its
// vCPU, and checks that KVM reports the port write with the value 42 and then the halt.
// Prints one line per step; exit status 0 when all hold, 1 otherwise.
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define CODE_ADDR 0x1000u
#define PROBE_PORT 0x10u
#define PROBE_VALUE 42u

static int fail(const char *what) {
  fprintf(stderr, "kvm_probe: %s: %s\n", what, strerror(errno));
  return 1;
}

int main(void) {
  static const uint8_t code[] = {
      0xb0, PROBE_VALUE,  // mov al, 42
      0xe6, PROBE_PORT,   // out 0x10, al
      0xf4,               // hlt
  };
  int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm < 0) return fail("opening /dev/kvm");
  int api = ioctl(kvm, KVM_GET_API_VERSION, 0);
  printf("api version %d\n", api);
  if (api != KVM_API_VERSION) return fail("KVM_GET_API_VERSION");

  int vm = ioctl(kvm, KVM_CREATE_VM, 0);
  if (vm < 0) return fail("KVM_CREATE_VM");
  uint8_t *mem = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return fail("mmap guest memory");
  memcpy(mem, code, sizeof code);
  struct kvm_userspace_memory_region region = {
      .slot = 0, .guest_phys_addr = CODE_ADDR, .memory_size = 0x1000,
      .userspace_addr = (uint64_t)(uintptr_t)mem,
  };
  if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) return fail("KVM_SET_USER_MEMORY_REGION");

  int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
  if (vcpu < 0) return fail("KVM_CREATE_VCPU");
  int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
  if (run_size < (int)sizeof(struct kvm_run)) return fail("KVM_GET_VCPU_MMAP_SIZE");
  struct kvm_run *run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
  if (run == MAP_FAILED) return fail("mmap kvm_run");

  // Real mode with CS based at 0: the vCPU starts at CODE_ADDR.
  struct kvm_sregs sregs;
  if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0) return fail("KVM_GET_SREGS");
  sregs.cs.base = 0;
  sregs.cs.selector = 0;
  if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0) return fail("KVM_SET_SREGS");
  struct kvm_regs regs = {.rip = CODE_ADDR, .rflags = 0x2};
  if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0) return fail("KVM_SET_REGS");

  if (ioctl(vcpu, KVM_RUN, 0) < 0) return fail("KVM_RUN");
  if (run->exit_reason != KVM_EXIT_IO || run->io.direction != KVM_EXIT_IO_OUT ||
      run->io.port != PROBE_PORT || run->io.size != 1) {
    fprintf(stderr, "kvm_probe: expected a 1-byte write to port 0x%x, got exit reason %u\n",
            PROBE_PORT, run->exit_reason);
    return 1;
  }
  uint8_t value = ((const uint8_t *)run)[run->io.data_offset];
  printf("guest wrote %u to port 0x%x\n", value, PROBE_PORT);
  if (value != PROBE_VALUE) return 1;

  if (ioctl(vcpu, KVM_RUN, 0) < 0) return fail("KVM_RUN");
  if (run->exit_reason != KVM_EXIT_HLT) {
    fprintf(stderr, "kvm_probe: expected the guest to halt, got exit reason %u\n", run->exit_reason);
    return 1;
  }
  printf("guest halted\n");
  return 0;
}
