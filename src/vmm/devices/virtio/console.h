// virtio-console (device type 3) with a single port and no multiport, size
// or emergency-write features: queue 0 (receiveq) carries host input to the
// guest, queue 1 (transmitq) guest output to the host.
//
// Input: the event loop watches input fd for EPOLLIN (edge-triggered) and calls
// the transport's ProcessDeviceEvent(). The console reads only into buffers
// the guest has posted, straight into guest memory: with no buffer posted it
// stops reading and the data waits in the fd (no busy loop, no host-side
// buffer) until the guest posts one, which kicks queue 0 and resumes reading.
// At EOF input stops for good.
//
// Output: each transmit chain's readable bytes are written to the output fd
// without blocking; when the fd is full the chain stays in flight (the guest
// waits for it) and the rest goes out when the event loop sees EPOLLOUT. A
// chain is returned only once all of it was written, or when the peer is gone
// (EPIPE and other write errors: the output is dropped). Sockets are written
// with MSG_NOSIGNAL; for a pipe the monitor must ignore SIGPIPE.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "vmm/devices/virtio/device.h"

namespace bulkhead::vmm {

class VirtioConsole : public VirtioDevice {
 public:
  static constexpr uint16_t kReceiveQueue = 0;
  static constexpr uint16_t kTransmitQueue = 1;

  // Takes the input and output fds (either may be invalid: no input, output
  // dropped; for one socket in both directions pass a dup). Both are switched
  // to O_NONBLOCK, so they must be the console's own (a socket end, a pipe, a
  // pty master), never a shared stdin/stdout.
  static Result<std::unique_ptr<VirtioConsole>> Create(UniqueFd input, UniqueFd output);

  int input_fd() const { return input_.get(); }
  int output_fd() const { return output_.get(); }

  uint32_t device_type() const override { return kVirtioIdConsole; }
  uint16_t queue_count() const override { return 2; }
  uint64_t features() const override { return kVirtioFVersion1; }
  uint32_t config_size() const override { return 0; }
  void ReadConfig(uint64_t, std::span<uint8_t>) const override {}
  Status Activate(uint64_t) override { return Ok(); }
  Result<QueueWork> ProcessQueue(uint16_t index, GuestMemory& mem, std::span<Virtqueue> queues) override;
  std::vector<DeviceEventSource> event_sources() const override;
  Result<QueueWork> OnEvent(GuestMemory& mem, std::span<Virtqueue> queues) override;
  void Reset() override;

 private:
  VirtioConsole(UniqueFd input, UniqueFd output) : input_(std::move(input)), output_(std::move(output)) {}
  Result<QueueWork> Receive(GuestMemory& mem, Virtqueue& q);
  Result<QueueWork> Transmit(GuestMemory& mem, Virtqueue& q);
  // Writes what is left of tx_; false when the fd is full (try again later).
  bool Flush(GuestMemory& mem);

  const UniqueFd input_;
  const UniqueFd output_;
  bool input_closed_ = false;
  bool output_is_socket_ = true;  // until sendmsg says ENOTSOCK
  std::optional<DescriptorChain> rx_;  // posted receive buffer not yet filled
  std::optional<DescriptorChain> tx_;  // transmit chain partly written
  uint64_t tx_done_ = 0;
};

}  // namespace bulkhead::vmm
