// The rules of the monitor's agent relay (docs/vmm.md, "Agent mode"): which process channels
// are open, who owns each, the flow-control windows of their streams, and which frames each
// side may send. Pure state, no fds: the relay (relay.h) does the I/O and asks the session
// what a frame means and where it goes.
//
// Guest frames that break the session (a channel the host never opened, a second started,
// data after exit, a window overrun, a stats reply nobody asked for) are errors: the guest
// broke the protocol and the sandbox ends. Client frames that break a rule are refused
// (Verdict) and never reach the guest.
#pragma once

#include <bitset>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "vmproto/flow.h"
#include "vmproto/message.h"

namespace bulkhead::vmm::agent {

// A connected host client; 0 is nobody. Ids are never reused, so a stale one names no one.
using ClientId = uint64_t;
inline constexpr ClientId kNoClient = 0;

// Per-client bounds: exec'd processes it may have running, stats requests it may have waiting.
inline constexpr size_t kMaxExecsPerClient = 8;
inline constexpr size_t kMaxStatsPerClient = 8;

// Where a guest frame goes.
struct GuestRoute {
  enum class To {
    kNowhere,     // consumed by the monitor (main stdin credit) or its owner is gone
    kClient,      // to `client`
    kAllClients,  // hello, guest-wide errors
    kMainOutput,  // channel 1 stdout/stderr: the monitor's own fd 1 or 2
    kVolumes,     // a writable volume's write-back: the monitor applies it (volume_sink.h)
  };
  To to = To::kNowhere;
  ClientId client = kNoClient;
  // Data whose owner is gone: counts as drained at once (see Session::Drained).
  bool drop_data = false;
  // The main process ended with this shell status (code, or 128 + signal).
  std::optional<int> main_exit;
  // Main stdin credit arrived: the monitor may read its stdin again.
  bool main_stdin_credit = false;
};

// What becomes of a client frame.
struct Verdict {
  enum class Kind {
    kForward,  // send it on to the guest (as rewritten, for stats requests)
    kRefuse,   // answer with a guest-error naming `err` and `text`; the client stays
    kDrop,     // the client broke the protocol itself (flow control): disconnect it
  };
  Kind kind = Kind::kForward;
  int err = 0;
  std::string text;
};

class Session {
 public:
  bool hello_seen() const { return hello_.has_value(); }
  const std::optional<vmproto::Hello>& hello() const { return hello_; }
  bool main_open() const { return channels_.count(vmproto::kMainChannel) != 0; }
  bool start_sent() const { return start_sent_; }

  // A frame from the guest, already decoded and checked by the decoder. Stats replies get
  // their requester's id back. Errors mean the guest broke the protocol.
  Result<GuestRoute> OnGuest(vmproto::Message& m);

  // A frame from a client, already decoded and checked (CheckMessage). Stats requests get a
  // monitor-wide id, so two clients' ids cannot collide.
  Verdict OnClient(ClientId client, vmproto::Message& m);

  // The monitor's own main stdin (fd 0): how much the guest takes now, and the frames sent.
  uint32_t MainStdinRoom() const;
  void SpendMainStdin(size_t n);

  // A receiving stream's bytes left the monitor (written to fd 1/2 or a client socket, or
  // dropped): the host-credit frame to send the guest, if one is due.
  std::optional<vmproto::Credit> Drained(uint32_t channel, vmproto::Stream stream, size_t n);

  // A client left: its exec'd processes lose their owner and must be killed (the signals to
  // send are returned); the main process, if it started it, runs on without an owner.
  std::vector<vmproto::Signal> DropClient(ClientId client);

 private:
  struct Channel {
    ClientId owner = kNoClient;
    bool started = false;
    bool stdin_closed = false;
    vmproto::FlowWindow stdin_window;   // the host sends: what the guest still takes
    vmproto::FlowWindow out_window[2];  // the guest sends stdout, stderr
  };
  struct PendingStats {
    ClientId client = kNoClient;
    uint32_t client_id = 0;
  };

  Channel* Find(uint32_t channel);
  // Guest frames on a process channel need it open.
  Result<Channel*> OpenForGuest(uint32_t channel, const char* what);
  // Client frames on a process channel need it open and theirs.
  Verdict OwnedBy(ClientId client, uint32_t channel, Channel** out);
  size_t ExecsOf(ClientId client) const;
  size_t StatsOf(ClientId client) const;

  std::optional<vmproto::Hello> hello_;
  bool start_sent_ = false;
  std::map<uint32_t, Channel> channels_;                // open: sent, exit not yet seen
  std::bitset<vmproto::kMaxChannel + 1> used_;          // ever opened: never reused
  std::map<uint32_t, PendingStats> stats_;              // by the id the guest sees
  uint32_t next_stats_id_ = 1;
};

}  // namespace bulkhead::vmm::agent
