// Creating, joining and removing a container's cgroup directories.
#include "jail/cgroup.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "base/defer.h"
#include "base/fs.h"
#include "jail/cgroup_knobs.h"
#include "jail/cgroup_util.h"

namespace bulkhead::jail {

namespace {

// The path components of dir below its mount point.
std::vector<std::string> ComponentsBelow(const std::string& mount_point, const std::string& dir) {
  std::vector<std::string> out;
  std::string_view rest(dir);
  rest.remove_prefix(std::min(rest.size(), mount_point.size()));
  size_t pos = 0;
  while (pos <= rest.size()) {
    size_t next = rest.find('/', pos);
    if (next == std::string_view::npos) next = rest.size();
    if (next > pos) out.emplace_back(rest.substr(pos, next - pos));
    pos = next + 1;
  }
  return out;
}

bool HasWord(std::string_view list, std::string_view word) {
  size_t pos = 0;
  while (pos < list.size()) {
    size_t end = list.find_first_of(" \n", pos);
    if (end == std::string_view::npos) end = list.size();
    if (list.substr(pos, end - pos) == word) return true;
    pos = end + 1;
  }
  return false;
}

// v2: a child only gets a controller's files when its parent lists the controller in
// cgroup.subtree_control. Best effort: a parent that holds processes refuses (the "no
// internal processes" rule), and Apply then names the missing file.
void EnableV2Controllers(const std::string& parent, const std::vector<std::string>& controllers) {
  auto available = ReadKnob(parent, "cgroup.controllers");
  auto enabled = ReadKnob(parent, "cgroup.subtree_control");
  if (!available.ok() || !enabled.ok()) return;
  for (const std::string& c : controllers) {
    if (!HasWord(*available, c) || HasWord(*enabled, c)) continue;
    (void)WriteKnob(parent, "cgroup.subtree_control", "+" + c, "enabling controller");
  }
}

// v1 cpuset: a new cgroup starts with empty cpus and mems and refuses processes until
// they are set, so each level inherits its parent's.
Status FillCpuset(const std::string& parent, const std::string& dir) {
  for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
    BH_ASSIGN(std::string mine, ReadKnob(dir, file));
    if (!mine.empty()) continue;
    BH_ASSIGN(std::string theirs, ReadKnob(parent, file));
    BH_TRY(WriteKnob(dir, file, theirs, "copying the parent's cpuset"));
  }
  return Ok();
}

// Makes dir and its missing parents below the mount point, noting what it made.
Status MakeDir(const Cgroup::Dir& d, std::vector<std::string>* made, bool* existed) {
  const CgroupHierarchy& h = d.hierarchy;
  std::string cur = h.mount_point;
  *existed = true;
  for (const std::string& part : ComponentsBelow(h.mount_point, d.path)) {
    std::string parent = cur;
    cur = JoinPath(cur, part);
    if (h.v2) EnableV2Controllers(parent, h.controllers);
    if (::mkdir(cur.c_str(), 0755) == 0) {
      made->push_back(cur);
      *existed = false;
    } else if (errno == EEXIST) {
      *existed = true;
    } else {
      return Error::FromErrno("creating cgroup " + cur);
    }
    if (!h.v2 && h.Has("cpuset")) BH_TRY(FillCpuset(parent, cur));
  }
  return Ok();
}

// rmdir with a short wait while exiting processes drain out of the cgroup.
Status RemoveDirWithRetry(const std::string& dir) {
  auto delay = std::chrono::milliseconds(1);
  for (int attempt = 0;; ++attempt) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return Ok();
    if (errno != EBUSY || attempt >= 12) return Error::FromErrno("removing cgroup " + dir);
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(100));
  }
}

// Removes dir after the cgroups the container may have made below it.
Status RemoveTree(const std::string& dir, int depth) {
  if (depth > 64) return Error("cgroup tree under " + dir + " is too deep", ELOOP);
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return errno == ENOENT ? Ok() : Error::FromErrno("listing " + dir);
  std::vector<std::string> children;
  while (struct dirent* ent = ::readdir(d)) {
    std::string_view name = ent->d_name;
    if (ent->d_type == DT_DIR && name != "." && name != "..") children.push_back(JoinPath(dir, name));
  }
  ::closedir(d);
  for (const std::string& c : children) BH_TRY(RemoveTree(c, depth + 1));
  return RemoveDirWithRetry(dir);
}

}  // namespace

Result<Cgroup> Cgroup::Make(const CgroupMounts& m, const std::string& cgroups_path,
                            const std::string& id) {
  Cgroup cg;
  BH_ASSIGN(cg.path_, NormalizeCgroupsPath(cgroups_path, id));
  cg.layout_ = m.layout;
  for (const CgroupHierarchy& h : m.hierarchies) {
    cg.dirs_.push_back(Dir{h, CgroupDirIn(h, cg.path_)});
  }
  if (cg.dirs_.empty()) return Error("no cgroup hierarchy is mounted", ENOENT);
  return cg;
}

Result<Cgroup> Cgroup::Create(const CgroupMounts& m, const std::string& cgroups_path,
                              const std::string& id) {
  BH_ASSIGN(Cgroup cg, Make(m, cgroups_path, id));
  std::vector<std::string> made;
  Defer undo([&] {
    for (auto it = made.rbegin(); it != made.rend(); ++it) ::rmdir(it->c_str());
  });
  for (const Dir& d : cg.dirs_) {
    bool existed = false;
    BH_TRY(MakeDir(d, &made, &existed).Context("creating " + cg.Describe()));
    if (!existed) continue;
    // Joining a cgroup that already runs something would mix two containers.
    std::vector<pid_t> pids;
    BH_TRY(CollectPids(d.path, &pids));
    if (!pids.empty()) {
      return Error("creating " + cg.Describe() + ": " + d.path + " already holds " +
                   std::to_string(pids.size()) + " process(es)", EEXIST);
    }
  }
  undo.Cancel();
  return cg;
}

Result<Cgroup> Cgroup::Open(const CgroupMounts& m, const std::string& cgroups_path,
                            const std::string& id) {
  return Make(m, cgroups_path, id);
}

Status Cgroup::AddProcess(pid_t pid) {
  std::string value = std::to_string(pid);
  for (const Dir& d : dirs_) {
    BH_TRY(WriteKnob(d.path, "cgroup.procs", value, "adding pid " + value + " to " + Describe()));
  }
  return Ok();
}

Result<std::vector<pid_t>> Cgroup::Pids() const {
  std::vector<pid_t> pids;
  for (const Dir& d : dirs_) {
    Status st = CollectPids(d.path, &pids);
    if (!st.ok() && st.error().errno_value() != ENOENT) {
      return std::move(st).error().Context("listing the processes of " + Describe());
    }
  }
  std::sort(pids.begin(), pids.end());
  pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
  return pids;
}

Status Cgroup::Destroy() {
  Status first;
  for (const Dir& d : dirs_) {
    Status st = RemoveTree(d.path, 0);
    if (!st.ok() && first.ok()) first = std::move(st).Context("destroying " + Describe());
  }
  return first;
}

std::string Cgroup::Describe() const {
  return "cgroup " + path_ + " (" + std::string(LayoutName(layout_)) + ")";
}

bool Cgroup::Exists() const {
  return std::any_of(dirs_.begin(), dirs_.end(), [](const Dir& d) { return PathExists(d.path); });
}

const Cgroup::Dir* Cgroup::DirFor(std::string_view controller) const {
  for (const Dir& d : dirs_) {
    if (d.hierarchy.Has(controller)) return &d;
  }
  return nullptr;
}

}  // namespace bulkhead::jail
