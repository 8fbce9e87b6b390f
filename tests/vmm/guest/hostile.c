// hostile: drives one virtio-mmio device of the test guest the way a hostile
// guest would, case after case, and shows after each case that the machine
// still answers (the device resets, a read of another disk completes).
//
//   hostile rng|blk WINDOW_ADDR:SIZE SCRATCH_ADDR:SIZE OTHER_DISK
//
// WINDOW: the device's virtio-mmio window (from /proc/iomem); its driver must
// be unbound first. SCRATCH: a range of guest RAM the kernel was told to leave
// alone (memmap=SIZE$ADDR), which holds the rings and buffers; since devices
// write there, it is refused when it overlaps anything in /proc/iomem. OTHER_DISK: a
// block device read (O_DIRECT) after every case.
//
// Output, on stdout: "bhtest: DEV/CASE: what the device did" for the log, then
// "BHTEST hostile_DEV_CASE=survived" (or =stuck: the device never finished a
// reset; =other-disk-failed), and at the end "BHTEST hostile_DEV_cases=N".
// Also "BHTEST hostile_DEV_control=ok" when a valid request is served, and for
// block requests "BHTEST hostile_blkstatus_CASE=N" (the status byte).
// Exit status 0 when every case survived. The virtio-mmio transport must be
// version 2 (QEMU: -global virtio-mmio.force-legacy=false).
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hostile.h"

enum { PAGE = 4096 };

static int fail(const char* msg) {
  printf("BHTEST hostile_error=%s\n", msg);
  return 2;
}

static bool parse_range(const char* s, uint64_t* addr, uint64_t* size) {
  char* end;
  *addr = strtoull(s, &end, 16);
  if (*end != ':') return false;
  *size = strtoull(end + 1, &end, 16);
  return *end == '\0' && *size > 0 && *addr + *size > *addr;
}

// Calls fn for every /proc/iomem line: its range, name and nesting depth.
static void each_iomem(void (*fn)(uint64_t lo, uint64_t hi, const char* name, int depth, void* arg), void* arg) {
  FILE* f = fopen("/proc/iomem", "r");
  if (!f) return;
  char line[256];
  while (fgets(line, sizeof line, f)) {
    int depth = 0;
    while (line[depth] == ' ') depth++;
    uint64_t lo, hi;
    int name_at = 0;
    if (sscanf(line + depth, "%" SCNx64 "-%" SCNx64 " : %n", &lo, &hi, &name_at) != 2 || name_at == 0) continue;
    char* name = line + depth + name_at;
    name[strcspn(name, "\n")] = '\0';
    fn(lo, hi, name, depth, arg);
  }
  fclose(f);
}

// The scratch range must overlap nothing the kernel knows: a memmap=SIZE$ADDR
// hole is missing from /proc/iomem altogether (without PCI the kernel never
// lists reserved ranges above 1 MiB), while RAM it uses is "System RAM".
struct scratch_check {
  uint64_t lo, hi;
  bool used;
};
static void check_scratch_line(uint64_t lo, uint64_t hi, const char* name, int depth, void* arg) {
  (void)name;
  (void)depth;
  struct scratch_check* s = arg;
  if (lo <= s->hi && s->lo <= hi) s->used = true;
}

struct unclaimed_search {
  uint64_t top;  // end (exclusive) of the highest virtio-mmio window
  uint64_t page;
  bool taken;
};
static void find_windows(uint64_t lo, uint64_t hi, const char* name, int depth, void* arg) {
  (void)lo;
  (void)depth;
  struct unclaimed_search* u = arg;
  if (strncmp(name, "virtio-mmio", 11) == 0 && hi + 1 > u->top) u->top = hi + 1;
}
static void check_page_free(uint64_t lo, uint64_t hi, const char* name, int depth, void* arg) {
  (void)name;
  (void)depth;
  struct unclaimed_search* u = arg;
  if (lo < u->page + PAGE && u->page <= hi) u->taken = true;
}

static volatile uint8_t* map_phys(int fd, uint64_t addr, uint64_t size) {
  const uint64_t base = addr & ~(uint64_t)(PAGE - 1);
  const uint64_t len = ((addr + size + PAGE - 1) & ~(uint64_t)(PAGE - 1)) - base;
  void* p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)base);
  if (p == MAP_FAILED) return NULL;
  return (volatile uint8_t*)p + (addr - base);
}

static bool other_disk_answers(struct ctx* c) {
  if (pread(c->other_fd, c->other_block, PAGE, 0) != PAGE) return false;
  return memcmp(c->other_block, c->other_first, PAGE) == 0;
}

