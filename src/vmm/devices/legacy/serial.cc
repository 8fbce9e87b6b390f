#include "vmm/devices/legacy/serial.h"

#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "base/syscall.h"

namespace bulkhead::vmm {
namespace {

// Register offsets from the port base (DLAB selects the divisor latch at 0 and 1).
constexpr uint64_t kData = 0;  // RBR (read), THR (write), DLL (DLAB)
constexpr uint64_t kIer = 1;   // DLM (DLAB)
constexpr uint64_t kIir = 2;   // FCR (write)
constexpr uint64_t kLcr = 3;
constexpr uint64_t kMcr = 4;
constexpr uint64_t kLsr = 5;
constexpr uint64_t kMsr = 6;
constexpr uint64_t kScr = 7;

constexpr uint8_t kIerRdi = 0x01;   // received data available
constexpr uint8_t kIerThri = 0x02;  // THR empty
constexpr uint8_t kIerMask = 0x0f;

constexpr uint8_t kIirNone = 0x01;
constexpr uint8_t kIirThre = 0x02;
constexpr uint8_t kIirRda = 0x04;
constexpr uint8_t kIirFifoBits = 0xc0;  // "FIFOs enabled", read as a 16550A

constexpr uint8_t kFcrEnable = 0x01;
constexpr uint8_t kFcrClearRx = 0x02;

constexpr uint8_t kLcrDlab = 0x80;

constexpr uint8_t kMcrDtr = 0x01, kMcrRts = 0x02, kMcrOut1 = 0x04, kMcrOut2 = 0x08;
constexpr uint8_t kMcrLoop = 0x10;
constexpr uint8_t kMcrMask = 0x1f;

constexpr uint8_t kLsrDr = 0x01;
constexpr uint8_t kLsrThre = 0x20;
constexpr uint8_t kLsrTemt = 0x40;

constexpr uint8_t kMsrCts = 0x10, kMsrDsr = 0x20, kMsrRi = 0x40, kMsrDcd = 0x80;

}  // namespace

Serial::Serial(Interrupt irq, int out_fd) : irq_(std::move(irq)), out_fd_(out_fd) {
  struct stat st;
  out_is_regular_ = out_fd_ >= 0 && fstat(out_fd_, &st) == 0 && S_ISREG(st.st_mode);
}

void Serial::Read(uint64_t offset, std::span<uint8_t> data) {
  if (data.empty()) return;
  std::fill(data.begin(), data.end(), 0);
  // The UART has byte registers only; a wider access reads as zeros.
  if (data.size() != 1 || offset > kScr) return;
  std::lock_guard lock(mu_);
  data[0] = ReadRegister(offset);
  UpdateInterrupt();
}

void Serial::Write(uint64_t offset, std::span<const uint8_t> data) {
  if (data.size() != 1 || offset > kScr) return;
  std::lock_guard lock(mu_);
  WriteRegister(offset, data[0]);
  UpdateInterrupt();
}

size_t Serial::Enqueue(std::span<const uint8_t> bytes) {
  std::lock_guard lock(mu_);
  if ((mcr_ & kMcrLoop) != 0) return 0;  // loopback disconnects the serial input
  size_t taken = 0;
  for (uint8_t b : bytes) {
    if (!PushRx(b)) break;
    ++taken;
  }
  UpdateInterrupt();
  if (taken > 0 && (ier_ & kIerRdi) != 0) irq_.Trigger();
  return taken;
}

size_t Serial::input_space() const {
  std::lock_guard lock(mu_);
  return kFifoSize - rx_len_;
}

uint8_t Serial::ReadRegister(uint64_t offset) {
  const bool dlab = (lcr_ & kLcrDlab) != 0;
  switch (offset) {
    case kData: {
      if (dlab) return dll_;
      if (rx_len_ == 0) return 0;
      uint8_t b = rx_[rx_head_];
      rx_head_ = (rx_head_ + 1) % kFifoSize;
      --rx_len_;
      return b;
    }
    case kIer:
      return dlab ? dlm_ : ier_;
    case kIir: {
      uint8_t id = InterruptId();
      // Reading IIR acknowledges a THR-empty interrupt it reports.
      if (id == kIirThre) thre_pending_ = false;
      return static_cast<uint8_t>(id | (fifo_enabled_ ? kIirFifoBits : 0));
    }
    case kLcr:
      return lcr_;
    case kMcr:
      return mcr_;
    case kLsr:
      return static_cast<uint8_t>(kLsrThre | kLsrTemt | (rx_len_ > 0 ? kLsrDr : 0));
    case kMsr:
      if ((mcr_ & kMcrLoop) != 0) {
        // Loopback wires the modem outputs back to the inputs.
        uint8_t msr = 0;
        if (mcr_ & kMcrDtr) msr |= kMsrDsr;
        if (mcr_ & kMcrRts) msr |= kMsrCts;
        if (mcr_ & kMcrOut1) msr |= kMsrRi;
        if (mcr_ & kMcrOut2) msr |= kMsrDcd;
        return msr;
      }
      // A peer that is always there: carrier, data set ready, clear to send.
      return kMsrDcd | kMsrDsr | kMsrCts;
    case kScr:
      return scr_;
  }
  return 0;
}

void Serial::WriteRegister(uint64_t offset, uint8_t value) {
  const bool dlab = (lcr_ & kLcrDlab) != 0;
  switch (offset) {
    case kData:
      if (dlab) {
        dll_ = value;
        return;
      }
      // Writing THR drops the THR-empty interrupt until the byte has gone,
      // which here is at once: the pin falls and rises again.
      thre_pending_ = false;
      UpdateInterrupt();
      if ((mcr_ & kMcrLoop) != 0) {
        PushRx(value);
      } else {
        Transmit(value);
      }
      thre_pending_ = true;
      return;
    case kIer: {
      if (dlab) {
        dlm_ = value;
        return;
      }
      const uint8_t old = ier_;
      ier_ = value & kIerMask;
      // Enabling THRI while THR is empty raises the interrupt (and Linux's
      // probe checks that it is raised again after IIR acknowledged it).
      if ((ier_ & kIerThri) != 0 && (old & kIerThri) == 0) thre_pending_ = true;
      if ((ier_ & kIerThri) == 0) thre_pending_ = false;
      return;
    }
    case kIir:  // FCR
    {
      // Switching the FIFOs on or off empties them, as does the clear bit.
      const bool enable = (value & kFcrEnable) != 0;
      if ((value & kFcrClearRx) != 0 || enable != fifo_enabled_) rx_head_ = rx_len_ = 0;
      fifo_enabled_ = enable;
      return;
    }
    case kLcr:
      lcr_ = value;
      return;
    case kMcr:
      mcr_ = value & kMcrMask;
      return;
    case kScr:
      scr_ = value;
      return;
    default:  // LSR and MSR are read-only
      return;
  }
}

uint8_t Serial::InterruptId() const {
  if ((ier_ & kIerRdi) != 0 && rx_len_ > 0) return kIirRda;
  if ((ier_ & kIerThri) != 0 && thre_pending_) return kIirThre;
  return kIirNone;
}

bool Serial::PushRx(uint8_t byte) {
  if (rx_len_ == kFifoSize) return false;
  rx_[(rx_head_ + rx_len_) % kFifoSize] = byte;
  ++rx_len_;
  return true;
}

void Serial::Transmit(uint8_t byte) {
  if (out_fd_ < 0) return;
  if (!out_is_regular_) {
    pollfd p{out_fd_, POLLOUT, 0};
    if (RetryEintr([&] { return poll(&p, 1, 0); }) != 1 || (p.revents & POLLOUT) == 0) return;
  }
  // One byte: either written or dropped, never a partial state to keep.
  (void)RetryEintr([&] { return write(out_fd_, &byte, 1); });
}

void Serial::UpdateInterrupt() {
  const bool pin = InterruptId() != kIirNone;
  if (pin && !pin_) irq_.Trigger();
  pin_ = pin;
}

}  // namespace bulkhead::vmm
