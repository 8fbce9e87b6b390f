// The runtime configuration file (default /etc/bulkhead/runtime.json; docs/vm-tier.md):
// the default tier and what the vm tier needs on the host (guest kernel, initrd with
// bulkhead-init, monitor, image cache) and the VM size used when the config names none.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"
#include "vmtier/isolation.h"

namespace bulkhead::vmtier {

inline constexpr char kDefaultRuntimeConfigPath[] = "/etc/bulkhead/runtime.json";
inline constexpr char kRuntimeConfigEnv[] = "BULKHEAD_RUNTIME_CONFIG";

struct RuntimeConfig {
  Isolation isolation = Isolation::kContainer;  // "isolation"
  std::string kernel;       // "kernel": <bin>/../lib/bulkhead/vmlinux
  std::string initrd;       // "initrd": <bin>/../lib/bulkhead/initrd.img
  std::string vmm;          // "vmm": <bin>/bulkhead-vmm
  std::string image_cache;  // "image_cache": /var/lib/bulkhead/images
  uint32_t vcpus = 1;                 // "vcpus": without a CPU quota in the config
  uint64_t memory_mib = 256;          // "memory_mib": without a memory limit in the config
  uint64_t memory_overhead_mib = 64;  // "memory_overhead_mib": guest kernel and init, on top of a limit
  uint64_t upper_size_mib = 64;       // "upper_size_mib": the guest's writable layer (tmpfs)
  uint64_t volume_size_mib = 64;      // "volume_size_mib": what a writable volume may take in (tmpfs)
  uint32_t boot_timeout_s = 60;       // "boot_timeout_s": create waits this long for the guest
};

// The defaults, with paths relative to the directory holding the runtime binary.
RuntimeConfig DefaultRuntimeConfig(const std::string& bin_dir);

// Parses the file's text over the defaults. Unknown keys, wrong types, relative paths and
// out-of-range numbers are errors naming `source` and the key.
Result<RuntimeConfig> ParseRuntimeConfig(std::string_view json, const std::string& bin_dir,
                                         std::string_view source);

// The file named by flag_path, else by env_path (BULKHEAD_RUNTIME_CONFIG), else the default
// path. A file named by the flag or the variable must exist; the default one may be absent
// (then the defaults hold).
Result<RuntimeConfig> LoadRuntimeConfig(const std::string& flag_path, const char* env_path,
                                        const std::string& bin_dir);

// The directory of the running binary, from argv[0] (a path, or a name looked up in PATH).
// /proc/self/exe will not do: the runtime re-executes itself from a sealed copy.
Result<std::string> BinaryDir(std::string_view argv0, const char* path_env);

// Fails with one error naming the first missing file of the vm tier (kernel, initrd,
// monitor) and how to provide it.
Status CheckVmAssets(const RuntimeConfig& config);

}  // namespace bulkhead::vmtier
