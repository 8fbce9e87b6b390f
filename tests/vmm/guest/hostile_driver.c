// The driver side of virtio-mmio as the hostile program needs it: exact-width
// register accesses, status and feature handshakes, and one split virtqueue
// whose rings live in the scratch range.
#include <stdio.h>
#include <time.h>

#include "hostile.h"

uint64_t io_read(volatile uint8_t* p, int width) {
  switch (width) {
    case 1: {
      uint8_t v;
      __asm__ volatile("movb %1, %0" : "=q"(v) : "m"(*(volatile uint8_t*)p));
      return v;
    }
    case 2: {
      uint16_t v;
      __asm__ volatile("movw %1, %0" : "=r"(v) : "m"(*(volatile uint16_t*)(volatile void*)p));
      return v;
    }
    case 4: {
      uint32_t v;
      __asm__ volatile("movl %1, %0" : "=r"(v) : "m"(*(volatile uint32_t*)(volatile void*)p));
      return v;
    }
    default: {
      uint64_t v;
      __asm__ volatile("movq %1, %0" : "=r"(v) : "m"(*(volatile uint64_t*)(volatile void*)p));
      return v;
    }
  }
}

void io_write(volatile uint8_t* p, int width, uint64_t value) {
  switch (width) {
    case 1:
      __asm__ volatile("movb %1, %0" : "=m"(*(volatile uint8_t*)p) : "q"((uint8_t)value) : "memory");
      break;
    case 2:
      __asm__ volatile("movw %1, %0" : "=m"(*(volatile uint16_t*)(volatile void*)p) : "r"((uint16_t)value) : "memory");
      break;
    case 4:
      __asm__ volatile("movl %1, %0" : "=m"(*(volatile uint32_t*)(volatile void*)p) : "r"((uint32_t)value) : "memory");
      break;
    default:
      __asm__ volatile("movq %1, %0" : "=m"(*(volatile uint64_t*)(volatile void*)p) : "r"(value) : "memory");
      break;
  }
}

uint32_t rd32(struct vdev* d, uint64_t off) { return (uint32_t)io_read(d->regs + off, 4); }
void wr32(struct vdev* d, uint64_t off, uint32_t value) { io_write(d->regs + off, 4, value); }

void put8(struct scratch* s, uint64_t off, uint8_t v) { s->virt[off] = v; }
void put16(struct scratch* s, uint64_t off, uint16_t v) { *(volatile uint16_t*)(volatile void*)(s->virt + off) = v; }
void put32(struct scratch* s, uint64_t off, uint32_t v) { *(volatile uint32_t*)(volatile void*)(s->virt + off) = v; }
void put64(struct scratch* s, uint64_t off, uint64_t v) { *(volatile uint64_t*)(volatile void*)(s->virt + off) = v; }
uint8_t get8(struct scratch* s, uint64_t off) { return s->virt[off]; }
uint16_t get16(struct scratch* s, uint64_t off) { return *(volatile uint16_t*)(volatile void*)(s->virt + off); }
uint32_t get32(struct scratch* s, uint64_t off) { return *(volatile uint32_t*)(volatile void*)(s->virt + off); }

void scratch_clear(struct scratch* s) {
  for (uint64_t off = 0; off < SCR_MIN_SIZE; off += 8) put64(s, off, 0);
}

void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

// Polls count by the clock, not by iterations: a guest without a precise
// clocksource sleeps whole jiffies.
static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

bool dev_reset(struct vdev* d) {
  wr32(d, R_STATUS, 0);
  // The spec lets a device take its time to finish a reset.
  for (const uint64_t end = now_ms() + 2000; now_ms() < end; sleep_ms(1)) {
    if (rd32(d, R_STATUS) == 0) return true;
  }
  return rd32(d, R_STATUS) == 0;
}

bool dev_negotiate(struct vdev* d, uint64_t features) {
  wr32(d, R_STATUS, S_ACKNOWLEDGE);
  wr32(d, R_STATUS, S_ACKNOWLEDGE | S_DRIVER);
  wr32(d, R_DRIVER_FEATURES_SEL, 0);
  wr32(d, R_DRIVER_FEATURES, (uint32_t)features);
  wr32(d, R_DRIVER_FEATURES_SEL, 1);
  wr32(d, R_DRIVER_FEATURES, (uint32_t)(features >> 32));
  wr32(d, R_STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK);
  return (rd32(d, R_STATUS) & S_FEATURES_OK) != 0;
}

