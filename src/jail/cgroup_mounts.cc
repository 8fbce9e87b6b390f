#include "jail/cgroup_mounts.h"

#include <algorithm>
#include <array>
#include <optional>

#include "base/fs.h"

namespace bulkhead::jail {

namespace {

// v1 controllers this runtime knows; anything else in a mount's options (rw, xattr,
// clone_children, release_agent=...) is a mount option, not a controller.
constexpr std::array<std::string_view, 14> kV1Controllers = {
    "cpu",     "cpuacct",  "cpuset",     "memory", "devices", "freezer", "net_cls",
    "net_prio", "blkio",   "perf_event", "pids",   "hugetlb", "rdma",    "misc"};
constexpr std::string_view kSystemdName = "name=systemd";

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t next = s.find(sep, pos);
    if (next == std::string_view::npos) next = s.size();
    out.push_back(s.substr(pos, next - pos));
    pos = next + 1;
  }
  return out;
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string Unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      int v = 0;
      bool octal = true;
      for (size_t j = 1; j <= 3; ++j) {
        char c = s[i + j];
        if (c < '0' || c > '7') octal = false;
        v = v * 8 + (c - '0');
      }
      if (octal) {
        out += static_cast<char>(v);
        i += 3;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

struct MountLine {
  std::string root;
  std::string mount_point;
  std::string fstype;
  std::string super_options;
};

bool ParseMountLine(std::string_view line, MountLine* out) {
  std::vector<std::string_view> f;
  for (std::string_view tok : Split(line, ' ')) {
    if (!tok.empty()) f.push_back(tok);
  }
  // id parent dev root mount-point options [optional...] - fstype source super-options
  auto dash = std::find(f.begin(), f.end(), "-");
  if (f.size() < 6 || dash == f.end() || f.end() - dash < 4) return false;
  out->root = Unescape(f[3]);
  out->mount_point = Unescape(f[4]);
  out->fstype = std::string(dash[1]);
  out->super_options = std::string(dash[3]);
  return true;
}

// The v1 controllers named in a mount's super options, in the kernel's order.
std::vector<std::string> V1ControllersOf(std::string_view super_options) {
  std::vector<std::string> out;
  for (std::string_view opt : Split(super_options, ',')) {
    bool known = opt == kSystemdName ||
                 std::find(kV1Controllers.begin(), kV1Controllers.end(), opt) != kV1Controllers.end();
    if (known) out.emplace_back(opt);
  }
  return out;
}

// A cgroup path from /proc/self/cgroup made relative to a mount of `root`.
std::string RelativeToMount(std::string_view path, std::string_view root) {
  if (root == "/" || root.empty()) return path.empty() ? "/" : std::string(path);
  if (path == root) return "/";
  if (path.size() > root.size() && path.substr(0, root.size()) == root && path[root.size()] == '/') {
    return std::string(path.substr(root.size()));
  }
  return "/";  // outside the mounted subtree: start from the mount root
}

// Finds the caller's cgroup for a hierarchy in /proc/self/cgroup text.
std::string SelfPath(std::string_view self_cgroup, const CgroupHierarchy& h) {
  for (std::string_view line : Split(self_cgroup, '\n')) {
    size_t a = line.find(':');
    if (a == std::string_view::npos) continue;
    size_t b = line.find(':', a + 1);
    if (b == std::string_view::npos) continue;
    std::string_view id = line.substr(0, a);
    std::string_view ctrls = line.substr(a + 1, b - a - 1);
    std::string_view path = line.substr(b + 1);
    bool match = false;
    if (h.v2) {
      match = id == "0" && ctrls.empty();
    } else if (!h.controllers.empty()) {
      for (std::string_view c : Split(ctrls, ',')) match = match || c == h.controllers.front();
    }
    if (match) return RelativeToMount(path, h.mount_root);
  }
  return "/";
}

bool IsAtOrUnder(std::string_view path, std::string_view top) {
  if (top == "/") return true;
  return path.substr(0, top.size()) == top && (path.size() == top.size() || path[top.size()] == '/');
}

// The mounts a path lookup can reach: a later mount on the same point or on a parent hides
// the earlier ones (a private namespace that mounts cgroup2 over /sys/fs/cgroup still lists
// the host's v1 mounts beneath it).
std::vector<MountLine> VisibleMounts(std::string_view mountinfo) {
  std::vector<MountLine> all;
  for (std::string_view line : Split(mountinfo, '\n')) {
    MountLine m;
    if (ParseMountLine(line, &m)) all.push_back(std::move(m));
  }
  std::vector<MountLine> out;
  for (size_t i = 0; i < all.size(); ++i) {
    bool hidden = false;
    for (size_t j = i + 1; j < all.size() && !hidden; ++j) {
      hidden = IsAtOrUnder(all[i].mount_point, all[j].mount_point);
    }
    if (!hidden) out.push_back(std::move(all[i]));
  }
  return out;
}

}  // namespace

bool CgroupHierarchy::Has(std::string_view controller) const {
  return std::find(controllers.begin(), controllers.end(), controller) != controllers.end();
}

const CgroupHierarchy* CgroupMounts::Find(std::string_view controller) const {
  for (const CgroupHierarchy& h : hierarchies) {
    if (h.Has(controller)) return &h;
  }
  return nullptr;
}

const CgroupHierarchy* CgroupMounts::Unified() const {
  for (const CgroupHierarchy& h : hierarchies) {
    if (h.v2) return &h;
  }
  return nullptr;
}

std::string FindCgroup2Mount(std::string_view mountinfo) {
  for (const MountLine& m : VisibleMounts(mountinfo)) {
    if (m.fstype == "cgroup2") return m.mount_point;
  }
  return "";
}

Result<CgroupMounts> DetectCgroupsFrom(std::string_view mountinfo, std::string_view self_cgroup,
                                       std::string_view v2_controllers) {
  CgroupMounts out;
  std::vector<std::string> v1_taken;
  std::optional<CgroupHierarchy> v2;
  for (MountLine& m : VisibleMounts(mountinfo)) {
    if (m.fstype == "cgroup2") {
      if (!v2) {  // the first cgroup2 mount; later ones show the same hierarchy again
        v2.emplace();
        v2->v2 = true;
        v2->mount_point = m.mount_point;
        v2->mount_root = m.root;
      }
      continue;
    }
    if (m.fstype != "cgroup") continue;
    CgroupHierarchy h;
    h.mount_point = m.mount_point;
    h.mount_root = m.root;
    for (std::string& c : V1ControllersOf(m.super_options)) {
      if (std::find(v1_taken.begin(), v1_taken.end(), c) == v1_taken.end()) {
        v1_taken.push_back(c);
        h.controllers.push_back(std::move(c));
      }
    }
    if (!h.controllers.empty()) out.hierarchies.push_back(std::move(h));
  }
  bool have_v1 = !out.hierarchies.empty();
  if (!have_v1 && !v2) return Error("no cgroup or cgroup2 file system is mounted", ENOENT);
  if (v2) {
    // Each controller goes to v1 when v1 has it mounted, else to v2 when v2 offers it.
    auto give = [&](std::string_view c) {
      if (std::find(v1_taken.begin(), v1_taken.end(), c) == v1_taken.end()) {
        v2->controllers.emplace_back(c);
      }
    };
    for (std::string_view tok : Split(v2_controllers, ' ')) {
      while (!tok.empty() && (tok.back() == '\n' || tok.back() == ' ')) tok.remove_suffix(1);
      if (!tok.empty()) give(tok);
    }
    give("freezer");
    give("devices");
    out.hierarchies.push_back(std::move(*v2));
  }
  out.layout = !v2 ? CgroupLayout::kV1 : have_v1 ? CgroupLayout::kHybrid : CgroupLayout::kV2;
  for (CgroupHierarchy& h : out.hierarchies) h.self = SelfPath(self_cgroup, h);
  return out;
}

Result<CgroupMounts> DetectCgroups() {
  BH_ASSIGN(std::string mountinfo, ReadFile("/proc/self/mountinfo"));
  BH_ASSIGN(std::string self, ReadFile("/proc/self/cgroup"));
  std::string controllers;
  std::string v2 = FindCgroup2Mount(mountinfo);
  if (!v2.empty()) {
    BH_ASSIGN(controllers, ReadFile(JoinPath(v2, "cgroup.controllers")));
  }
  return DetectCgroupsFrom(mountinfo, self, controllers).Context("detecting cgroup mounts");
}

std::string_view LayoutName(CgroupLayout layout) {
  switch (layout) {
    case CgroupLayout::kV1: return "v1";
    case CgroupLayout::kV2: return "v2";
    case CgroupLayout::kHybrid: return "hybrid";
  }
  return "?";
}

}  // namespace bulkhead::jail
