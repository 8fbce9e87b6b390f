// Register and ring abuse that applies to any virtio-mmio device. Each case
// returns what the device did (for the log); the runner resets the device and
// checks that the machine still answers.
#include <stdio.h>

#include "hostile.h"

// One request the device must serve: 64 random bytes, or a read of sector 0.
static void post_valid(struct ctx* c, struct ring* r) {
  const uint64_t base = c->scr.phys;
  if (c->dev.device_id == VIRTIO_ID_BLOCK) {
    put32(&c->scr, SCR_HEADER, 0);  // VIRTIO_BLK_T_IN
    put32(&c->scr, SCR_HEADER + 4, 0);
    put64(&c->scr, SCR_HEADER + 8, 0);
    put8(&c->scr, SCR_STATUS, 0xff);
    set_desc(r, 0, base + SCR_HEADER, 16, DESC_F_NEXT, 1);
    set_desc(r, 1, base + SCR_BUF, 512, DESC_F_NEXT | DESC_F_WRITE, 2);
    set_desc(r, 2, base + SCR_STATUS, 1, DESC_F_WRITE, 0);
  } else {
    set_desc(r, 0, base + SCR_BUF, 64, DESC_F_WRITE, 0);
  }
  ring_post(r, 0);
}

// True when the answer is what a valid request gets.
static bool served(struct ctx* c, struct outcome o) {
  if (o.kind != OUT_USED) return false;
  if (c->dev.device_id == VIRTIO_ID_BLOCK) return get8(&c->scr, SCR_STATUS) == 0 && o.len == 513;
  return o.len > 0 && o.len <= 64;
}

static const char* dev_name(struct ctx* c) { return c->dev.device_id == VIRTIO_ID_BLOCK ? "blk" : "rng"; }

static const char* status_str(struct vdev* d) {
  static char buf[32];
  snprintf(buf, sizeof buf, "status=0x%x", rd32(d, R_STATUS));
  return buf;
}

// --- registers --------------------------------------------------------------

static const char* odd_width(struct ctx* c) {
  static const int widths[] = {1, 2, 8};
  for (uint64_t off = 0; off < R_CONFIG; off += 4) {
    for (unsigned i = 0; i < 3; i++) {
      io_read(c->dev.regs + off, widths[i]);
      io_write(c->dev.regs + off, widths[i], ~0ull);
    }
  }
  return status_str(&c->dev);
}

static const char* unaligned(struct ctx* c) {
  static const uint64_t offs[] = {0x01, 0x02, 0x03, 0x31, 0x51, 0x52, 0x71, 0x72, 0x81, 0xfd, 0xfe, 0xff};
  for (unsigned i = 0; i < sizeof offs / sizeof offs[0]; i++) {
    io_read(c->dev.regs + offs[i], 4);
    io_write(c->dev.regs + offs[i], 4, 0);
    io_read(c->dev.regs + offs[i], 8);
    io_write(c->dev.regs + offs[i], 8, ~0ull);
  }
  return status_str(&c->dev);
}

static void poke_config(struct ctx* c, uint64_t off) {
  static const int widths[] = {1, 2, 4, 8};
  for (unsigned i = 0; i < 4; i++) {
    if (off + (uint64_t)widths[i] > c->dev.size) continue;
    io_read(c->dev.regs + off, widths[i]);
    io_write(c->dev.regs + off, widths[i], 0xa5a5a5a5a5a5a5a5ull);
  }
}

// Every byte of the first 64 of config space (past any real device's end),
// then a sample of the rest up to the end of the window.
static const char* config_beyond(struct ctx* c) {
  for (uint64_t off = R_CONFIG; off < R_CONFIG + 64 && off < c->dev.size; off++) poke_config(c, off);
  for (uint64_t off = R_CONFIG + 64; off < c->dev.size; off += 0x40) poke_config(c, off);
  for (uint64_t off = c->dev.size - 8; off < c->dev.size; off++) poke_config(c, off);
  return status_str(&c->dev);
}

// Accesses that start inside the window and end past it.
static const char* straddle(struct ctx* c) {
  static const int widths[] = {2, 4, 8};
  for (unsigned i = 0; i < 3; i++) {
    for (uint64_t back = 1; back < (uint64_t)widths[i]; back++) {
      volatile uint8_t* p = c->dev.regs + c->dev.size - back;
      io_read(p, widths[i]);
      io_write(p, widths[i], 0);
    }
  }
  return status_str(&c->dev);
}

