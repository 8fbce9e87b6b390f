#include "runtime/hooks.h"

#include "base/fs.h"
#include "base/log.h"
#include "oci/hooks.h"
#include "oci/state.h"

namespace bulkhead::runtime {

namespace {

using nlohmann::json;

json HookToJson(const oci::Hook& h) {
  json j = {{"path", h.path}};
  if (!h.args.empty()) j["args"] = h.args;
  if (!h.env.empty()) j["env"] = h.env;
  if (h.timeout) j["timeout"] = *h.timeout;
  return j;
}

std::vector<std::string> Strings(const json& j, const char* key) {
  std::vector<std::string> out;
  if (!j.contains(key) || !j[key].is_array()) return out;
  for (const json& s : j[key]) {
    if (s.is_string()) out.push_back(s.get<std::string>());
  }
  return out;
}

std::vector<oci::Hook> HookList(const json& j, const char* kind) {
  std::vector<oci::Hook> out;
  if (!j.is_object() || !j.contains(kind) || !j[kind].is_array()) return out;
  for (const json& e : j[kind]) {
    if (!e.is_object() || !e.contains("path") || !e["path"].is_string()) continue;
    oci::Hook h;
    h.path = e["path"].get<std::string>();
    h.args = Strings(e, "args");
    h.env = Strings(e, "env");
    if (e.contains("timeout") && e["timeout"].is_number_integer()) h.timeout = e["timeout"].get<int>();
    out.push_back(std::move(h));
  }
  return out;
}

}  // namespace

std::string HookState(const std::string& id, const std::string& bundle,
                      const std::map<std::string, std::string>& annotations,
                      std::string_view status, pid_t pid) {
  oci::State s;
  s.id = id;
  s.status = std::string(status);
  s.pid = pid;
  s.bundle = bundle;
  s.annotations = annotations;
  return oci::StateJson(s);
}

Status RunCreateRuntimeHooks(const oci::Hooks& hooks, const std::string& bundle,
                             const std::string& state_json) {
  BH_TRY(oci::RunHooks(hooks.prestart, "prestart", state_json, bundle));
  return oci::RunHooks(hooks.create_runtime, "createRuntime", state_json, bundle);
}

Status RunPoststartHooks(const ContainerState& s) {
  return oci::RunHooks(s.hooks.poststart, "poststart",
                       HookState(s.id, s.bundle, s.annotations, "running", s.pid), s.bundle);
}

void RunPoststopHooks(const std::vector<oci::Hook>& poststop, const std::string& id,
                      const std::string& bundle,
                      const std::map<std::string, std::string>& annotations) {
  if (poststop.empty()) return;
  std::string state = HookState(id, bundle, annotations, "stopped", 0);
  // The bundle may be gone by now; the hooks still run, from our own directory.
  std::string cwd = PathExists(bundle) ? bundle : "";
  for (const Error& e : oci::RunAllHooks(poststop, "poststop", state, cwd)) {
    LogWarning("container \"" + id + "\": " + e.message());
  }
}

json HooksToJson(const oci::Hooks& hooks) {
  json j = json::object();
  auto put = [&](const char* kind, const std::vector<oci::Hook>& list) {
    if (list.empty()) return;
    json a = json::array();
    for (const oci::Hook& h : list) a.push_back(HookToJson(h));
    j[kind] = std::move(a);
  };
  put("startContainer", hooks.start_container);
  put("poststart", hooks.poststart);
  put("poststop", hooks.poststop);
  return j;
}

oci::Hooks HooksFromJson(const json& j) {
  oci::Hooks h;
  h.start_container = HookList(j, "startContainer");
  h.poststart = HookList(j, "poststart");
  h.poststop = HookList(j, "poststop");
  return h;
}

}  // namespace bulkhead::runtime