static int run_cases(struct ctx* c, const char* dev, const struct hcase* cases) {
  int failed = 0;
  for (const struct hcase* k = cases; k->name; k++) {
    const char* what = k->run(c);
    printf("bhtest: %s/%s: %s\n", dev, k->name, what);
    const bool reset = dev_reset(&c->dev);
    const bool alive = other_disk_answers(c);
    printf("BHTEST hostile_%s_%s=%s\n", dev, k->name,
           !reset ? "stuck" : !alive ? "other-disk-failed" : "survived");
    if (!reset || !alive) failed++;
  }
  return failed;
}

static int count(const struct hcase* cases) {
  int n = 0;
  while (cases[n].name) n++;
  return n;
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc != 5) {
    fprintf(stderr, "usage: hostile rng|blk WINDOW_ADDR:SIZE SCRATCH_ADDR:SIZE OTHER_DISK\n");
    return 2;
  }
  const char* dev = argv[1];
  uint32_t want_id;
  if (strcmp(dev, "rng") == 0) {
    want_id = VIRTIO_ID_RNG;
  } else if (strcmp(dev, "blk") == 0) {
    want_id = VIRTIO_ID_BLOCK;
  } else {
    return fail("unknown device type");
  }
  struct ctx c;
  memset(&c, 0, sizeof c);
  if (!parse_range(argv[2], &c.dev.phys, &c.dev.size) || c.dev.size < 0x200 || c.dev.size > 0x10000) {
    return fail("bad window");
  }
  if (!parse_range(argv[3], &c.scr.phys, &c.scr.size) || c.scr.size < SCR_MIN_SIZE) return fail("bad scratch range");
  struct scratch_check sc = {c.scr.phys, c.scr.phys + c.scr.size - 1, false};
  each_iomem(check_scratch_line, &sc);
  if (sc.used) return fail("scratch range is in use by the kernel (reserve it with memmap=SIZE$ADDR)");

  const int mem = open("/dev/mem", O_RDWR | O_SYNC | O_CLOEXEC);
  if (mem < 0) return fail("cannot open /dev/mem (CONFIG_DEVMEM)");
  // The window and the page after it, for accesses that straddle its end.
  c.dev.regs = map_phys(mem, c.dev.phys, c.dev.size + PAGE);
  c.scr.virt = map_phys(mem, c.scr.phys, SCR_MIN_SIZE);
  if (!c.dev.regs || !c.scr.virt) return fail("cannot map the window or the scratch range");
  if (rd32(&c.dev, R_MAGIC) != 0x74726976 || rd32(&c.dev, R_VERSION) != 2) {
    return fail("not a virtio-mmio version 2 window");
  }
  c.dev.device_id = rd32(&c.dev, R_DEVICE_ID);
  if (c.dev.device_id != want_id) return fail("the window holds another device type");
  wr32(&c.dev, R_DEVICE_FEATURES_SEL, 1);
  c.dev.features = (uint64_t)rd32(&c.dev, R_DEVICE_FEATURES) << 32;
  wr32(&c.dev, R_DEVICE_FEATURES_SEL, 0);
  c.dev.features |= rd32(&c.dev, R_DEVICE_FEATURES);

  struct unclaimed_search u = {0, 0, false};
  each_iomem(find_windows, &u);
  u.page = (u.top + PAGE - 1) & ~(uint64_t)(PAGE - 1);
  each_iomem(check_page_free, &u);
  if (u.top && !u.taken) c.unclaimed_map = map_phys(mem, u.page, PAGE);

  c.other_fd = open(argv[4], O_RDONLY | O_DIRECT | O_CLOEXEC);
  if (c.other_fd < 0) return fail("cannot open the other disk");
  void *block, *first;
  if (posix_memalign(&block, PAGE, PAGE) || posix_memalign(&first, PAGE, PAGE)) return fail("out of memory");
  c.other_block = block;
  c.other_first = first;
  if (pread(c.other_fd, c.other_first, PAGE, 0) != PAGE) return fail("cannot read the other disk");

  printf("bhtest: hostile %s: window 0x%" PRIx64 "+0x%" PRIx64 ", features 0x%" PRIx64 ", unclaimed page 0x%" PRIx64
         "\n",
         dev, c.dev.phys, c.dev.size, c.dev.features, c.unclaimed_map ? u.page : 0);
  int failed = run_cases(&c, dev, k_register_cases);
  failed += run_cases(&c, dev, k_queue_cases);
  int total = count(k_register_cases) + count(k_queue_cases);
  if (want_id == VIRTIO_ID_BLOCK) {
    failed += run_cases(&c, dev, k_block_cases);
    total += count(k_block_cases);
  }
  // Hand the device back as the kernel left it when its driver was unbound
  // (virtio_dev_remove: reset, then ACKNOWLEDGE); a rebound driver goes on
  // from there with DRIVER.
  dev_reset(&c.dev);
  wr32(&c.dev, R_STATUS, S_ACKNOWLEDGE);
  printf("BHTEST hostile_%s_cases=%d\n", dev, total - failed);
  return failed ? 1 : 0;
}
