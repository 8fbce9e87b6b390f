// The guest's side of the protocol: one event loop over the host port, SIGCHLD and every
// process's stdio. It starts the container on `start`, more processes on `exec`, relays
// stdio with flow control, forwards signals and terminal sizes, answers stats, reaps every
// child (it is PID 1) and reports each process's exit once its output is all sent.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "vminit/container.h"
#include "vminit/port.h"
#include "vminit/relay.h"
#include "vmproto/message.h"

namespace bulkhead::vminit {

class Agent {
 public:
  // Blocks SIGCHLD (read through a signalfd) and SIGPIPE (a closed stdin is an EPIPE).
  static Result<Agent> Create(Port port);

  // Serves the host until the VM should power off: Ok once the container's process has
  // exited and its exit frame is queued, or once a start failed and its guest-error is queued.
  // An error is a broken protocol (a malformed frame, a host that overran its window), which
  // the caller reports on channel 0.
  Status Run();

  Port& port() { return port_; }

 private:
  struct Channel {
    explicit Channel(bool tty) : terminal(tty), relay(tty) {}
    uint32_t id = 0;
    pid_t pid = 0;
    bool terminal = false;
    UniqueFd in;        // the process's stdin (a pipe's write end, or the pty master)
    UniqueFd out, err;  // its stdout and stderr (pipes' read ends, or the pty master)
    Relay relay;
    int64_t exited_at_ms = 0;
  };

  explicit Agent(Port port) : port_(std::move(port)) {}

  Status Handle(vmproto::Message m);
  Status OnStart(const vmproto::Start& m);
  Status StartContainer(const vmproto::Start& m);
  Status OnExec(const vmproto::Exec& m);
  Status OnStdin(const vmproto::Data& m);
  Status OnCloseStdin(const vmproto::CloseStdin& m);
  Status OnSignal(const vmproto::Signal& m);
  Status OnResize(const vmproto::Resize& m);
  Status OnStats(const vmproto::StatsRequest& m);
  Status OnCredit(const vmproto::Credit& m);

  // Pipes (or the pty), the process through `launch`, started frame, the channel entry.
  template <class Launch>
  Status Spawn(uint32_t channel, bool terminal, Launch launch);
  Status PumpStdin(Channel& c);
  Status PumpOutput(Channel& c, vmproto::Stream s);
  Status SendCredit(const Channel& c, uint32_t credit);
  void Reap();
  void EndIdleOutputs(int64_t now_ms);
  // Sends the exit of every finished channel; true when it was the container's process.
  Result<bool> FinishChannels();
  Channel* Find(uint32_t channel);
  bool AnyLingering() const;
  // Sends what changed in each writable volume (volume_sync.h), before the main exit.
  Status WriteBackVolumes();

  Port port_;
  UniqueFd sigchld_;
  std::optional<Container> container_;
  std::map<uint32_t, std::unique_ptr<Channel>> channels_;
  std::set<uint32_t> used_channels_;  // a channel number is never reused
  struct WritableVolume {
    uint32_t number = 0;
    std::string upper;
  };
  std::vector<WritableVolume> writable_;
  bool start_seen_ = false;
  bool start_failed_ = false;
};

}  // namespace bulkhead::vminit
