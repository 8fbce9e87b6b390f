// The host's end of one `exec` in a vm-tier container: over a connection to the monitor's
// agent socket it opens a channel with the process, then relays the caller's stdin to it,
// within the window the guest grants (docs/vm-protocol.md), and its stdout and stderr back
// (the monitor returns the guest's output credit as this connection drains), passes on the
// signals that arrive on a signalfd, and returns the process's status as runc would
// (its exit code, or 128 + the signal that killed it).
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"
#include "vmtier/agent_client.h"

namespace bulkhead::vmtier {

struct ExecIo {
  int in = 0;    // -1: no stdin (the process sees it closed)
  int out = 1;
  int err = 2;
  int signal_fd = -1;  // a signalfd whose signals go to the process; -1: none
  // With a terminal: the pty whose size the process's terminal follows. Its size is sent at
  // once, and a SIGWINCH on signal_fd sends the new size instead of the signal.
  int tty = -1;
};

// Sends the exec spec ({"process": {...}}) on a free channel of a client that has seen the
// guest's hello, and waits until the guest reports the process started. Returns the channel
// and the process's pid in the guest. A guest-error is the exec's error.
struct OpenedExec {
  uint32_t channel = 0;
  uint32_t guest_pid = 0;
};
Result<OpenedExec> OpenExec(AgentClient& client, const std::string& spec_json);

// Relays the process's stdio until its exit; the connection closing first means the VM
// stopped.
Result<int> RelayExec(AgentClient& client, uint32_t channel, const ExecIo& io);

}  // namespace bulkhead::vmtier
