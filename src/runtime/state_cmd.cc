// `state`: the runtime-spec state of one container, plus runc's rootfs and created.
#include <nlohmann/json.hpp>

#include "runtime/state_json.h"
#include "runtime/verbs.h"

namespace bulkhead::runtime {

nlohmann::json StateJsonOf(const StateStore& store, const ContainerState& s) {
  ContainerStatus status = store.StatusOf(s);
  nlohmann::json j = {{"ociVersion", "1.0.2"},
                      {"id", s.id},
                      {"pid", status == ContainerStatus::kStopped ? 0 : s.pid},
                      {"status", StatusName(status)},
                      {"bundle", s.bundle},
                      {"rootfs", s.rootfs},
                      {"created", s.created},
                      {"owner", ""}};
  if (!s.annotations.empty()) j["annotations"] = s.annotations;
  return j;
}

Result<std::string> StateOf(const GlobalOptions& g, const std::string& id) {
  StateStore store(g.root);
  BH_ASSIGN(ContainerState s, store.Load(id));
  return StateJsonOf(store, s).dump(2) + "\n";
}

}  // namespace bulkhead::runtime
