#include "runtime/exec_process.h"

#include <charconv>

#include "jail/caps.h"
#include "oci/parse.h"

namespace bulkhead::runtime {

namespace {

Result<uint32_t> ParseId(std::string_view s, const std::string& what) {
  uint32_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) {
    return Error(what + ": \"" + std::string(s) + "\" is not a numeric id", EINVAL);
  }
  return v;
}

Status ApplyUser(const std::string& spec, oci::User* user) {
  size_t colon = spec.find(':');
  BH_ASSIGN(user->uid, ParseId(spec.substr(0, colon), "--user"));
  if (colon != std::string::npos) {
    BH_ASSIGN(user->gid, ParseId(spec.substr(colon + 1), "--user"));
  }
  return Ok();
}

void AddCap(std::vector<std::string>* set, const std::string& cap) {
  for (const auto& c : *set) {
    if (c == cap) return;
  }
  set->push_back(cap);
}

}  // namespace

Result<oci::Process> BuildExecProcess(const oci::Process& base, const std::string& process_json,
                                      const ExecOptions& o) {
  oci::Process p;
  if (!process_json.empty()) {
    BH_ASSIGN(p, oci::ParseProcessDocument(process_json).Context("--process"));
    if (!o.args.empty()) {
      return Error("exec: give the command either in --process or as arguments, not both",
                   EINVAL);
    }
  } else {
    p = base;
    p.args = o.args;
    p.terminal = o.tty;
    // The container's console size belongs to its own terminal, not this one.
    p.console_size.reset();
  }
  if (o.tty) p.terminal = true;
  for (const auto& e : o.env) {
    if (e.find('=') == std::string::npos) {
      return Error("--env \"" + e + "\": expected KEY=VALUE", EINVAL);
    }
    p.env.push_back(e);
  }
  if (!o.cwd.empty()) p.cwd = o.cwd;
  if (!o.user.empty()) BH_TRY(ApplyUser(o.user, &p.user));
  for (uint32_t gid : o.additional_gids) p.user.additional_gids.push_back(gid);
  if (!o.caps.empty()) {
    if (!p.capabilities) p.capabilities.emplace();
    for (const auto& cap : o.caps) {
      for (auto* set : {&p.capabilities->bounding, &p.capabilities->effective,
                        &p.capabilities->permitted, &p.capabilities->inheritable,
                        &p.capabilities->ambient}) {
        AddCap(set, cap);
      }
    }
  }
  if (o.no_new_privs) p.no_new_privileges = true;
  if (!o.apparmor.empty()) p.apparmor_profile = o.apparmor;
  if (!o.process_label.empty()) p.selinux_label = o.process_label;

  if (p.args.empty()) return Error("exec: no command given (args are empty)", EINVAL);
  if (p.cwd.empty() || p.cwd[0] != '/') {
    return Error("exec: process.cwd \"" + p.cwd + "\" is not an absolute path", EINVAL);
  }
  if (p.capabilities) {
    Result<jail::CapSets> caps = jail::ResolveCaps(p.capabilities);
    if (!caps.ok()) return std::move(caps).error().Context("exec");
  }
  return p;
}

}  // namespace bulkhead::runtime
