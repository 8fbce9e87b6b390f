#include "runtime/state_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "runtime/container_cgroup.h"
#include "runtime/hooks.h"

namespace bulkhead::runtime {

using nlohmann::json;

const char* StatusName(ContainerStatus s) {
  switch (s) {
    case ContainerStatus::kCreating: return "creating";
    case ContainerStatus::kCreated: return "created";
    case ContainerStatus::kRunning: return "running";
    case ContainerStatus::kPaused: return "paused";
    case ContainerStatus::kStopped: return "stopped";
  }
  return "unknown";
}

Status ValidateId(const std::string& id) {
  if (id.empty()) return Error("container id must not be empty", EINVAL);
  // The id names a directory under --root (and by default a cgroup): NAME_MAX bounds it.
  if (id.size() > kMaxIdBytes) {
    return Error("container id is longer than " + std::to_string(kMaxIdBytes) + " bytes", EINVAL);
  }
  if (id == "." || id == "..") return Error("invalid container id \"" + id + "\"", EINVAL);
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '+' || c == '-' || c == '.';
    if (!ok) {
      return Error("invalid container id \"" + id +
                       "\": only letters, digits and _ + - . are allowed",
                   EINVAL);
    }
  }
  return Ok();
}

namespace {

Result<UniqueFd> LockDir(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return Error::FromErrno("opening " + dir);
  UniqueFd lock(fd);
  while (flock(fd, LOCK_EX) != 0) {
    if (errno != EINTR) return Error::FromErrno("locking " + dir);
  }
  return lock;
}

}  // namespace

Result<UniqueFd> StateStore::CreateDir(const std::string& id) const {
  BH_TRY(ValidateId(id));
  BH_TRY(MkdirAll(root_, 0700));
  std::string dir = Dir(id);
  if (mkdir(dir.c_str(), 0711) != 0) {
    if (errno == EEXIST) return Error("container \"" + id + "\" already exists", EEXIST);
    return Error::FromErrno("creating " + dir);
  }
  return LockDir(dir);
}

Result<UniqueFd> StateStore::Lock(const std::string& id) const {
  BH_TRY(ValidateId(id));
  Result<UniqueFd> r = LockDir(Dir(id));
  if (!r.ok() && r.error().errno_value() == ENOENT) {
    return Error("container \"" + id + "\" does not exist", ENOENT);
  }
  return r;
}

std::string StateFileJson(const ContainerState& s) {
  json j = {{"id", s.id},
            {"bundle", s.bundle},
            {"rootfs", s.rootfs},
            {"pid", s.pid},
            {"pid_start_time", s.pid_start_time},
            {"created", s.created},
            {"cgroups_path", s.cgroups_path},
            {"cgroups_enabled", s.cgroups_enabled},
            {"annotations", s.annotations}};
  if (json hooks = HooksToJson(s.hooks); !hooks.empty()) j["hooks"] = std::move(hooks);
  if (s.vm) {
    j["isolation"] = "vm";
    j["vm"] = {{"started", s.vm_started},
               {"inner_pid", s.vm_inner_pid},
               {"inner_start_time", s.vm_inner_start_time},
               {"image", s.vm_image},
               {"guest_kernel", s.vm_guest_kernel}};
  }
  // create refuses paths that are not UTF-8; should one get here, alter it, never throw.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<ContainerState> ParseStateFile(std::string_view text, const std::string& id) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error("corrupt state file", EINVAL);
  ContainerState s;
  auto str = [&](const char* k) { return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : ""; };
  s.id = str("id");
  s.bundle = str("bundle");
  s.rootfs = str("rootfs");
  s.created = str("created");
  s.cgroups_path = str("cgroups_path");
  if (j.contains("pid") && j["pid"].is_number_integer()) s.pid = j["pid"].get<pid_t>();
  if (j.contains("pid_start_time") && j["pid_start_time"].is_number_unsigned()) {
    s.pid_start_time = j["pid_start_time"].get<uint64_t>();
  }
  if (j.contains("cgroups_enabled") && j["cgroups_enabled"].is_boolean()) {
    s.cgroups_enabled = j["cgroups_enabled"].get<bool>();
  }
  if (j.contains("annotations") && j["annotations"].is_object()) {
    for (auto& [k, v] : j["annotations"].items()) {
      if (v.is_string()) s.annotations[k] = v.get<std::string>();
    }
  }
  if (j.contains("hooks")) s.hooks = HooksFromJson(j["hooks"]);
  s.vm = str("isolation") == "vm";
  if (s.vm && j.contains("vm") && j["vm"].is_object()) {
    const json& vm = j["vm"];
    if (vm.contains("started") && vm["started"].is_boolean()) s.vm_started = vm["started"].get<bool>();
    if (vm.contains("inner_pid") && vm["inner_pid"].is_number_integer()) {
      s.vm_inner_pid = vm["inner_pid"].get<pid_t>();
    }
    if (vm.contains("inner_start_time") && vm["inner_start_time"].is_number_unsigned()) {
      s.vm_inner_start_time = vm["inner_start_time"].get<uint64_t>();
    }
    if (vm.contains("image") && vm["image"].is_string()) s.vm_image = vm["image"].get<std::string>();
    if (vm.contains("guest_kernel") && vm["guest_kernel"].is_string()) {
      s.vm_guest_kernel = vm["guest_kernel"].get<std::string>();
    }
  }
  if (s.id != id || s.pid <= 0) return Error("corrupt state file", EINVAL);
  return s;
}

