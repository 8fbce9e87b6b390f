#include "vmm/config.h"

#include <charconv>
#include <functional>
#include <set>

#include "oci/json_reader.h"

namespace bulkhead::vmm {
namespace {

using oci::internal::Node;

Status OnlyKeys(const Node& obj, std::initializer_list<std::string_view> allowed) {
  BH_TRY(obj.ExpectObject());
  for (const auto& item : obj.json().items()) {
    bool known = false;
    for (std::string_view a : allowed) known = known || item.key() == a;
    if (!known) {
      std::string where = obj.path().empty() ? "" : obj.path() + ".";
      return Error("unknown setting \"" + where + item.key() + "\"");
    }
  }
  return Ok();
}

Status ParseDisk(const Node& n, DiskConfig* d) {
  BH_TRY(OnlyKeys(n, {"id", "path", "read_only"}));
  BH_ASSIGN(Node id, oci::internal::Require(n, "id"));
  BH_ASSIGN(d->id, id.String());
  BH_ASSIGN(Node path, oci::internal::Require(n, "path"));
  BH_ASSIGN(d->path, path.String());
  return oci::internal::ReadBool(n, "read_only", &d->read_only);
}

Status ParseSerial(const Node& n, SerialConfig* s) {
  BH_TRY(OnlyKeys(n, {"output", "path", "input"}));
  std::string output = "stdout";
  BH_TRY(oci::internal::ReadString(n, "output", &output));
  if (output == "stdout") {
    s->output = SerialConfig::Output::kStdout;
  } else if (output == "file") {
    s->output = SerialConfig::Output::kFile;
  } else if (output == "none") {
    s->output = SerialConfig::Output::kNone;
  } else {
    return Error("serial.output: \"" + output + "\" is not one of stdout, file, none");
  }
  BH_TRY(oci::internal::ReadString(n, "path", &s->path));
  return oci::internal::ReadBool(n, "input", &s->input);
}

Status ParseConsole(const Node& n, ConsoleConfig* c) {
  BH_TRY(OnlyKeys(n, {"socket", "fd"}));
  BH_TRY(oci::internal::ReadString(n, "socket", &c->socket));
  return oci::internal::ReadInt(n, "fd", &c->fd);
}

Status ParseWriteback(const Node& n, WritebackConfig* w) {
  BH_TRY(OnlyKeys(n, {"volume", "path", "max_mib"}));
  BH_TRY(oci::internal::ReadInt(n, "volume", &w->volume));
  BH_TRY(oci::internal::ReadString(n, "path", &w->path));
  return oci::internal::ReadInt(n, "max_mib", &w->max_mib);
}

Status ParseAgent(const Node& n, AgentConfig* a) {
  BH_TRY(OnlyKeys(n, {"socket", "tty", "writeback"}));
  BH_TRY(oci::internal::ReadString(n, "socket", &a->socket));
  BH_TRY(oci::internal::ReadList(n, "writeback", &a->writeback, &ParseWriteback));
  return oci::internal::ReadBool(n, "tty", &a->tty);
}

// Agent mode owns the console port and the monitor's stdio (the container's).
Status ValidateAgent(const VmConfig& c) {
  if (c.agent->socket.empty()) return Error("agent: needs a socket path (--agent-socket or \"agent.socket\")");
  if (c.console) {
    return Error("agent and console exclude each other: the agent speaks on the virtio-console port itself "
                 "(drop --console / \"console\" or --agent-socket / \"agent\")");
  }
  if (c.serial.output == SerialConfig::Output::kStdout) {
    return Error("agent and serial output to stdout exclude each other: stdout carries the container's output "
                 "(give --serial none or file:PATH)");
  }
  if (c.serial.input) return Error("agent and serial input exclude each other: stdin is the container's");
  std::set<uint32_t> volumes;
  for (const WritebackConfig& w : c.agent->writeback) {
    std::string what = "writeback volume " + std::to_string(w.volume);
    if (w.volume >= kMaxWritebackVolumes) {
      return Error(what + ": the number is outside 0.." + std::to_string(kMaxWritebackVolumes - 1));
    }
    if (!volumes.insert(w.volume).second) return Error(what + ": given twice");
    if (w.path.empty() || w.path[0] != '/') return Error(what + ": the path \"" + w.path + "\" is not absolute");
    if (w.max_mib < 1 || w.max_mib > kMaxWritebackMib) {
      return Error(what + ": max_mib " + std::to_string(w.max_mib) + " is out of range [1, " +
                   std::to_string(kMaxWritebackMib) + "]");
    }
  }
  return Ok();
}

Result<uint64_t> ParseUint(std::string_view s, std::string_view what) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) {
    return Error(std::string(what) + ": \"" + std::string(s) + "\" is not a number");
  }
  return v;
}

