#include "oci/process_json.h"

#include <nlohmann/json.hpp>

namespace bulkhead::oci {

std::string ProcessToJson(const Process& p) {
  nlohmann::json user = {{"uid", p.user.uid}, {"gid", p.user.gid}};
  if (p.user.umask) user["umask"] = *p.user.umask;
  if (!p.user.additional_gids.empty()) user["additionalGids"] = p.user.additional_gids;
  nlohmann::json j = {{"terminal", p.terminal}, {"user", std::move(user)},
                      {"args", p.args},         {"env", p.env},
                      {"cwd", p.cwd},           {"noNewPrivileges", p.no_new_privileges}};
  if (p.console_size) {
    j["consoleSize"] = {{"height", p.console_size->height}, {"width", p.console_size->width}};
  }
  if (p.capabilities) {
    const Capabilities& c = *p.capabilities;
    j["capabilities"] = {{"bounding", c.bounding},       {"effective", c.effective},
                         {"inheritable", c.inheritable}, {"permitted", c.permitted},
                         {"ambient", c.ambient}};
  }
  if (!p.rlimits.empty()) {
    nlohmann::json rl = nlohmann::json::array();
    for (const Rlimit& r : p.rlimits) {
      rl.push_back({{"type", r.type}, {"soft", r.soft}, {"hard", r.hard}});
    }
    j["rlimits"] = std::move(rl);
  }
  if (!p.apparmor_profile.empty()) j["apparmorProfile"] = p.apparmor_profile;
  if (!p.selinux_label.empty()) j["selinuxLabel"] = p.selinux_label;
  if (p.oom_score_adj) j["oomScoreAdj"] = *p.oom_score_adj;
  // Arguments and environment are bytes, not always UTF-8: replaced, not thrown over.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace bulkhead::oci
