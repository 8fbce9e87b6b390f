// A hostile virtio-mmio driver for the test guest: it takes a device away from
// the kernel and drives it with broken registers, rings and requests, to show
// that the monitor survives a guest that breaks every rule. Shared between the
// driver helpers (hostile_driver.c), the cases (hostile_cases.c) and main
// (hostile.c).
#pragma once

#include <stdbool.h>
#include <stdint.h>

// virtio-mmio registers (virtio 1.x, section 4.2.2).
enum {
  R_MAGIC = 0x000,
  R_VERSION = 0x004,
  R_DEVICE_ID = 0x008,
  R_DEVICE_FEATURES = 0x010,
  R_DEVICE_FEATURES_SEL = 0x014,
  R_DRIVER_FEATURES = 0x020,
  R_DRIVER_FEATURES_SEL = 0x024,
  R_QUEUE_SEL = 0x030,
  R_QUEUE_NUM_MAX = 0x034,
  R_QUEUE_NUM = 0x038,
  R_QUEUE_READY = 0x044,
  R_QUEUE_NOTIFY = 0x050,
  R_INTERRUPT_STATUS = 0x060,
  R_INTERRUPT_ACK = 0x064,
  R_STATUS = 0x070,
  R_QUEUE_DESC_LOW = 0x080,
  R_QUEUE_DESC_HIGH = 0x084,
  R_QUEUE_DRIVER_LOW = 0x090,
  R_QUEUE_DRIVER_HIGH = 0x094,
  R_QUEUE_DEVICE_LOW = 0x0a0,
  R_QUEUE_DEVICE_HIGH = 0x0a4,
  R_CONFIG = 0x100,
};

enum {
  S_ACKNOWLEDGE = 1,
  S_DRIVER = 2,
  S_DRIVER_OK = 4,
  S_FEATURES_OK = 8,
  S_NEEDS_RESET = 64,
  S_FAILED = 128,
};

enum { VIRTIO_ID_BLOCK = 2, VIRTIO_ID_RNG = 4 };
#define F_INDIRECT_DESC (1ull << 28)
#define F_VERSION_1 (1ull << 32)

enum { DESC_F_NEXT = 1, DESC_F_WRITE = 2, DESC_F_INDIRECT = 4 };

// The physical layout of the scratch range the rings and buffers live in. The
// range is reserved from the kernel (memmap=), so whatever the device writes
// there, even for requests that should have been refused, hurts nobody.
enum {
  SCR_DESC = 0x0000,      // descriptor table (up to 256 entries)
  SCR_AVAIL = 0x1000,     // driver (avail) ring
  SCR_USED = 0x2000,      // device (used) ring
  SCR_INDIRECT = 0x3000,  // an indirect descriptor table
  SCR_HEADER = 0x4000,    // virtio-blk request header
  SCR_STATUS = 0x5000,    // virtio-blk status byte
  SCR_BUF = 0x10000,      // data buffers, 64 KiB
  SCR_MIN_SIZE = 0x20000,
};

struct vdev {
  volatile uint8_t* regs;  // the window and the page after it
  uint64_t phys;           // the window's physical address
  uint64_t size;           // the window's size
  uint64_t features;       // what the device offers
  uint32_t device_id;
};

struct scratch {
  volatile uint8_t* virt;
  uint64_t phys;
  uint64_t size;
};

// One queue set up in the scratch range.
struct ring {
  struct vdev* dev;
  struct scratch* scr;
  uint16_t size;
  uint16_t avail_idx;  // ours
  uint16_t used_seen;  // the device's used idx as last seen
};

struct ctx {
  struct vdev dev;
  struct scratch scr;
  volatile uint8_t* unclaimed_map;  // a page no device claims, NULL when unknown
  int other_fd;        // the disk that must keep answering (O_DIRECT)
  uint8_t* other_block;
  uint8_t* other_first;  // its first block as read before any case
};

// What a device did with a request.
enum outcome_kind { OUT_USED, OUT_NEEDS_RESET, OUT_NO_ANSWER, OUT_NOT_STARTED };
struct outcome {
  enum outcome_kind kind;
  uint32_t len;  // OUT_USED: the used length
};

// Exact-width accesses (one instruction each, unaligned ones too).
uint64_t io_read(volatile uint8_t* p, int width);
void io_write(volatile uint8_t* p, int width, uint64_t value);
uint32_t rd32(struct vdev* d, uint64_t off);
void wr32(struct vdev* d, uint64_t off, uint32_t value);
void put16(struct scratch* s, uint64_t off, uint16_t v);
void put32(struct scratch* s, uint64_t off, uint32_t v);
void put64(struct scratch* s, uint64_t off, uint64_t v);
uint16_t get16(struct scratch* s, uint64_t off);
uint32_t get32(struct scratch* s, uint64_t off);
uint8_t get8(struct scratch* s, uint64_t off);
void put8(struct scratch* s, uint64_t off, uint8_t v);
void scratch_clear(struct scratch* s);

// Writes 0 to Status and waits until it reads 0; false when it never does.
bool dev_reset(struct vdev* d);
// ACKNOWLEDGE, DRIVER, the given features, FEATURES_OK; true when FEATURES_OK stuck.
bool dev_negotiate(struct vdev* d, uint64_t features);
// Programs queue `q` with raw values (nothing checked: that is the point).
void queue_program(struct vdev* d, uint32_t q, uint32_t num, uint64_t desc, uint64_t avail, uint64_t used);
// Reset, negotiate VERSION_1 plus `extra` features the device offers, queue 0
// of `size` in the scratch range, DRIVER_OK. False when the device refused.
bool ring_start(struct ctx* c, struct ring* r, uint16_t size, uint64_t extra);
void set_desc(struct ring* r, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next);
void set_indirect(struct ring* r, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next);
// Puts `head` in the avail ring, publishes the index and notifies queue 0.
void ring_post(struct ring* r, uint16_t head);
void ring_notify(struct ring* r);
// Waits for a used entry or DEVICE_NEEDS_RESET.
struct outcome ring_wait(struct ring* r);
const char* outcome_str(struct outcome o);
// Sleeps `ms` milliseconds.
void sleep_ms(long ms);

// The cases: each leaves the device in any state; the runner resets it after.
struct hcase {
  const char* name;
  const char* (*run)(struct ctx* c);
};
extern const struct hcase k_register_cases[];
extern const struct hcase k_queue_cases[];
extern const struct hcase k_block_cases[];
