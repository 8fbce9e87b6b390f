// agent_driver: plays the host for bulkhead-init in a real guest (tests/integration/vm_init.sh
// through in-host.sh). It listens on the socket the monitor's virtio-console connects to,
// sends the scenario's frames and checks what the guest answers.
//
//   bh-vminit-driver SOCKET CONFIG_JSON SCENARIO
//
// CONFIG_JSON is a config.json as `bulkhead spec` writes it; each scenario changes its
// process. SCENARIO: basic, session, badjson, nodisk (in-host.sh says how the monitor runs for
// each). Output: "ok - ..." / "not ok - ..." lines with "#" diagnostics. Exit status 0 when
// all passed, 1 when one failed, 2 when the driver could not run.
#include <sys/utsname.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "base/fs.h"
#include "peer.h"
#include "vmproto/wire.h"

namespace bulkhead::vminit::testing {
namespace {

using nlohmann::json;
using vmproto::ExitKind;

constexpr int64_t kBootMs = 120000;  // monitor connect + guest boot, under nested emulation
constexpr int64_t kStepMs = 60000;

int passed = 0, failed = 0;

void Check(bool ok, const std::string& name, const std::string& why = "") {
  if (ok) {
    ++passed;
    std::printf("ok - %s\n", name.c_str());
  } else {
    ++failed;
    std::printf("not ok - %s\n", name.c_str());
    if (!why.empty()) std::printf("#   %s\n", why.c_str());
  }
  std::fflush(stdout);
}

std::string Quoted(const std::string& s) {
  return "[" + json(s).dump(-1, ' ', false, json::error_handler_t::replace) + "]";
}

std::string Describe(const ChannelLog& c) {
  std::string d = "stdout " + Quoted(c.out) + " stderr " + Quoted(c.err);
  if (c.exit) {
    d += " exit kind " + std::to_string(static_cast<int>(c.exit->kind)) + " value " +
         std::to_string(c.exit->value);
  }
  for (const auto& e : c.errors) d += " guest-error " + Quoted(e.text);
  return d;
}

std::string StartSpec(json config, const json& args, bool readonly) {
  config["process"]["args"] = args;
  config["root"]["readonly"] = readonly;
  return json{{"id", "vm-init-test"}, {"guest", {{"upper_size_mib", 16}}}, {"config", config}}.dump();
}

std::string ExecSpec(const json& config, const json& args, bool terminal = false) {
  json p = config["process"];
  p["args"] = args;
  p["terminal"] = terminal;
  if (terminal) p["consoleSize"] = {{"height", 24}, {"width", 80}};
  return json{{"process", p}}.dump();
}

bool Exited(const ChannelLog& c, ExitKind kind, uint32_t value) {
  return c.exit && c.exit->kind == kind && c.exit->value == value;
}

std::string HostRelease() {
  struct utsname u {};
  uname(&u);
  return u.release;
}

// Hello first; the guest's kernel is not the test host's.
bool Greeted(Peer& peer) {
  bool got = peer.Until([&] { return peer.hello.has_value(); }, NowMs() + kBootMs);
  Check(got, "the guest says hello", peer.failure());
  if (!got) return false;
  Check(peer.hello->version == vmproto::kVersion, "hello: protocol version");
  Check(peer.hello->kernel_release != HostRelease(),
        "hello: the guest runs its own kernel, not the test host's",
        "both are " + HostRelease());
  return true;
}

void PoweredOff(Peer& peer) {
  Check(peer.UntilEof(NowMs() + kStepMs), "the guest powers off after the last exit");
  Check(peer.failure().empty(), "every frame from the guest was well formed", peer.failure());
}

void Basic(Peer& peer, const json& config) {
  if (!Greeted(peer)) return;
  Status s = peer.Send(vmproto::Start{
      StartSpec(config, {"sh", "-c", "echo hi; uname -r; exit 7"}, false)});
  Check(s.ok(), "start sent", s.ok() ? "" : s.error().message());
  ChannelLog& main = peer.channels[1];
  bool exited = peer.Until([&] { return main.exit.has_value(); }, NowMs() + kStepMs);
  Check(main.pid.has_value() && *main.pid > 0, "basic: started with a pid");
  Check(exited, "basic: exit reported", Describe(main));
  Check(main.out == "hi\n" + peer.hello->kernel_release + "\n",
        "basic: stdout carries echo and the guest's uname -r", Describe(main));
  Check(Exited(main, ExitKind::kExited, 7), "basic: exit status 7", Describe(main));
  PoweredOff(peer);
}

void Session(Peer& peer, const json& config) {
  if (!Greeted(peer)) return;
  Status s = peer.Send(vmproto::Start{StartSpec(config, {"cat"}, true)});
  ChannelLog& main = peer.channels[1];
  Check(s.ok() && peer.Until([&] { return main.pid.has_value() || !main.errors.empty(); },
                             NowMs() + kStepMs) && main.pid,
        "session: cat started", Describe(main));

  // An exec joins the container: its pid namespace (pid 1 is cat) and its read-only root.
  (void)peer.Send(vmproto::Exec{2, ExecSpec(config, {"sh", "-c",
                                                     "cat /proc/1/comm; echo x > /probe"})});
  ChannelLog& probe = peer.channels[2];
  peer.Until([&] { return probe.exit.has_value() || !probe.errors.empty(); }, NowMs() + kStepMs);
  Check(probe.pid.has_value(), "exec: started on channel 2", Describe(probe));
  Check(probe.out == "cat\n", "exec: in the container's pid namespace (pid 1 is cat)",
        Describe(probe));
  Check(probe.err.find("Read-only file system") != std::string::npos &&
            probe.exit && probe.exit->kind == ExitKind::kExited && probe.exit->value != 0,
        "exec: root.readonly refuses a write to /", Describe(probe));

  // A signal reaches the exec'd process.
  (void)peer.Send(vmproto::Exec{3, ExecSpec(config, {"sleep", "100"})});
  ChannelLog& sleeper = peer.channels[3];
  peer.Until([&] { return sleeper.pid.has_value() || !sleeper.errors.empty(); },
             NowMs() + kStepMs);
  Check(sleeper.pid.has_value(), "exec: sleep started on channel 3", Describe(sleeper));
  (void)peer.Send(vmproto::StatsRequest{42});
  bool got_stats = peer.Until([&] { return peer.stats.count(42) > 0; }, NowMs() + kStepMs);
  Check(got_stats, "stats: reply to the request");
  if (got_stats) {
    const vmproto::StatsReply& r = peer.stats[42];
    Check(r.pids >= 2 && r.memory_bytes > 0 && r.cpu_ns > 0,
          "stats: the container's cgroup counts cat and sleep, memory and cpu",
          "pids " + std::to_string(r.pids) + " memory " + std::to_string(r.memory_bytes) +
              " cpu_ns " + std::to_string(r.cpu_ns));
  }
  (void)peer.Send(vmproto::Signal{3, 15});
  peer.Until([&] { return sleeper.exit.has_value(); }, NowMs() + kStepMs);
  Check(Exited(sleeper, ExitKind::kSignaled, 15), "signal: SIGTERM ends sleep, exit signaled 15",
        Describe(sleeper));

  // A terminal: the process gets a pty of the given size, and resize reaches it.
  (void)peer.Send(vmproto::Exec{4, ExecSpec(config, {"sh", "-c",
                                                     "stty size; read line; stty size"}, true)});
  ChannelLog& tty = peer.channels[4];
  bool sized = peer.Until([&] { return tty.out.find("24 80") != std::string::npos || tty.exit ||
                                       !tty.errors.empty(); },
                          NowMs() + kStepMs);
  Check(sized && tty.out.find("24 80") != std::string::npos,
        "terminal: the pty has the console size", Describe(tty));
  (void)peer.Send(vmproto::Resize{4, 33, 101});
  (void)peer.Send(vmproto::Data{4, vmproto::Stream::kStdin, {'g', 'o', '\n'}});
  peer.Until([&] { return tty.exit.has_value(); }, NowMs() + kStepMs);
  Check(tty.out.find("33 101") != std::string::npos && Exited(tty, ExitKind::kExited, 0),
        "terminal: resize reaches the process", Describe(tty));
  Check(tty.err.empty(), "terminal: one stream, stdout", Describe(tty));

  // Stdin round trip through cat, several windows' worth in both directions.
  std::string data;
  for (int i = 0; data.size() < 300 * 1024; ++i) data += "line " + std::to_string(i) + "\n";
  Status sent = peer.SendStdin(1, data, NowMs() + kStepMs);
  Check(sent.ok(), "stdin: 300 KiB sent within the guest's credit",
        sent.ok() ? "" : sent.error().message());
  (void)peer.Send(vmproto::CloseStdin{1});
  peer.Until([&] { return main.exit.has_value(); }, NowMs() + kStepMs);
  Check(main.out == data, "stdin: cat echoes every byte in order",
        "got " + std::to_string(main.out.size()) + " of " + std::to_string(data.size()) +
            " bytes");
  Check(Exited(main, ExitKind::kExited, 0), "stdin: cat exits 0 after close-stdin",
        Describe(main));
  PoweredOff(peer);
}

void BadJson(Peer& peer) {
  if (!Greeted(peer)) return;
  (void)peer.Send(vmproto::Start{"{\"config\": not json"});
  ChannelLog& main = peer.channels[1];
  peer.Until([&] { return !main.errors.empty(); }, NowMs() + kStepMs);
  Check(!main.errors.empty() && main.errors[0].text.find("start spec") != std::string::npos &&
            main.errors[0].text.find("parse error") != std::string::npos,
        "bad start JSON: guest-error on channel 1 naming the parse error", Describe(main));
  Check(!main.pid.has_value() && !main.exit.has_value(), "bad start JSON: nothing started");
  PoweredOff(peer);
}

void NoDisk(Peer& peer, const json& config) {
  if (!Greeted(peer)) return;
  (void)peer.Send(vmproto::Start{StartSpec(config, {"true"}, true)});
  ChannelLog& main = peer.channels[1];
  peer.Until([&] { return !main.errors.empty(); }, NowMs() + kStepMs);
  Check(!main.errors.empty() &&
            main.errors[0].text.find("no virtio disk has serial \"rootfs\"") != std::string::npos,
        "no rootfs disk: guest-error naming the missing disk", Describe(main));
  PoweredOff(peer);
}

int Main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: bh-vminit-driver SOCKET CONFIG_JSON SCENARIO\n");
    return 2;
  }
  std::string scenario = argv[3];
  Result<std::string> text = ReadFile(argv[2]);
  if (!text.ok()) {
    std::fprintf(stderr, "bh-vminit-driver: %s\n", text.error().message().c_str());
    return 2;
  }
  json config = json::parse(*text, nullptr, false);
  if (config.is_discarded()) {
    std::fprintf(stderr, "bh-vminit-driver: %s is not JSON\n", argv[2]);
    return 2;
  }
  Result<Peer> peer = Peer::Accept(argv[1], static_cast<int>(kBootMs));
  if (!peer.ok()) {
    std::fprintf(stderr, "bh-vminit-driver: %s\n", peer.error().message().c_str());
    return 2;
  }
  if (scenario == "basic") {
    Basic(*peer, config);
  } else if (scenario == "session") {
    Session(*peer, config);
  } else if (scenario == "badjson") {
    BadJson(*peer);
  } else if (scenario == "nodisk") {
    NoDisk(*peer, config);
  } else {
    std::fprintf(stderr, "bh-vminit-driver: unknown scenario %s\n", scenario.c_str());
    return 2;
  }
  return failed == 0 ? 0 : 1;
}

}  // namespace
}  // namespace bulkhead::vminit::testing

int main(int argc, char** argv) { return bulkhead::vminit::testing::Main(argc, argv); }