void queue_program(struct vdev* d, uint32_t q, uint32_t num, uint64_t desc, uint64_t avail, uint64_t used) {
  wr32(d, R_QUEUE_SEL, q);
  wr32(d, R_QUEUE_NUM, num);
  wr32(d, R_QUEUE_DESC_LOW, (uint32_t)desc);
  wr32(d, R_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
  wr32(d, R_QUEUE_DRIVER_LOW, (uint32_t)avail);
  wr32(d, R_QUEUE_DRIVER_HIGH, (uint32_t)(avail >> 32));
  wr32(d, R_QUEUE_DEVICE_LOW, (uint32_t)used);
  wr32(d, R_QUEUE_DEVICE_HIGH, (uint32_t)(used >> 32));
  wr32(d, R_QUEUE_READY, 1);
}

bool ring_start(struct ctx* c, struct ring* r, uint16_t size, uint64_t extra) {
  r->dev = &c->dev;
  r->scr = &c->scr;
  r->size = size;
  r->avail_idx = 0;
  r->used_seen = 0;
  scratch_clear(&c->scr);
  if (!dev_reset(&c->dev)) return false;
  if (!dev_negotiate(&c->dev, F_VERSION_1 | (extra & c->dev.features))) return false;
  const uint64_t base = c->scr.phys;
  queue_program(&c->dev, 0, size, base + SCR_DESC, base + SCR_AVAIL, base + SCR_USED);
  wr32(&c->dev, R_STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
  const uint32_t st = rd32(&c->dev, R_STATUS);
  return (st & S_DRIVER_OK) != 0 && (st & S_NEEDS_RESET) == 0;
}

static void write_desc(struct scratch* s, uint64_t at, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next) {
  put64(s, at, addr);
  put32(s, at + 8, len);
  put16(s, at + 12, flags);
  put16(s, at + 14, next);
}

void set_desc(struct ring* r, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next) {
  write_desc(r->scr, SCR_DESC + 16ull * i, addr, len, flags, next);
}

void set_indirect(struct ring* r, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next) {
  write_desc(r->scr, SCR_INDIRECT + 16ull * i, addr, len, flags, next);
}

void ring_notify(struct ring* r) {
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  wr32(r->dev, R_QUEUE_NOTIFY, 0);
}

void ring_post(struct ring* r, uint16_t head) {
  // A zero-sized ring has no slots; the index still moves, as a hostile driver's would.
  const uint16_t slot = r->size ? (uint16_t)(r->avail_idx % r->size) : 0;
  put16(r->scr, SCR_AVAIL + 4 + 2ull * slot, head);
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  r->avail_idx++;
  put16(r->scr, SCR_AVAIL + 2, r->avail_idx);
  ring_notify(r);
}

struct outcome ring_wait(struct ring* r) {
  struct outcome o = {OUT_NO_ANSWER, 0};
  // Long enough for an emulated (nested, TCG) machine; a device that refuses
  // says so at once through DEVICE_NEEDS_RESET.
  for (const uint64_t end = now_ms() + 2000; now_ms() < end; sleep_ms(1)) {
    const uint16_t used = get16(r->scr, SCR_USED + 2);
    if (used != r->used_seen) {
      const uint16_t slot = r->size ? (uint16_t)(r->used_seen % r->size) : 0;
      o.kind = OUT_USED;
      o.len = get32(r->scr, SCR_USED + 4 + 8ull * slot + 4);
      r->used_seen++;
      return o;
    }
    if (rd32(r->dev, R_STATUS) & S_NEEDS_RESET) {
      o.kind = OUT_NEEDS_RESET;
      return o;
    }
  }
  return o;
}

const char* outcome_str(struct outcome o) {
  static char buf[64];
  switch (o.kind) {
    case OUT_USED:
      snprintf(buf, sizeof buf, "used len=%u", o.len);
      return buf;
    case OUT_NEEDS_RESET:
      return "needs-reset";
    case OUT_NO_ANSWER:
      return "no answer";
    default:
      return "not started";
  }
}