// One item of a "key=value,key,..." flag.
struct FlagItem {
  std::string_view item;  // as written
  std::string_view key;
  std::string_view value;
  bool has_value = false;  // there was a '='
};

// Calls `fn` on each comma-separated item of `flag`; an item whose key is `rest_key` takes
// the rest of the flag as its value, commas and all.
Status ForEachItem(std::string_view flag, std::string_view rest_key,
                   const std::function<Status(const FlagItem&)>& fn) {
  while (!flag.empty()) {
    size_t comma = flag.find(',');
    FlagItem i;
    i.item = flag.substr(0, comma);
    size_t eq = i.item.find('=');
    i.key = i.item.substr(0, eq);
    i.has_value = eq != std::string_view::npos;
    if (i.has_value && !rest_key.empty() && i.key == rest_key) {
      i.item = flag;
      comma = std::string_view::npos;
    }
    i.value = i.has_value ? i.item.substr(eq + 1) : std::string_view();
    flag = comma == std::string_view::npos ? std::string_view() : flag.substr(comma + 1);
    BH_TRY(fn(i));
  }
  return Ok();
}

}  // namespace

Status ApplyJson(std::string_view json, VmConfig* config) {
  BH_ASSIGN(nlohmann::json doc, oci::internal::ParseDocument(json));
  Node root(doc, "");
  BH_TRY(OnlyKeys(root, {"kernel", "initrd", "cmdline", "vcpus", "memory_mib", "disks", "serial",
                         "console", "agent", "rng"}));
  BH_TRY(oci::internal::ReadString(root, "kernel", &config->kernel));
  BH_TRY(oci::internal::ReadString(root, "initrd", &config->initrd));
  BH_TRY(oci::internal::ReadString(root, "cmdline", &config->cmdline));
  BH_TRY(oci::internal::ReadInt(root, "vcpus", &config->vcpus));
  BH_TRY(oci::internal::ReadInt(root, "memory_mib", &config->memory_mib));
  BH_TRY(oci::internal::ReadList(root, "disks", &config->disks, &ParseDisk));
  if (auto s = root.Member("serial")) BH_TRY(ParseSerial(*s, &config->serial));
  if (auto c = root.Member("console")) {
    ConsoleConfig console;
    BH_TRY(ParseConsole(*c, &console));
    config->console = console;
  }
  if (auto a = root.Member("agent")) {
    AgentConfig agent;
    BH_TRY(ParseAgent(*a, &agent));
    config->agent = agent;
  }
  return oci::internal::ReadBool(root, "rng", &config->rng);
}

Result<DiskConfig> ParseDiskFlag(std::string_view flag) {
  DiskConfig d;
  BH_TRY(ForEachItem(flag, "", [&d](const FlagItem& i) -> Status {
    if (i.key == "id" && i.has_value) {
      d.id = i.value;
    } else if (i.key == "path" && i.has_value) {
      d.path = i.value;
    } else if ((i.key == "ro" || i.key == "readonly") && !i.has_value) {
      d.read_only = true;
    } else if (i.key == "read_only" && (i.value == "true" || i.value == "false")) {
      d.read_only = i.value == "true";
    } else {
      return Error("--disk: unknown item \"" + std::string(i.item) + "\" (want id=ID,path=PATH[,ro])");
    }
    return Ok();
  }));
  return d;
}

