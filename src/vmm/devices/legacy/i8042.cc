#include "vmm/devices/legacy/i8042.h"

#include <algorithm>
#include <memory>
#include <utility>

namespace bulkhead::vmm {
namespace {

// Status register bits.
constexpr uint8_t kStatusObf = 0x01;      // output buffer full: a byte for the host
constexpr uint8_t kStatusSystem = 0x04;   // self test passed (set by firmware at boot)
constexpr uint8_t kStatusCommand = 0x08;  // the last write went to the command port
constexpr uint8_t kStatusUnlocked = 0x10;  // keylock off

// Controller commands (port 0x64).
constexpr uint8_t kReadCtr = 0x20;
constexpr uint8_t kWriteCtr = 0x60;
constexpr uint8_t kDisableAux = 0xa7;
constexpr uint8_t kEnableAux = 0xa8;
constexpr uint8_t kTestAux = 0xa9;
constexpr uint8_t kSelfTest = 0xaa;
constexpr uint8_t kTestKbd = 0xab;
constexpr uint8_t kDisableKbd = 0xad;
constexpr uint8_t kEnableKbd = 0xae;
constexpr uint8_t kWriteOutputPort = 0xd1;
constexpr uint8_t kWriteAuxOutput = 0xd2;
constexpr uint8_t kWriteKbdOutput = 0xd3;  // the "aux loop" in Linux's names
constexpr uint8_t kWriteToAux = 0xd4;
constexpr uint8_t kSelfTestOk = 0x55;
constexpr uint8_t kPortTestNoClock = 0x01;  // port test result: clock line stuck low (no device)

constexpr uint8_t kCtrKbdDisabled = 0x10;
constexpr uint8_t kCtrAuxDisabled = 0x20;

}  // namespace

Result<std::unique_ptr<I8042>> I8042::Create() {
  BH_ASSIGN(EventFd reset, EventFd::Create());
  return std::unique_ptr<I8042>(new I8042(std::move(reset)));
}

bool I8042::reset_requested() const {
  std::lock_guard lock(mu_);
  return reset_requested_;
}

void I8042::Read(uint64_t offset, std::span<uint8_t> data) {
  std::fill(data.begin(), data.end(), 0);
  if (data.size() != 1) return;
  std::lock_guard lock(mu_);
  if (offset == kDataOffset) {
    data[0] = out_;  // an empty buffer reads its stale byte, as the chip does
    out_full_ = false;
  } else if (offset == kCommandOffset) {
    // IBF (bit 1) is never set: every write is consumed at once.
    data[0] = static_cast<uint8_t>((out_full_ ? kStatusObf : 0) | kStatusSystem |
                                   (last_was_command_ ? kStatusCommand : 0) | kStatusUnlocked);
  }
}

void I8042::Write(uint64_t offset, std::span<const uint8_t> data) {
  if (data.size() != 1) return;
  std::lock_guard lock(mu_);
  if (offset == kDataOffset) {
    last_was_command_ = false;
    Data(data[0]);
  } else if (offset == kCommandOffset) {
    last_was_command_ = true;
    Command(data[0]);
  }
}

void I8042::Command(uint8_t cmd) {
  pending_ = 0;
  switch (cmd) {
    case kReadCtr:
      Reply(ctr_);
      return;
    case kWriteCtr:
    case kWriteOutputPort:
    case kWriteAuxOutput:
    case kWriteKbdOutput:
    case kWriteToAux:
      pending_ = cmd;
      return;
    case kDisableAux:
      ctr_ |= kCtrAuxDisabled;
      return;
    case kEnableAux:
      ctr_ &= static_cast<uint8_t>(~kCtrAuxDisabled);
      return;
    case kDisableKbd:
      ctr_ |= kCtrKbdDisabled;
      return;
    case kEnableKbd:
      ctr_ &= static_cast<uint8_t>(~kCtrKbdDisabled);
      return;
    case kSelfTest:
      Reply(kSelfTestOk);
      return;
    case kTestKbd:
    case kTestAux:
      Reply(kPortTestNoClock);
      return;
    default:
      // 0xf0..0xff pulse the output lines whose bits are 0; line 0 is reset.
      if ((cmd & 0xf0) == 0xf0 && (cmd & 0x01) == 0) RequestReset();
      return;
  }
}

void I8042::Data(uint8_t value) {
  const uint8_t cmd = pending_;
  pending_ = 0;
  switch (cmd) {
    case kWriteCtr:
      ctr_ = value;
      return;
    case kWriteOutputPort:
      if ((value & 0x01) == 0) RequestReset();  // bit 0 drives the CPU reset line
      return;
    default:
      // Keyboard or mouse bytes, and the fake-input commands (0xd2, 0xd3):
      // there is nothing behind the ports, so they go nowhere.
      return;
  }
}

void I8042::Reply(uint8_t value) {
  out_ = value;
  out_full_ = true;
}

void I8042::RequestReset() {
  reset_requested_ = true;
  reset_.Signal();
}

}  // namespace bulkhead::vmm