Status StateStore::Save(const ContainerState& s) const {
  return WriteFileAtomic(Dir(s.id) + "/state.json", StateFileJson(s), 0600);
}

Result<ContainerState> StateStore::Load(const std::string& id) const {
  BH_TRY(ValidateId(id));
  std::string path = Dir(id) + "/state.json";
  Result<std::string> text = ReadFile(path, 1 << 20);
  if (!text.ok()) {
    if (text.error().errno_value() == ENOENT) {
      return Error("container \"" + id + "\" does not exist", ENOENT);
    }
    return std::move(text).error();
  }
  Result<ContainerState> s = ParseStateFile(*text, id);
  if (!s.ok()) return Error(path + ": corrupt state file", EINVAL);
  return s;
}

Status StateStore::Remove(const std::string& id) const {
  BH_TRY(ValidateId(id));
  return RemoveAll(Dir(id));
}

Result<std::vector<std::string>> StateStore::List() const {
  std::vector<std::string> ids;
  DIR* d = opendir(root_.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return ids;
    return Error::FromErrno("listing " + root_);
  }
  while (struct dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN) continue;
    if (ValidateId(name).ok()) ids.push_back(name);
  }
  closedir(d);
  std::sort(ids.begin(), ids.end());
  return ids;
}

uint64_t ProcessStartTime(pid_t pid, bool* zombie) {
  Result<std::string> stat = ReadFile("/proc/" + std::to_string(pid) + "/stat", 4096);
  if (!stat.ok()) return 0;
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  size_t close = stat->rfind(')');
  if (close == std::string::npos || close + 2 >= stat->size()) return 0;
  const char* p = stat->c_str() + close + 2;
  if (zombie != nullptr) *zombie = (*p == 'Z' || *p == 'X');
  // p is at field 3 (state); starttime is field 22.
  for (int field = 3; field < 22; ++field) {
    p = strchr(p, ' ');
    if (p == nullptr) return 0;
    ++p;
  }
  return strtoull(p, nullptr, 10);
}

ContainerStatus StateStore::StatusOf(const ContainerState& state) const {
  bool zombie = false;
  uint64_t start = ProcessStartTime(state.pid, &zombie);
  if (start == 0 || start != state.pid_start_time || zombie) return ContainerStatus::kStopped;
  // Checked before the fifo: runc lets a created container be paused, and says "paused".
  if (ContainerFrozen(state)) return ContainerStatus::kPaused;
  // The vm tier: the monitor runs from create on; start hands the guest the workload.
  if (state.vm) return state.vm_started ? ContainerStatus::kRunning : ContainerStatus::kCreated;
  if (PathExists(FifoPath(state.id))) return ContainerStatus::kCreated;
  return ContainerStatus::kRunning;
}

}  // namespace bulkhead::runtime
