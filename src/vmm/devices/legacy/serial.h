// 8250/16550A UART, the guest's boot console on COM1 (registers 0..7 from the
// port base). Transmission is instant: a byte written to THR goes straight to
// the output fd, so LSR always reports THRE|TEMT and the THRE interrupt is
// re-raised after every byte, as a real UART does once its shift register
// empties. Input comes from the event loop through Enqueue() into a 64-byte
// receive FIFO; bytes that do not fit are dropped (the UART has no flow control).
//
// Output never blocks the vCPU: when the fd is not a regular file the byte is
// written only if poll() says the fd is writable now, else it is dropped
// (a stalled reader loses console output instead of freezing the guest).
//
// The interrupt line models the UART's INTR pin: Trigger() on every rising
// edge (the in-kernel irqchip sees an edge, as on an ISA bus), plus once per
// Enqueue batch while received-data interrupts are enabled, so a lost edge
// cannot stall the receive path. OUT2 does not gate the pin.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <span>

#include "vmm/devices/bus.h"
#include "vmm/devices/event_fd.h"

namespace bulkhead::vmm {

class Serial : public BusDevice {
 public:
  static constexpr size_t kFifoSize = 64;

  // `out_fd` is borrowed (stdout or a log file; it must outlive the device);
  // -1 discards output.
  Serial(Interrupt irq, int out_fd);

  void Read(uint64_t offset, std::span<uint8_t> data) override;
  void Write(uint64_t offset, std::span<const uint8_t> data) override;

  // Queues host input for the guest; returns how many bytes fit (the rest
  // are dropped). Called by the event loop with bytes read from stdin.
  size_t Enqueue(std::span<const uint8_t> bytes);
  // Free room in the receive FIFO, so the event loop can read only that much.
  size_t input_space() const;

  const Interrupt& interrupt() const { return irq_; }

 private:
  uint8_t ReadRegister(uint64_t offset);
  void WriteRegister(uint64_t offset, uint8_t value);
  uint8_t InterruptId() const;
  bool PushRx(uint8_t byte);
  void Transmit(uint8_t byte);
  // Recomputes the INTR pin and triggers the line on a rising edge.
  void UpdateInterrupt();

  const Interrupt irq_;
  const int out_fd_;
  bool out_is_regular_ = false;

  mutable std::mutex mu_;
  uint8_t ier_ = 0;
  uint8_t lcr_ = 0x03;  // 8 data bits, no parity, 1 stop bit
  uint8_t mcr_ = 0x08;  // OUT2, as firmware leaves it
  uint8_t dll_ = 0x0c;  // divisor 12: 9600 baud from the 1.8432 MHz clock
  uint8_t dlm_ = 0;
  uint8_t scr_ = 0;
  bool fifo_enabled_ = false;
  bool thre_pending_ = false;  // THR-empty interrupt raised and not yet read from IIR
  bool pin_ = false;           // INTR as last computed
  std::array<uint8_t, kFifoSize> rx_{};
  size_t rx_head_ = 0;
  size_t rx_len_ = 0;
};

}  // namespace bulkhead::vmm
