// Per-container runtime state under --root: <root>/<id>/state.json, written atomically,
// with an flock on the directory so concurrent verbs on one id are serialised.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "oci/config.h"

namespace bulkhead::runtime {

struct ContainerState {
  std::string id;
  std::string bundle;
  std::string rootfs;
  pid_t pid = 0;
  uint64_t pid_start_time = 0;  // /proc/<pid>/stat starttime, to detect pid reuse
  std::string created;          // RFC 3339
  std::string cgroups_path;     // as resolved at create ("" when cgroups are disabled)
  bool cgroups_enabled = true;
  std::map<std::string, std::string> annotations;
  // The hooks of the config as create read it that later verbs run: startContainer
  // (start then waits for the workload's execve), poststart and poststop.
  oci::Hooks hooks;

  // The vm tier (docs/vm-tier.md): pid is the monitor's (bulkhead-vmm); the monitor runs the
  // VM in a child of its own, recorded so that stopping the VM never leaves it behind.
  bool vm = false;
  bool vm_started = false;      // start sent the workload's spec to the guest
  pid_t vm_inner_pid = 0;       // 0 when the host does not list children in /proc
  uint64_t vm_inner_start_time = 0;
  std::string vm_image;         // the rootfs image's key
  std::string vm_guest_kernel;  // the guest kernel's release, from its hello
};

enum class ContainerStatus { kCreating, kCreated, kRunning, kPaused, kStopped };
const char* StatusName(ContainerStatus s);

// Container ids: letters, digits and _ + - . ; not "." or "..", at most kMaxIdBytes.
inline constexpr size_t kMaxIdBytes = 255;
Status ValidateId(const std::string& id);

// state.json as Save writes it, and read back: fields of the wrong type read as unset; the
// file must name `id` and a pid > 0 ("corrupt state file" otherwise).
std::string StateFileJson(const ContainerState& state);
Result<ContainerState> ParseStateFile(std::string_view text, const std::string& id);

class StateStore {
 public:
  explicit StateStore(std::string root) : root_(std::move(root)) {}

  const std::string& root() const { return root_; }
  std::string Dir(const std::string& id) const { return root_ + "/" + id; }
  std::string FifoPath(const std::string& id) const { return Dir(id) + "/exec.fifo"; }
  // The config.json the container was created from, as read then (`exec` needs it even
  // when the bundle has changed or gone since).
  std::string ConfigPath(const std::string& id) const { return Dir(id) + "/config.json"; }

  // Makes the container's directory, failing with "already exists" if it is there,
  // and returns the lock held on it.
  Result<UniqueFd> CreateDir(const std::string& id) const;
  // Locks an existing container's directory ("does not exist" otherwise).
  Result<UniqueFd> Lock(const std::string& id) const;
  Status Save(const ContainerState& state) const;
  Result<ContainerState> Load(const std::string& id) const;
  Status Remove(const std::string& id) const;
  Result<std::vector<std::string>> List() const;

  // Derives the status from the process, the cgroup freezer and the exec fifo.
  ContainerStatus StatusOf(const ContainerState& state) const;

 private:
  std::string root_;
};

// Field 22 of /proc/<pid>/stat; 0 if the process is gone. *zombie is set when it is one.
uint64_t ProcessStartTime(pid_t pid, bool* zombie = nullptr);

}  // namespace bulkhead::runtime
