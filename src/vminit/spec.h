// The JSON that start and exec frames carry (docs/vm-guest.md): the bundle's OCI config plus
// what only the guest needs for start, the OCI process for exec. The host is trusted, but a
// spec that does not parse or check out is an error with the field's path, never a crash.
#pragma once

#include <cstdint>
#include <string>
#include <vector>
#include <string_view>

#include "base/result.h"
#include "oci/config.h"

namespace bulkhead::vminit {

// A volume: the disk with this serial holds an erofs image, mounted at `path` (kVolumesDir/<n>),
// from where the config's bind mount takes it. A writable one gets an overlay there whose
// upper layer is a tmpfs of `size_mib`, and what changed in it goes back to the host as
// volume `number` (<n>) when the container's process has exited.
struct GuestVolume {
  std::string serial;
  std::string path;
  uint32_t number = 0;  // <n> of the path
  bool writable = false;
  uint64_t size_mib = 0;  // writable only
};

struct GuestFacts {
  uint64_t upper_size_mib = 0;  // the overlay's upper tmpfs
  std::vector<GuestVolume> volumes;
};

struct StartSpec {
  std::string id;      // names the container's cgroup in the guest
  oci::Config config;  // root.path rewritten to the guest's overlay; hooks cleared
  GuestFacts guest;
};

// Parses and checks a start spec: {"id", "config", "guest": {"upper_size_mib", "volumes"}}. Unknown
// keys outside "config" are refused (host and guest ship together, so one is a mismatch);
// inside it they are ignored, as the runtime spec allows. The config must validate and have
// a process with args; its root.path is set to `root_dir`, and its hooks are dropped because
// they run on the host.
Result<StartSpec> ParseStartSpec(std::string_view json, const std::string& root_dir);

// Parses and checks an exec spec: {"process": {...}} with args and an absolute cwd.
Result<oci::Process> ParseExecSpec(std::string_view json);

}  // namespace bulkhead::vminit
