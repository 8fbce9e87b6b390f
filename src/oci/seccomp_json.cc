#include "oci/seccomp_json.h"

namespace bulkhead::oci {

namespace {

nlohmann::json SyscallToJson(const SeccompSyscall& sc) {
  nlohmann::json j = nlohmann::json::object();
  j["names"] = sc.names;
  j["action"] = sc.action;
  if (sc.errno_ret) j["errnoRet"] = *sc.errno_ret;
  if (!sc.args.empty()) {
    nlohmann::json args = nlohmann::json::array();
    for (const SeccompArg& a : sc.args) {
      nlohmann::json arg = {{"index", a.index}, {"value", a.value}, {"op", a.op}};
      if (a.value_two != 0) arg["valueTwo"] = a.value_two;
      args.push_back(std::move(arg));
    }
    j["args"] = std::move(args);
  }
  return j;
}

}  // namespace

nlohmann::json SeccompToJson(const Seccomp& s) {
  nlohmann::json j = nlohmann::json::object();
  j["defaultAction"] = s.default_action;
  if (s.default_errno_ret) j["defaultErrnoRet"] = *s.default_errno_ret;
  if (!s.architectures.empty()) j["architectures"] = s.architectures;
  if (!s.flags.empty()) j["flags"] = s.flags;
  if (!s.listener_path.empty()) j["listenerPath"] = s.listener_path;
  if (!s.listener_metadata.empty()) j["listenerMetadata"] = s.listener_metadata;
  nlohmann::json syscalls = nlohmann::json::array();
  for (const SeccompSyscall& sc : s.syscalls) syscalls.push_back(SyscallToJson(sc));
  j["syscalls"] = std::move(syscalls);
  return j;
}

}  // namespace bulkhead::oci
