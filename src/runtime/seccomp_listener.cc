#include "runtime/seccomp_listener.h"

#include <nlohmann/json.hpp>

#include "base/scm.h"
#include "oci/state.h"

namespace bulkhead::runtime {

// Hands the seccomp notify listener to the agent at linux.seccomp.listenerPath with the
// container process state, as the runtime-spec describes.
Status SendSeccompListener(const oci::Config& config, const std::string& id,
                           const std::string& bundle, const std::string& status, pid_t pid,
                           UniqueFd fd) {
  const oci::Seccomp& s = *config.linux.seccomp;
  if (s.listener_path.empty()) {
    return Error("linux.seccomp: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath");
  }
  BH_ASSIGN(UniqueFd sock, ConnectUnix(s.listener_path).Context("linux.seccomp.listenerPath"));
  oci::State st;
  st.id = id;
  st.status = status;
  st.pid = pid;
  st.bundle = bundle;
  st.annotations = config.annotations;
  nlohmann::json msg = {{"ociVersion", "1.0.2"},
                        {"fds", {"seccompFd"}},
                        {"pid", pid},
                        {"metadata", s.listener_metadata},
                        {"state", nlohmann::json::parse(oci::StateJson(st))}};
  return SendWithFd(sock.get(), msg.dump(), fd.get()).Context("linux.seccomp.listenerPath");
}

}  // namespace bulkhead::runtime
