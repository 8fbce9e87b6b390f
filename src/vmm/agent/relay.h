// The monitor's end of the host<->guest channel in agent mode (docs/vmm.md, "Agent mode").
// The virtio-console port carries bh_vmproto frames; the relay decodes the guest's side of
// it here, inside the monitor's seccomp jail, and
//   - writes the main process's stdout and stderr (channel 1) to the monitor's fds 1 and 2,
//     returning flow-control credit only as those drain, and feeds the monitor's fd 0 to the
//     main process's stdin once a client sent start;
//   - serves host clients on the agent socket: their frames are checked (Session) and
//     forwarded; what the guest says about a channel goes to the client that opened it;
//   - ends the monitor: with the workload's status once the main process exited and its
//     output is out, or at once when the guest breaks the protocol.
// Every buffer is bounded: guest output by the flow-control windows, frames for the guest by
// pausing clients and stdin, frames for a client by dropping a client that does not read.
//
// The relay has its own epoll set; the monitor's event loop calls Run(0) whenever its fd is
// readable, and tests call Run with a timeout.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "vmm/agent/out_queue.h"
#include "vmm/agent/session.h"
#include "vmm/agent/volume_sink.h"
#include "vmproto/decoder.h"

namespace bulkhead::vmm::agent {

inline constexpr size_t kMaxClients = 16;
// Fds the relay may still open once jailed: every client, plus one accepted only to be
// turned away. The jail's RLIMIT_NOFILE leaves this much room.
inline constexpr int kSpareFds = static_cast<int>(kMaxClients) + 1;
// Frames waiting for the guest beyond which clients and stdin are no longer read (a frame
// already read still goes in, so the queue stays below this plus one largest frame).
inline constexpr size_t kGuestQueueHigh = 256 * 1024;
// Frames other than process output waiting for a client beyond which it is disconnected:
// it does not read what it asked for.
inline constexpr size_t kClientControlBacklog = 256 * 1024;

struct RelayFds {
  UniqueFd console;  // the monitor's end of the console port: a stream socket, both ways
  UniqueFd listen;   // the agent socket (ListenUnix)
  // The main process's stdio: the monitor's own (the container's), not owned; switched to
  // non-blocking. A regular file or /dev/null works too (always ready, never polled).
  int in = 0;
  int out = 1;
  int err = 2;
  // `in` is the workload's terminal: its size goes to the guest once a client sent start,
  // and again on ResizeMain.
  bool tty = false;
  // The writable volumes the guest writes back before the main process's exit; their
  // failures go to `err` as the monitor's own lines.
  std::vector<WritebackTarget> writeback;
};

// How the monitor ends.
struct Outcome {
  enum class Kind {
    kWorkloadExited,      // `status` is the main process's shell status
    kGuestBrokeProtocol,  // a malformed frame or one the session forbids: `message`
    kFailed,              // the monitor's own I/O failed: `message`
  };
  Kind kind = Kind::kWorkloadExited;
  int status = 0;
  std::string message;
};

class Relay {
 public:
  static Result<std::unique_ptr<Relay>> Create(RelayFds fds);
  ~Relay();

  int epoll_fd() const { return epoll_.get(); }

  // Handles what is ready, waiting up to timeout_ms for something to be. Returns how the
  // monitor must end, once it must (and the same from then on).
  std::optional<Outcome> Run(int timeout_ms);

  // With a terminal (RelayFds::tty), once start went to the guest: sends the terminal's
  // size as the main process's when it differs from the last one sent (the monitor calls it
  // on SIGWINCH; stdin is read only after it). A size of 0x0 (none set) is not sent.
  void ResizeMain();

  // The main process exited; the relay is still writing its output.
  bool main_exited() const { return main_exit_.has_value(); }
  size_t client_count() const { return clients_.size(); }
  // Frames waiting for the guest to take them.
  size_t guest_queue_bytes() const { return to_guest_.size(); }

 private:
  struct Client {
    ClientId id = kNoClient;
    UniqueFd fd;
    vmproto::Decoder decoder{vmproto::Direction::kHostToGuest};
    OutQueue out{true};
    bool hello_sent = false;
  };
  // What an epoll event names: one of these, or a ClientId (from kFirstClient).
  enum Tag : uint64_t { kConsole = 1, kListen, kStdin, kStdout, kStderr, kFirstClient = 16 };
  // A main stdio fd and its queue.
  struct Output {
    int fd = -1;
    vmproto::Stream stream;
    OutQueue queue{false};
    bool pollable = true;
    bool dead = false;  // its reader is gone: output is dropped (and credited)
  };

  explicit Relay(RelayFds fds);
  Status Setup();

  // Guest side (relay.cc).
  void ReadConsole();
  void HandleGuest(vmproto::Message m);
  void SendToGuest(const vmproto::Message& m);
  void Credit(const OutQueue::Output& drained);
  void ReadStdin();
  bool WantStdin() const;
  void FlushOutput(Output& o);
  void WriteBack(const vmproto::Message& m);
  void Fatal(Outcome::Kind kind, std::string message);

  // Client side (relay_clients.cc).
  void Accept();
  void ReadClient(ClientId id);
  void HandleClient(Client& c, vmproto::Message m);
  void SendToClient(Client& c, const vmproto::Message& m);
  void Refuse(Client& c, uint32_t channel, int err, const std::string& text);
  void DropClient(ClientId id);
  void FlushClient(ClientId id);
  Client* FindClient(ClientId id);

  // Epoll interest: each fd is in the set only while something is wanted of it, so a
  // hung-up fd nobody waits on cannot spin the loop.
  void Watch(int fd, uint64_t tag, uint32_t events);
  void Unwatch(int fd);
  void UpdateInterest();
  void FlushAll();

  RelayFds fds_;
  UniqueFd epoll_;
  Session session_;
  VolumeSink volumes_;
  vmproto::Decoder guest_decoder_{vmproto::Direction::kGuestToHost};
  OutQueue to_guest_{true};
  Output out_;
  Output err_;
  bool stdin_pollable_ = true;
  bool stdin_eof_ = false;
  bool listening_ = true;
  std::map<ClientId, std::unique_ptr<Client>> clients_;
  ClientId next_client_ = kFirstClient;
  std::map<int, uint32_t> watched_;  // fd -> events in the epoll set
  std::optional<int> main_exit_;
  vmproto::Resize sent_size_;  // the terminal's size the guest has (0x0: none yet)
  std::optional<Outcome> outcome_;
  std::vector<uint8_t> buf_;
};

}  // namespace bulkhead::vmm::agent
