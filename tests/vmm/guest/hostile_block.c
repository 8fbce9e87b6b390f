// Broken virtio-blk requests: each prints the status byte the device wrote
// ("BHTEST hostile_blkstatus_<case>=N", "none" when it wrote none), so the
// host can hold the device to the spec where the spec says what must happen.
#include <stdio.h>
#include <string.h>

#include "hostile.h"

enum { T_IN = 0, T_OUT = 1, T_FLUSH = 4, T_GET_ID = 8 };
enum { NO_STATUS = -1 };

struct blkreq {
  uint32_t type;
  uint64_t sector;
  uint32_t header_len;  // 16 is right
  uint32_t data_len;    // 0: no data descriptor
  uint16_t data_flags;
  int status_flags;  // NO_STATUS: no status descriptor
};

static uint64_t capacity(struct ctx* c) {
  return (uint64_t)rd32(&c->dev, R_CONFIG) | (uint64_t)rd32(&c->dev, R_CONFIG + 4) << 32;
}

static const char* request(struct ctx* c, const char* name, struct blkreq q) {
  struct ring r;
  if (!ring_start(c, &r, 16, 0)) {
    printf("BHTEST hostile_blkstatus_%s=refused\n", name);
    return "refused a valid ring";
  }
  const uint64_t base = c->scr.phys;
  put32(&c->scr, SCR_HEADER, q.type);
  put32(&c->scr, SCR_HEADER + 4, 0);
  put64(&c->scr, SCR_HEADER + 8, q.sector);
  for (uint64_t i = 0; i < 512; i++) put8(&c->scr, SCR_BUF + i, 'X');
  put8(&c->scr, SCR_STATUS, 0xff);
  uint16_t n = 0;
  const bool more_after_header = q.data_len > 0 || q.status_flags != NO_STATUS;
  set_desc(&r, n, base + SCR_HEADER, q.header_len, more_after_header ? DESC_F_NEXT : 0, (uint16_t)(n + 1));
  n++;
  if (q.data_len > 0) {
    const uint16_t next = q.status_flags != NO_STATUS ? DESC_F_NEXT : 0;
    set_desc(&r, n, base + SCR_BUF, q.data_len, (uint16_t)(q.data_flags | next), (uint16_t)(n + 1));
    n++;
  }
  if (q.status_flags != NO_STATUS) set_desc(&r, n, base + SCR_STATUS, 1, (uint16_t)q.status_flags, 0);
  ring_post(&r, 0);
  struct outcome o = ring_wait(&r);
  const uint8_t st = get8(&c->scr, SCR_STATUS);
  if (st == 0xff) {
    printf("BHTEST hostile_blkstatus_%s=none\n", name);
  } else {
    printf("BHTEST hostile_blkstatus_%s=%u\n", name, st);
  }
  return outcome_str(o);
}

static struct blkreq read_at(uint64_t sector) {
  struct blkreq q = {T_IN, sector, 16, 512, DESC_F_WRITE, DESC_F_WRITE};
  return q;
}

static const char* unknown_type(struct ctx* c) {
  struct blkreq q = read_at(0);
  q.type = 0x7fffffff;
  return request(c, "unknown_type", q);
}
static const char* last_sector(struct ctx* c) { return request(c, "last_sector", read_at(capacity(c) - 1)); }
static const char* beyond_capacity(struct ctx* c) { return request(c, "beyond_capacity", read_at(capacity(c))); }
static const char* sector_overflow(struct ctx* c) { return request(c, "sector_overflow", read_at(~0ull)); }
// A write that bypasses the guest kernel's read-only flag: the device must refuse it.
static const char* write_ro(struct ctx* c) {
  struct blkreq q = {T_OUT, 0, 16, 512, 0, DESC_F_WRITE};
  return request(c, "write_ro", q);
}
static const char* partial_sector(struct ctx* c) {
  struct blkreq q = read_at(0);
  q.data_len = 100;
  return request(c, "partial_sector", q);
}
static const char* short_header(struct ctx* c) {
  struct blkreq q = read_at(0);
  q.header_len = 8;
  return request(c, "short_header", q);
}
static const char* status_readonly(struct ctx* c) {
  struct blkreq q = read_at(0);
  q.status_flags = 0;
  return request(c, "status_readonly", q);
}
static const char* no_status(struct ctx* c) {
  struct blkreq q = read_at(0);
  q.status_flags = NO_STATUS;
  return request(c, "no_status", q);
}
static const char* header_only(struct ctx* c) {
  struct blkreq q = {T_IN, 0, 16, 0, 0, NO_STATUS};
  return request(c, "header_only", q);
}
static const char* get_id_short(struct ctx* c) {
  struct blkreq q = {T_GET_ID, 0, 16, 4, DESC_F_WRITE, DESC_F_WRITE};
  return request(c, "get_id_short", q);
}
static const char* huge_data(struct ctx* c) {
  struct blkreq q = read_at(0);
  q.data_len = 0xffffff00u;
  return request(c, "huge_data", q);
}
static const char* flush_with_data(struct ctx* c) {
  struct blkreq q = {T_FLUSH, 0, 16, 512, 0, DESC_F_WRITE};
  return request(c, "flush_with_data", q);
}

const struct hcase k_block_cases[] = {
    {"unknown_type", unknown_type},
    {"last_sector", last_sector},
    {"beyond_capacity", beyond_capacity},
    {"sector_overflow", sector_overflow},
    {"write_ro", write_ro},
    {"partial_sector", partial_sector},
    {"short_header", short_header},
    {"status_readonly", status_readonly},
    {"no_status", no_status},
    {"header_only", header_only},
    {"get_id_short", get_id_short},
    {"huge_data", huge_data},
    {"flush_with_data", flush_with_data},
    {NULL, NULL},
};
