#include "vminit/spec.h"

#include <algorithm>
#include <set>

#include "oci/json_reader.h"
#include "oci/parse.h"
#include "oci/validate.h"
#include "vminit/layout.h"
#include "vmproto/wire.h"

namespace bulkhead::vminit {

namespace {

using oci::internal::Node;

constexpr size_t kMaxIdLength = 64;

Status OnlyKeys(const Node& obj, const std::set<std::string_view>& known) {
  BH_TRY(obj.ExpectObject());
  for (const auto& item : obj.json().items()) {
    if (known.count(item.key()) == 0) {
      std::string where = obj.path().empty() ? "" : obj.path() + ": ";
      return Error(where + "unknown key \"" + item.key() + "\"", EINVAL);
    }
  }
  return Ok();
}

Status CheckId(const std::string& id) {
  if (id.empty() || id.size() > kMaxIdLength) {
    return Error("id: must be 1.." + std::to_string(kMaxIdLength) + " characters", EINVAL);
  }
  for (char c : id) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '-' || c == '.';
    if (!plain) return Error("id: \"" + id + "\" may hold only [A-Za-z0-9_.-]", EINVAL);
  }
  if (id == "." || id == "..") return Error("id: \"" + id + "\" is not a name", EINVAL);
  return Ok();
}

Status CheckProcess(const oci::Process& p, std::string_view where) {
  if (p.args.empty()) return Error(std::string(where) + ".args: no command given", EINVAL);
  if (p.cwd.empty() || p.cwd[0] != '/') {
    return Error(std::string(where) + ".cwd: \"" + p.cwd + "\" is not an absolute path", EINVAL);
  }
  return Ok();
}

// serial: [a-z0-9]{1,20}, as the monitor's disk ids; path: <kVolumesDir>/<digits>.
Status ParseVolume(const Node& n, GuestVolume* out) {
  BH_TRY(OnlyKeys(n, {"serial", "path", "writable", "size_mib"}));
  BH_TRY(oci::internal::ReadBool(n, "writable", &out->writable));
  BH_TRY(oci::internal::ReadInt(n, "size_mib", &out->size_mib));
  BH_TRY(oci::internal::ReadString(n, "serial", &out->serial));
  BH_TRY(oci::internal::ReadString(n, "path", &out->path));
  bool serial_ok = !out->serial.empty() && out->serial.size() <= 20 &&
                   std::all_of(out->serial.begin(), out->serial.end(), [](char c) {
                     return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
                   });
  if (!serial_ok) return Error("guest.volumes: bad serial \"" + out->serial + "\"", EINVAL);
  const std::string prefix = std::string(kVolumesDir) + "/";
  std::string name = out->path.substr(std::min(out->path.size(), prefix.size()));
  bool path_ok = out->path.compare(0, prefix.size(), prefix) == 0 && !name.empty() &&
                 name.size() <= 3 &&
                 std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!path_ok) {
    return Error("guest.volumes: path \"" + out->path + "\" is not " + prefix + "<n>", EINVAL);
  }
  out->number = static_cast<uint32_t>(std::stoul(name));
  if (!out->writable) {
    if (out->size_mib != 0) return Error("guest.volumes: size_mib on a read-only volume", EINVAL);
    return Ok();
  }
  if (out->number >= vmproto::kMaxVolumes) {
    return Error("guest.volumes: a writable volume numbered " + name + " (must be 0.." +
                     std::to_string(vmproto::kMaxVolumes - 1) + ")",
                 EINVAL);
  }
  if (out->size_mib == 0 || out->size_mib > kMaxUpperMib) {
    return Error("guest.volumes: size_mib " + std::to_string(out->size_mib) + " is outside 1.." +
                     std::to_string(kMaxUpperMib),
                 EINVAL);
  }
  return Ok();
}

Status ParseGuest(const Node& n, GuestFacts* out) {
  BH_TRY(OnlyKeys(n, {"upper_size_mib", "volumes"}));
  BH_TRY(oci::internal::ReadList(n, "volumes", &out->volumes, &ParseVolume));
  BH_TRY(oci::internal::ReadInt(n, "upper_size_mib", &out->upper_size_mib));
  if (out->upper_size_mib == 0 || out->upper_size_mib > kMaxUpperMib) {
    return Error("guest.upper_size_mib: " + std::to_string(out->upper_size_mib) +
                     " is outside 1.." + std::to_string(kMaxUpperMib),
                 EINVAL);
  }
  return Ok();
}

// The member re-serialised for the OCI parser, which takes text. The document was parsed
// from valid UTF-8, so dumping cannot fail; `replace` keeps that true without exceptions.
std::string Text(const Node& n) {
  return n.json().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

Result<StartSpec> ParseStartSpec(std::string_view json, const std::string& root_dir) {
  BH_ASSIGN(nlohmann::json doc, oci::internal::ParseDocument(json));
  Node top(doc, "");
  BH_TRY(OnlyKeys(top, {"id", "config", "guest"}).Context("start spec"));
  StartSpec spec;
  spec.id = kDefaultId;
  spec.guest.upper_size_mib = kDefaultUpperMib;
  BH_TRY(oci::internal::ReadString(top, "id", &spec.id));
  BH_TRY(CheckId(spec.id));
  if (std::optional<Node> guest = top.Member("guest")) BH_TRY(ParseGuest(*guest, &spec.guest));
  std::optional<Node> config = top.Member("config");
  if (!config) return Error("start spec: \"config\" (the bundle's config.json) is missing", EINVAL);
  BH_TRY(config->ExpectObject());
  BH_ASSIGN(spec.config, oci::ParseConfig(Text(*config)).Context("config"));
  spec.config.root.path = root_dir;
  spec.config.hooks = oci::Hooks{};
  BH_TRY(oci::Validate(spec.config).Context("config"));
  if (!spec.config.has_process) return Error("config.process: missing", EINVAL);
  BH_TRY(CheckProcess(spec.config.process, "config.process"));
  return spec;
}

Result<oci::Process> ParseExecSpec(std::string_view json) {
  BH_ASSIGN(nlohmann::json doc, oci::internal::ParseDocument(json));
  Node top(doc, "");
  BH_TRY(OnlyKeys(top, {"process"}).Context("exec spec"));
  std::optional<Node> process = top.Member("process");
  if (!process) return Error("exec spec: \"process\" is missing", EINVAL);
  BH_TRY(process->ExpectObject());
  BH_ASSIGN(oci::Process p, oci::ParseProcessDocument(Text(*process)));
  BH_TRY(CheckProcess(p, "process"));
  return p;
}

}  // namespace bulkhead::vminit
