#include "oci/default_spec.h"

#include <nlohmann/json.hpp>

#include "oci/seccomp_json.h"

namespace bulkhead::oci {

namespace {

using ojson = nlohmann::ordered_json;

ojson MountJson(const char* destination, const char* type, const char* source,
                std::initializer_list<const char*> options) {
  ojson m;
  m["destination"] = destination;
  m["type"] = type;
  m["source"] = source;
  ojson opts = ojson::array();
  for (const char* o : options) opts.push_back(o);
  if (!opts.empty()) m["options"] = std::move(opts);
  return m;
}

ojson ProcessJson() {
  ojson p;
  p["terminal"] = false;
  p["user"] = {{"uid", 0}, {"gid", 0}};
  p["args"] = {"sh"};
  p["env"] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"};
  p["cwd"] = "/";
  // No capabilities at all: root inside the container is an ordinary user to the kernel.
  ojson caps;
  for (const char* set : {"bounding", "effective", "inheritable", "permitted", "ambient"}) {
    caps[set] = ojson::array();
  }
  p["capabilities"] = std::move(caps);
  // 1024 is within what an unprivileged host allows, so lowering never needs privilege.
  p["rlimits"] = ojson::array({{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}});
  p["noNewPrivileges"] = true;
  return p;
}

ojson MountsJson() {
  ojson mounts = ojson::array();
  mounts.push_back(MountJson("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}));
  mounts.push_back(
      MountJson("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}));
  // No gid=5: inside a user namespace the tty group is usually unmapped and the mount
  // would fail; the pty then belongs to the process's own gid.
  mounts.push_back(MountJson("/dev/pts", "devpts", "devpts",
                             {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}));
  mounts.push_back(MountJson("/dev/shm", "tmpfs", "shm",
                             {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}));
  mounts.push_back(MountJson("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}));
  mounts.push_back(MountJson("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}));
  mounts.push_back(MountJson("/sys/fs/cgroup", "cgroup", "cgroup",
                             {"nosuid", "noexec", "nodev", "relatime", "ro"}));
  mounts.push_back(
      MountJson("/tmp", "tmpfs", "tmpfs", {"nosuid", "nodev", "mode=1777", "size=65536k"}));
  return mounts;
}

ojson LinuxJson(const Seccomp& profile) {
  ojson l;
  // Container root is host uid 100000: nothing the container owns is owned on the host.
  const ojson mapping = ojson::array({{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}});
  l["uidMappings"] = mapping;
  l["gidMappings"] = mapping;
  ojson resources;
  // Deny every device node; the runtime's default devices (null, zero, tty...) stay allowed.
  resources["devices"] = ojson::array({{{"allow", false}, {"access", "rwm"}}});
  resources["memory"] = {{"limit", 536870912}};
  resources["pids"] = {{"limit", 1024}};
  l["resources"] = std::move(resources);
  ojson namespaces = ojson::array();
  for (const char* type : {"pid", "network", "ipc", "uts", "mount", "cgroup", "user"}) {
    namespaces.push_back({{"type", type}});
  }
  l["namespaces"] = std::move(namespaces);
  l["maskedPaths"] = {"/proc/acpi",        "/proc/asound",        "/proc/kcore",
                      "/proc/keys",        "/proc/latency_stats", "/proc/timer_list",
                      "/proc/timer_stats", "/proc/sched_debug",   "/sys/firmware",
                      "/proc/scsi"};
  l["readonlyPaths"] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
  l["seccomp"] = ojson(SeccompToJson(profile));
  return l;
}

}  // namespace

std::string DefaultSpecJson(const Seccomp& seccomp_profile) {
  ojson spec;
  spec["ociVersion"] = "1.0.2";
  spec["process"] = ProcessJson();
  spec["root"] = {{"path", "rootfs"}, {"readonly", true}};
  spec["hostname"] = "bulkhead";
  spec["mounts"] = MountsJson();
  spec["linux"] = LinuxJson(seccomp_profile);
  return spec.dump(2, ' ', false, ojson::error_handler_t::replace) + "\n";
}

}  // namespace bulkhead::oci