static const char* status_order(struct ctx* c) {
  static const uint32_t steps[] = {S_DRIVER_OK, S_FEATURES_OK, S_ACKNOWLEDGE | S_DRIVER_OK,
                                   S_NEEDS_RESET, S_ACKNOWLEDGE | S_FAILED, 0x7f, 0xffffffffu};
  for (unsigned i = 0; i < sizeof steps / sizeof steps[0]; i++) wr32(&c->dev, R_STATUS, steps[i]);
  return status_str(&c->dev);
}

static const char* features_unoffered(struct ctx* c) {
  dev_reset(&c->dev);
  const bool all = dev_negotiate(&c->dev, ~0ull);
  dev_reset(&c->dev);
  const bool legacy = dev_negotiate(&c->dev, 0);
  static char buf[64];
  snprintf(buf, sizeof buf, "all-ones %s, no VERSION_1 %s", all ? "accepted" : "refused",
           legacy ? "accepted" : "refused");
  return buf;
}

static const char* queue_select_oob(struct ctx* c) {
  static const uint32_t sels[] = {1, 2, 0xffff, 0x10000, 0xffffffffu};
  dev_reset(&c->dev);
  dev_negotiate(&c->dev, F_VERSION_1);
  uint32_t max_seen = 0;
  for (unsigned i = 0; i < sizeof sels / sizeof sels[0]; i++) {
    wr32(&c->dev, R_QUEUE_SEL, sels[i]);
    const uint32_t max = rd32(&c->dev, R_QUEUE_NUM_MAX);
    if (max > max_seen) max_seen = max;
    queue_program(&c->dev, sels[i], 0xffffffffu, 1ull << 40, ~0ull, 3);
  }
  wr32(&c->dev, R_STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
  static char buf[64];
  snprintf(buf, sizeof buf, "largest QueueNumMax %u, %s", max_seen, status_str(&c->dev));
  return buf;
}

static const char* notify_oob(struct ctx* c) {
  static const uint32_t values[] = {1, 2, 0xffff, 0x10000, 0x80000000u, 0xffffffffu};
  struct ring r;
  if (!ring_start(c, &r, 8, 0)) return "refused a valid ring";
  for (unsigned i = 0; i < sizeof values / sizeof values[0]; i++) {
    wr32(&c->dev, R_QUEUE_NOTIFY, values[i]);
    io_write(c->dev.regs + R_QUEUE_NOTIFY, 2, 0);
    io_write(c->dev.regs + R_QUEUE_NOTIFY, 1, 0);
  }
  post_valid(c, &r);
  struct outcome o = ring_wait(&r);
  return served(c, o) ? "served after" : outcome_str(o);
}

static const char* notify_storm(struct ctx* c) {
  struct ring r;
  if (!ring_start(c, &r, 8, 0)) return "refused a valid ring";
  for (int i = 0; i < 2000; i++) ring_notify(&r);
  post_valid(c, &r);
  struct outcome o = ring_wait(&r);
  return served(c, o) ? "served after" : outcome_str(o);
}

static const char* notify_before_driver_ok(struct ctx* c) {
  dev_reset(&c->dev);
  dev_negotiate(&c->dev, F_VERSION_1);
  scratch_clear(&c->scr);
  const uint64_t base = c->scr.phys;
  queue_program(&c->dev, 0, 8, base + SCR_DESC, base + SCR_AVAIL, base + SCR_USED);
  struct ring r = {&c->dev, &c->scr, 8, 0, 0};
  post_valid(c, &r);
  sleep_ms(50);
  return get16(&c->scr, SCR_USED + 2) ? "served before DRIVER_OK" : "ignored";
}

static const char* interrupt_ack(struct ctx* c) {
  wr32(&c->dev, R_INTERRUPT_ACK, 0xffffffffu);
  static char buf[48];
  snprintf(buf, sizeof buf, "InterruptStatus 0x%x", rd32(&c->dev, R_INTERRUPT_STATUS));
  return buf;
}

// Moving an active ring: the device must keep the one it validated (or refuse).
static const char* live_reprogram(struct ctx* c) {
  struct ring r;
  if (!ring_start(c, &r, 8, 0)) return "refused a valid ring";
  queue_program(&c->dev, 0, 3, 1ull << 40, 1ull << 40, 1ull << 40);
  wr32(&c->dev, R_QUEUE_READY, 0);
  post_valid(c, &r);
  struct outcome o = ring_wait(&r);
  return served(c, o) ? "served from the first ring" : outcome_str(o);
}

static const char* unclaimed(struct ctx* c) {
  if (!c->unclaimed_map) return "no unclaimed page known";
  static const int widths[] = {1, 2, 4, 8};
  for (unsigned i = 0; i < 4; i++) {
    io_read(c->unclaimed_map, widths[i]);
    io_write(c->unclaimed_map, widths[i], ~0ull);
    io_read(c->unclaimed_map + 0x50, widths[i]);
    io_write(c->unclaimed_map + 0x70, widths[i], 0);
  }
  static char buf[48];
  snprintf(buf, sizeof buf, "reads 0x%llx", (unsigned long long)io_read(c->unclaimed_map, 4));
  return buf;
}

const struct hcase k_register_cases[] = {
    {"odd_width", odd_width},
    {"unaligned", unaligned},
    {"config_beyond", config_beyond},
    {"straddle", straddle},
    {"status_order", status_order},
    {"features_unoffered", features_unoffered},
    {"queue_select_oob", queue_select_oob},
    {"notify_oob", notify_oob},
    {"notify_storm", notify_storm},
    {"notify_before_driver_ok", notify_before_driver_ok},
    {"interrupt_ack", interrupt_ack},
    {"live_reprogram", live_reprogram},
    {"unclaimed", unclaimed},
    {NULL, NULL},
};

// --- rings and descriptors ----------------------------------------------------

// The control: a well-formed request is served. Without it every other case
// could "survive" only because this driver never reached the device.
static const char* valid(struct ctx* c) {
  struct ring r;
  if (!ring_start(c, &r, 16, 0)) {
    printf("BHTEST hostile_%s_control=refused\n", dev_name(c));
    return "refused a valid ring";
  }
  post_valid(c, &r);
  struct outcome o = ring_wait(&r);
  printf("BHTEST hostile_%s_control=%s\n", dev_name(c), served(c, o) ? "ok" : "failed");
  return outcome_str(o);
}

// A ring configuration the device should refuse at DRIVER_OK (or at the first request).
static const char* bad_ring(struct ctx* c, uint32_t num, uint64_t desc, uint64_t avail, uint64_t used) {
  dev_reset(&c->dev);
  scratch_clear(&c->scr);
  dev_negotiate(&c->dev, F_VERSION_1);
  queue_program(&c->dev, 0, num, desc, avail, used);
  wr32(&c->dev, R_STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
  const uint32_t st = rd32(&c->dev, R_STATUS);
  if ((st & S_NEEDS_RESET) || !(st & S_DRIVER_OK)) return "refused at DRIVER_OK";
  // The used ring is watched where a good one would be: for the rings moved
  // elsewhere, only the device's status tells what it made of them.
  struct ring r = {&c->dev, &c->scr, (uint16_t)num, 0, 0};
  post_valid(c, &r);
  return outcome_str(ring_wait(&r));
}

static const char* qsize_npot(struct ctx* c) {
  const uint64_t b = c->scr.phys;
  return bad_ring(c, 3, b + SCR_DESC, b + SCR_AVAIL, b + SCR_USED);
}
static const char* qsize_zero(struct ctx* c) {
  const uint64_t b = c->scr.phys;
  return bad_ring(c, 0, b + SCR_DESC, b + SCR_AVAIL, b + SCR_USED);
}
static const char* qsize_over(struct ctx* c) {
  const uint64_t b = c->scr.phys;
  wr32(&c->dev, R_QUEUE_SEL, 0);
  const uint32_t max = rd32(&c->dev, R_QUEUE_NUM_MAX);
  return bad_ring(c, max ? max * 2 : 0x10000, b + SCR_DESC, b + SCR_AVAIL, b + SCR_USED);
}
static const char* ring_outside_ram(struct ctx* c) {
  const uint64_t b = c->scr.phys;
  return bad_ring(c, 8, 1ull << 40, b + SCR_AVAIL, b + SCR_USED);
}
static const char* ring_wraps(struct ctx* c) {
  const uint64_t b = c->scr.phys;
  return bad_ring(c, 8, b + SCR_DESC, 0xfffffffffffff000ull, b + SCR_USED);
}
static const char* ring_unaligned(struct ctx* c) {
  const uint64_t b = c->scr.phys;
  return bad_ring(c, 8, b + SCR_DESC + 1, b + SCR_AVAIL + 1, b + SCR_USED + 2);
}
// The used ring on the device's own registers: device writes would land in MMIO.
static const char* ring_in_mmio(struct ctx* c) {
  const uint64_t b = c->scr.phys;
  return bad_ring(c, 8, b + SCR_DESC, b + SCR_AVAIL, c->dev.phys);
}
static const char* used_overlaps_desc(struct ctx* c) {
  const uint64_t b = c->scr.phys;
  return bad_ring(c, 8, b + SCR_DESC, b + SCR_AVAIL, b + SCR_DESC);
}

// One descriptor chain posted on a good ring; `setup` writes the descriptors.
static const char* bad_chain(struct ctx* c, uint64_t extra, void (*setup)(struct ctx*, struct ring*)) {
  struct ring r;
  if (!ring_start(c, &r, 16, extra)) return "refused a valid ring";
  setup(c, &r);
  ring_post(&r, 0);
  return outcome_str(ring_wait(&r));
}

static void d_outside_ram(struct ctx* c, struct ring* r) { (void)c; set_desc(r, 0, 1ull << 40, 64, DESC_F_WRITE, 0); }
static void d_wraps(struct ctx* c, struct ring* r) { (void)c; set_desc(r, 0, 0xfffffffffffff000ull, 0x2000, DESC_F_WRITE, 0); }
static void d_huge_len(struct ctx* c, struct ring* r) { set_desc(r, 0, c->scr.phys + SCR_BUF, 0xffffffffu, DESC_F_WRITE, 0); }
static void d_zero_len(struct ctx* c, struct ring* r) { set_desc(r, 0, c->scr.phys + SCR_BUF, 0, DESC_F_WRITE, 0); }
static void d_in_mmio(struct ctx* c, struct ring* r) { set_desc(r, 0, c->dev.phys, 64, DESC_F_WRITE, 0); }
static void d_next_loop(struct ctx* c, struct ring* r) {
  set_desc(r, 0, c->scr.phys + SCR_BUF, 16, DESC_F_WRITE | DESC_F_NEXT, 1);
  set_desc(r, 1, c->scr.phys + SCR_BUF + 16, 16, DESC_F_WRITE | DESC_F_NEXT, 0);
}
static void d_next_self(struct ctx* c, struct ring* r) { set_desc(r, 0, c->scr.phys + SCR_BUF, 16, DESC_F_WRITE | DESC_F_NEXT, 0); }
static void d_next_oob(struct ctx* c, struct ring* r) { set_desc(r, 0, c->scr.phys + SCR_BUF, 16, DESC_F_WRITE | DESC_F_NEXT, 0xffff); }
static void d_readable_after_writable(struct ctx* c, struct ring* r) {
  set_desc(r, 0, c->scr.phys + SCR_BUF, 16, DESC_F_WRITE | DESC_F_NEXT, 1);
  set_desc(r, 1, c->scr.phys + SCR_BUF + 16, 16, 0, 0);
}
// Every descriptor chained into one: legal, the longest chain a ring allows.
static void d_long_chain(struct ctx* c, struct ring* r) {
  for (uint16_t i = 0; i < 16; i++) {
    set_desc(r, i, c->scr.phys + SCR_BUF + 64ull * i, 4, (uint16_t)(DESC_F_WRITE | (i < 15 ? DESC_F_NEXT : 0)),
             (uint16_t)(i + 1));
  }
}
// The descriptor table handed back as its own indirect table: entry 0 is indirect again.
static void d_indirect_self(struct ctx* c, struct ring* r) {
  set_desc(r, 0, c->scr.phys + SCR_DESC, 16 * 16, DESC_F_INDIRECT, 0);
}
static void d_indirect_loop(struct ctx* c, struct ring* r) {
  set_indirect(r, 0, c->scr.phys + SCR_BUF, 16, DESC_F_WRITE | DESC_F_NEXT, 1);
  set_indirect(r, 1, c->scr.phys + SCR_BUF + 16, 16, DESC_F_WRITE | DESC_F_NEXT, 0);
  set_desc(r, 0, c->scr.phys + SCR_INDIRECT, 32, DESC_F_INDIRECT, 0);
}
static void d_indirect_odd_len(struct ctx* c, struct ring* r) {
  set_indirect(r, 0, c->scr.phys + SCR_BUF, 64, DESC_F_WRITE, 0);
  set_desc(r, 0, c->scr.phys + SCR_INDIRECT, 17, DESC_F_INDIRECT, 0);
}
static void d_indirect_huge(struct ctx* c, struct ring* r) {
  set_indirect(r, 0, c->scr.phys + SCR_BUF, 64, DESC_F_WRITE, 0);
  set_desc(r, 0, c->scr.phys + SCR_INDIRECT, 0xfffffff0u, DESC_F_INDIRECT, 0);
}
static void d_indirect_zero(struct ctx* c, struct ring* r) { set_desc(r, 0, c->scr.phys + SCR_INDIRECT, 0, DESC_F_INDIRECT, 0); }
static void d_indirect_outside_ram(struct ctx* c, struct ring* r) { (void)c; set_desc(r, 0, 1ull << 40, 64, DESC_F_INDIRECT, 0); }
static void d_indirect_with_next(struct ctx* c, struct ring* r) {
  set_indirect(r, 0, c->scr.phys + SCR_BUF, 64, DESC_F_WRITE, 0);
  set_desc(r, 0, c->scr.phys + SCR_INDIRECT, 16, DESC_F_INDIRECT | DESC_F_NEXT, 1);
  set_desc(r, 1, c->scr.phys + SCR_BUF + 64, 64, DESC_F_WRITE, 0);
}
static void d_indirect_valid(struct ctx* c, struct ring* r) {
  set_indirect(r, 0, c->scr.phys + SCR_BUF, 64, DESC_F_WRITE, 0);
  set_desc(r, 0, c->scr.phys + SCR_INDIRECT, 16, DESC_F_INDIRECT, 0);
}

#define CHAIN(name, extra) \
  static const char* name(struct ctx* c) { return bad_chain(c, extra, d_##name); }
CHAIN(outside_ram, 0)
CHAIN(wraps, 0)
CHAIN(huge_len, 0)
CHAIN(zero_len, 0)
CHAIN(in_mmio, 0)
CHAIN(next_loop, 0)
CHAIN(next_self, 0)
CHAIN(next_oob, 0)
CHAIN(readable_after_writable, 0)
CHAIN(long_chain, 0)
CHAIN(indirect_self, F_INDIRECT_DESC)
CHAIN(indirect_loop, F_INDIRECT_DESC)
CHAIN(indirect_odd_len, F_INDIRECT_DESC)
CHAIN(indirect_huge, F_INDIRECT_DESC)
CHAIN(indirect_zero, F_INDIRECT_DESC)
CHAIN(indirect_outside_ram, F_INDIRECT_DESC)
CHAIN(indirect_with_next, F_INDIRECT_DESC)
// An indirect descriptor although the driver did not accept VIRTIO_F_INDIRECT_DESC.
static const char* indirect_unnegotiated(struct ctx* c) { return bad_chain(c, 0, d_indirect_valid); }

static const char* head_oob(struct ctx* c) {
  struct ring r;
  if (!ring_start(c, &r, 16, 0)) return "refused a valid ring";
  ring_post(&r, 0xfff0);
  return outcome_str(ring_wait(&r));
}

// The avail index runs far ahead of what the ring can hold.
static const char* avail_jump(struct ctx* c) {
  struct ring r;
  if (!ring_start(c, &r, 16, 0)) return "refused a valid ring";
  put16(&c->scr, SCR_AVAIL + 2, 0x8000);
  ring_notify(&r);
  return outcome_str(ring_wait(&r));
}

// One head posted many times before the device looks.
static const char* head_reused(struct ctx* c) {
  struct ring r;
  if (!ring_start(c, &r, 16, 0)) return "refused a valid ring";
  set_desc(&r, 0, c->scr.phys + SCR_BUF, 512, DESC_F_WRITE, 0);
  for (uint16_t i = 0; i < 16; i++) put16(&c->scr, SCR_AVAIL + 4 + 2ull * i, 0);
  put16(&c->scr, SCR_AVAIL + 2, 16);
  ring_notify(&r);
  return outcome_str(ring_wait(&r));
}

const struct hcase k_queue_cases[] = {
    {"valid", valid},
    {"qsize_npot", qsize_npot},
    {"qsize_zero", qsize_zero},
    {"qsize_over", qsize_over},
    {"ring_outside_ram", ring_outside_ram},
    {"ring_wraps", ring_wraps},
    {"ring_unaligned", ring_unaligned},
    {"ring_in_mmio", ring_in_mmio},
    {"used_overlaps_desc", used_overlaps_desc},
    {"desc_outside_ram", outside_ram},
    {"desc_wraps", wraps},
    {"desc_huge_len", huge_len},
    {"desc_zero_len", zero_len},
    {"desc_in_mmio", in_mmio},
    {"next_loop", next_loop},
    {"next_self", next_self},
    {"next_oob", next_oob},
    {"readable_after_writable", readable_after_writable},
    {"long_chain", long_chain},
    {"indirect_self", indirect_self},
    {"indirect_loop", indirect_loop},
    {"indirect_odd_len", indirect_odd_len},
    {"indirect_huge", indirect_huge},
    {"indirect_zero", indirect_zero},
    {"indirect_outside_ram", indirect_outside_ram},
    {"indirect_with_next", indirect_with_next},
    {"indirect_unnegotiated", indirect_unnegotiated},
    {"head_oob", head_oob},
    {"avail_jump", avail_jump},
    {"head_reused", head_reused},
    {NULL, NULL},
};
