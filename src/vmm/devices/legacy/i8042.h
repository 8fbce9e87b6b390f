// The i8042 keyboard controller, present only so the guest can reset the
// machine: Linux's reboot path waits for the input buffer to drain (status bit
// 1) and writes 0xfe to the command port. There is no keyboard and no mouse.
//
// The controller answers what a probing driver asks (self test 0xaa -> 0x55,
// read/write of the command byte, port tests and enables) so the probe passes
// quickly and finds no devices, instead of timing out; the guest kernel has no
// i8042 driver today, and one booted with `i8042.noaux i8042.nomux
// i8042.dumbkbd` never sends a keyboard command. Bytes written to the data port
// for the keyboard or the mouse are dropped. No interrupt line: nothing ever
// arrives unasked, and command replies are polled through the status register.
//
// Insert it on the PIO bus at port 0x60 with length 5: offset 0 is the data
// port (0x60), offset 4 the status/command port (0x64). Offsets 1..3 read 0.
//
// A reset request (0xfe, any pulse of output line 0, or an output-port write
// with bit 0 clear) signals reset_fd(); the builder stops the VM and exits
// with its reboot status.
#pragma once

#include <cstdint>
#include <mutex>
#include <span>

#include "base/result.h"
#include "vmm/devices/bus.h"
#include "vmm/devices/event_fd.h"

namespace bulkhead::vmm {

class I8042 : public BusDevice {
 public:
  static constexpr uint64_t kDataOffset = 0;
  static constexpr uint64_t kCommandOffset = 4;
  static constexpr uint64_t kPortCount = 5;

  static Result<std::unique_ptr<I8042>> Create();

  void Read(uint64_t offset, std::span<uint8_t> data) override;
  void Write(uint64_t offset, std::span<const uint8_t> data) override;

  // Readable (eventfd counter > 0) once the guest asked for a reset.
  int reset_fd() const { return reset_.fd(); }
  bool reset_requested() const;

 private:
  explicit I8042(EventFd reset) : reset_(std::move(reset)) {}
  void Command(uint8_t cmd);
  void Data(uint8_t value);
  void Reply(uint8_t value);
  void RequestReset();

  const EventFd reset_;
  mutable std::mutex mu_;
  uint8_t ctr_ = 0x45;      // command byte: kbd interrupt, system flag, translation
  uint8_t pending_ = 0;     // command waiting for its data byte, 0 when none
  uint8_t out_ = 0;         // output buffer
  bool out_full_ = false;   // OBF
  bool last_was_command_ = false;
  bool reset_requested_ = false;
};

}  // namespace bulkhead::vmm
