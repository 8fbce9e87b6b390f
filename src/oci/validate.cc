// Top-level, process, mount and hook checks; linux.* lives in validate_linux.cc.
#include "oci/validate.h"

#include <cctype>
#include <set>

#include "oci/names.h"
#include "oci/validate_internal.h"

namespace bulkhead::oci {

using internal::CheckAbsolutePath;
using internal::CheckNoNul;
using internal::FieldError;
using internal::Indexed;

namespace internal {

Error FieldError(std::string_view field, std::string_view what) {
  std::string msg(field);
  msg += ": ";
  msg += what;
  return Error(std::move(msg), EINVAL);
}

Status CheckNoNul(std::string_view field, std::string_view value) {
  if (value.find('\0') != std::string_view::npos) return FieldError(field, "contains a NUL byte");
  return Ok();
}

Status CheckAbsolutePath(std::string_view field, std::string_view path) {
  if (path.empty()) return FieldError(field, "required");
  if (path.front() != '/') {
    return FieldError(field, "\"" + std::string(path) + "\" is not an absolute path");
  }
  return CheckNoNul(field, path);
}

std::string Indexed(std::string_view field, size_t index) {
  return std::string(field) + "[" + std::to_string(index) + "]";
}

}  // namespace internal

namespace {

// The runtime-spec's major version 1: "1.0.2", "1.1.0-rc.1", "1.2.0+dev".
Status ValidateVersion(const std::string& version) {
  if (version.empty()) return FieldError("ociVersion", "required");
  if (version.size() < 3 || version.compare(0, 2, "1.") != 0 ||
      !std::isdigit(static_cast<unsigned char>(version[2]))) {
    return FieldError("ociVersion", "\"" + version + "\" is not a 1.x version");
  }
  return Ok();
}

Status ValidateCapabilitySet(std::string_view set, const std::vector<std::string>& names) {
  const std::string field = "process.capabilities." + std::string(set);
  for (size_t i = 0; i < names.size(); ++i) {
    if (!CapabilityNumber(names[i]).ok()) {
      return FieldError(Indexed(field, i), "unknown capability \"" + names[i] + "\"");
    }
  }
  return Ok();
}

Status ValidateRlimits(const std::vector<Rlimit>& rlimits) {
  std::set<std::string> seen;
  for (size_t i = 0; i < rlimits.size(); ++i) {
    const Rlimit& r = rlimits[i];
    const std::string field = Indexed("process.rlimits", i);
    if (!RlimitNumber(r.type).ok()) {
      return FieldError(field + ".type", "unknown rlimit \"" + r.type + "\"");
    }
    if (!seen.insert(r.type).second) {
      return FieldError(field + ".type", "duplicate rlimit \"" + r.type + "\"");
    }
    if (r.soft > r.hard) return FieldError(field, "soft limit above hard limit");
  }
  return Ok();
}

Status ValidateEnv(const std::vector<std::string>& env) {
  for (size_t i = 0; i < env.size(); ++i) {
    const std::string field = Indexed("process.env", i);
    BH_TRY(CheckNoNul(field, env[i]));
    size_t eq = env[i].find('=');
    if (eq == std::string::npos) return FieldError(field, "missing '=' in \"" + env[i] + "\"");
    if (eq == 0) return FieldError(field, "empty variable name");
  }
  return Ok();
}

Status ValidateProcess(const Process& p) {
  if (p.args.empty()) return FieldError("process.args", "required and must not be empty");
  if (p.args[0].empty()) return FieldError("process.args[0]", "must not be empty");
  for (size_t i = 0; i < p.args.size(); ++i)
    BH_TRY(CheckNoNul(Indexed("process.args", i), p.args[i]));
  BH_TRY(ValidateEnv(p.env));
  BH_TRY(CheckAbsolutePath("process.cwd", p.cwd));
  if (p.user.umask && *p.user.umask > 0777) {
    return FieldError("process.user.umask", "must be at most 0777");
  }
  if (p.capabilities) {
    const Capabilities& c = *p.capabilities;
    BH_TRY(ValidateCapabilitySet("bounding", c.bounding));
    BH_TRY(ValidateCapabilitySet("effective", c.effective));
    BH_TRY(ValidateCapabilitySet("inheritable", c.inheritable));
    BH_TRY(ValidateCapabilitySet("permitted", c.permitted));
    BH_TRY(ValidateCapabilitySet("ambient", c.ambient));
  }
  BH_TRY(ValidateRlimits(p.rlimits));
  if (p.oom_score_adj && (*p.oom_score_adj < -1000 || *p.oom_score_adj > 1000)) {
    return FieldError("process.oomScoreAdj", "must be within [-1000, 1000]");
  }
  return Ok();
}

Status ValidateMounts(const std::vector<Mount>& mounts) {
  for (size_t i = 0; i < mounts.size(); ++i) {
    const Mount& m = mounts[i];
    const std::string field = Indexed("mounts", i);
    BH_TRY(CheckAbsolutePath(field + ".destination", m.destination));
    BH_TRY(CheckNoNul(field + ".type", m.type));
    BH_TRY(CheckNoNul(field + ".source", m.source));
    for (size_t j = 0; j < m.options.size(); ++j) {
      BH_TRY(CheckNoNul(Indexed(field + ".options", j), m.options[j]));
    }
  }
  return Ok();
}

Status ValidateHookList(std::string_view kind, const std::vector<Hook>& hooks) {
  const std::string base = "hooks." + std::string(kind);
  for (size_t i = 0; i < hooks.size(); ++i) {
    const Hook& h = hooks[i];
    const std::string field = Indexed(base, i);
    BH_TRY(CheckAbsolutePath(field + ".path", h.path));
    for (size_t j = 0; j < h.args.size(); ++j)
      BH_TRY(CheckNoNul(Indexed(field + ".args", j), h.args[j]));
    for (size_t j = 0; j < h.env.size(); ++j)
      BH_TRY(CheckNoNul(Indexed(field + ".env", j), h.env[j]));
    if (h.timeout && *h.timeout <= 0) return FieldError(field + ".timeout", "must be positive");
  }
  return Ok();
}

Status ValidateHooks(const Hooks& h) {
  BH_TRY(ValidateHookList("prestart", h.prestart));
  BH_TRY(ValidateHookList("createRuntime", h.create_runtime));
  BH_TRY(ValidateHookList("createContainer", h.create_container));
  BH_TRY(ValidateHookList("startContainer", h.start_container));
  BH_TRY(ValidateHookList("poststart", h.poststart));
  return ValidateHookList("poststop", h.poststop);
}

Status ValidateAnnotations(const std::map<std::string, std::string>& annotations) {
  for (const auto& [key, value] : annotations) {
    if (key.empty()) return FieldError("annotations", "empty key");
  }
  // The tier selector (see docs/DESIGN): a typo must not silently pick a tier.
  auto it = annotations.find("run.bulkhead.isolation");
  if (it != annotations.end() && it->second != "container" && it->second != "vm") {
    return FieldError("annotations[\"run.bulkhead.isolation\"]",
                      "must be \"container\" or \"vm\", got \"" + it->second + "\"");
  }
  return Ok();
}

}  // namespace

Status Validate(const Config& config) {
  BH_TRY(ValidateVersion(config.oci_version));
  if (config.root.path.empty()) return FieldError("root.path", "required");
  BH_TRY(CheckNoNul("root.path", config.root.path));
  if (!config.has_process) return FieldError("process", "required");
  BH_TRY(ValidateProcess(config.process));
  BH_TRY(ValidateMounts(config.mounts));
  BH_TRY(ValidateHooks(config.hooks));
  BH_TRY(ValidateAnnotations(config.annotations));
  return internal::ValidateLinux(config);
}

}  // namespace bulkhead::oci