Result<WritebackConfig> ParseWritebackFlag(std::string_view flag) {
  WritebackConfig w;
  bool volume = false, path = false, max = false;
  // The path runs to the end of the flag, commas included.
  BH_TRY(ForEachItem(flag, "path", [&](const FlagItem& i) -> Status {
    if (i.key == "volume" && i.has_value) {
      BH_ASSIGN(uint64_t v, ParseUint(i.value, "--writeback volume"));
      w.volume = v > kMaxWritebackVolumes ? kMaxWritebackVolumes : static_cast<uint32_t>(v);
      volume = true;
    } else if (i.key == "path" && i.has_value) {
      w.path = i.value;
      path = true;
    } else if (i.key == "max_mib" && i.has_value) {
      BH_ASSIGN(w.max_mib, ParseUint(i.value, "--writeback max_mib"));
      max = true;
    } else {
      return Error("--writeback: unknown item \"" + std::string(i.item) + "\" (want volume=N,max_mib=M,path=PATH)");
    }
    return Ok();
  }));
  if (!volume || !path || !max) return Error("--writeback: needs volume=N, path=PATH and max_mib=M");
  return w;
}

Result<SerialConfig> ParseSerialFlag(std::string_view flag) {
  SerialConfig s;
  if (flag == "stdout") return s;
  if (flag == "none") {
    s.output = SerialConfig::Output::kNone;
    return s;
  }
  if (flag.starts_with("file:")) {
    s.output = SerialConfig::Output::kFile;
    s.path = flag.substr(5);
    return s;
  }
  return Error("--serial: \"" + std::string(flag) + "\" is not one of stdout, none, file:PATH");
}

Result<ConsoleConfig> ParseConsoleFlag(std::string_view flag) {
  ConsoleConfig c;
  if (flag.starts_with("socket:")) {
    c.socket = flag.substr(7);
    return c;
  }
  if (flag.starts_with("fd:")) {
    BH_ASSIGN(uint64_t fd, ParseUint(flag.substr(3), "--console fd"));
    if (fd > 1 << 20) return Error("--console: fd " + std::to_string(fd) + " is out of range");
    c.fd = static_cast<int>(fd);
    return c;
  }
  return Error("--console: \"" + std::string(flag) + "\" is not socket:PATH or fd:N");
}

Status Validate(const VmConfig& c) {
  if (c.kernel.empty()) return Error("no kernel given (--kernel or \"kernel\")");
  if (c.vcpus < 1 || c.vcpus > kMaxVcpus) {
    return Error("vcpus: " + std::to_string(c.vcpus) + " is out of range [1, " + std::to_string(kMaxVcpus) + "]");
  }
  if (c.memory_mib < kMinMemoryMib || c.memory_mib > kMaxMemoryMib) {
    return Error("memory_mib: " + std::to_string(c.memory_mib) + " is out of range [" +
                 std::to_string(kMinMemoryMib) + ", " + std::to_string(kMaxMemoryMib) + "]");
  }
  if (c.cmdline.find('\n') != std::string::npos) return Error("cmdline: contains a newline");
  if (c.disks.size() > kMaxDisks) {
    return Error("disks: " + std::to_string(c.disks.size()) + " given, at most " + std::to_string(kMaxDisks));
  }
  std::set<std::string> ids;
  for (const DiskConfig& d : c.disks) {
    if (d.id.empty() || d.path.empty()) return Error("disk: needs both an id and a path");
    if (d.id.size() > kMaxDiskIdBytes) {
      return Error("disk \"" + d.id + "\": id longer than " + std::to_string(kMaxDiskIdBytes) + " bytes");
    }
    if (!ids.insert(d.id).second) return Error("disk \"" + d.id + "\": the id is used twice");
  }
  if (c.serial.output == SerialConfig::Output::kFile && c.serial.path.empty()) {
    return Error("serial: output \"file\" needs a path");
  }
  if (c.serial.output != SerialConfig::Output::kFile && !c.serial.path.empty()) {
    return Error("serial: a path is given but the output is not \"file\"");
  }
  if (c.seccomp_selftest != VmConfig::SelfTest::kNone && !c.jail) {
    return Error("--seccomp-selftest needs the jail (no seccomp without it): drop --no-jail");
  }
  if (c.console) {
    bool has_socket = !c.console->socket.empty();
    bool has_fd = c.console->fd >= 0;
    if (has_socket == has_fd) return Error("console: give exactly one of a socket path and an fd");
    if (has_fd && c.console->fd <= 2) {
      return Error("console: fd " + std::to_string(c.console->fd) + " is one of stdin, stdout, stderr");
    }
  }
  if (c.agent) BH_TRY(ValidateAgent(c));
  return Ok();
}

}  // namespace bulkhead::vmm
