// The one place that wires a VM together, top to bottom: guest memory, the KVM
// VM and its vCPUs, the kernel and its boot data, the buses and every device,
// and the event-loop sources. Nothing else creates devices or picks addresses.
#pragma once

#include <memory>
#include <vector>

#include "base/result.h"
#include "vmm/config.h"
#include "vmm/devices/bus.h"
#include "vmm/event_loop.h"
#include "vmm/host_files.h"
#include "vmm/kvm/vcpu.h"
#include "vmm/kvm/vm.h"
#include "vmm/memory/guest_memory.h"

namespace bulkhead::vmm {

class Serial;
class I8042;
namespace agent {
class Relay;
}

struct Machine {
  GuestMemory memory;
  Vm vm;
  std::vector<std::unique_ptr<Vcpu>> vcpus;
  Bus pio;
  Bus mmio;
  EventLoop loop;
  std::shared_ptr<Serial> serial;
  std::shared_ptr<I8042> i8042;
  std::shared_ptr<agent::Relay> agent;  // agent mode only
  // Objects the event loop's handlers use, kept alive with the machine.
  std::vector<std::shared_ptr<void>> keep_alive;
};

// Builds the whole machine from the configuration and the opened host files.
// Must run in the process that will run the VM (KVM ties a VM to its creator).
Result<std::unique_ptr<Machine>> BuildMachine(const VmConfig& config, HostFiles& files);

// Agent mode: turns the relay, and ends the monitor once it says so: with the
// workload's status, or kExitGuestProtocol / kExitMonitorError and a message.
void RunAgent(agent::Relay& relay);

// The kernel command line the guest gets: the user's, plus what the machine
// needs (reset through the i8042, panic marked warm, one UART, the
// virtio-mmio devices at their windows and IRQs).
std::string GuestCmdline(const std::string& user, size_t virtio_devices);

}  // namespace bulkhead::vmm
