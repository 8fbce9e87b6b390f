#include "vmtier/runtime_config.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>

#include "base/fs.h"
#include "oci/json_reader.h"

namespace bulkhead::vmtier {

namespace {

using oci::internal::Node;

constexpr uint32_t kMaxVcpus = 32;           // bulkhead-vmm's limit
constexpr uint64_t kMinMemoryMib = 32;       // bulkhead-vmm's limits
constexpr uint64_t kMaxMemoryMib = 256 * 1024;
constexpr uint64_t kMaxUpperMib = 1u << 20;  // the guest init's limit
constexpr uint32_t kMaxBootTimeoutS = 3600;
constexpr size_t kMaxFileBytes = 64 * 1024;

std::string Parent(const std::string& dir) {
  size_t slash = dir.find_last_of('/');
  if (slash == std::string::npos || slash == 0) return "/";
  return dir.substr(0, slash);
}

Status ReadPath(const Node& top, std::string_view key, std::string* out, std::string_view source) {
  std::string value;
  BH_TRY(oci::internal::ReadString(top, key, &value));
  if (value.empty()) return Ok();
  if (value[0] != '/') {
    return Error(std::string(source) + ": \"" + std::string(key) + "\": \"" + value +
                     "\" is not an absolute path",
                 EINVAL);
  }
  *out = value;
  return Ok();
}

template <class T>
Status ReadRange(const Node& top, std::string_view key, T* out, T min, T max,
                 std::string_view source) {
  BH_TRY(oci::internal::ReadInt(top, key, out));
  if (*out < min || *out > max) {
    return Error(std::string(source) + ": \"" + std::string(key) + "\": " + std::to_string(*out) +
                     " is outside " + std::to_string(min) + ".." + std::to_string(max),
                 EINVAL);
  }
  return Ok();
}

bool IsExecutableFile(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

}  // namespace

RuntimeConfig DefaultRuntimeConfig(const std::string& bin_dir) {
  RuntimeConfig c;
  std::string lib = JoinPath(Parent(bin_dir), "lib/bulkhead");
  c.kernel = JoinPath(lib, "vmlinux");
  c.initrd = JoinPath(lib, "initrd.img");
  c.vmm = JoinPath(bin_dir, "bulkhead-vmm");
  c.image_cache = "/var/lib/bulkhead/images";
  return c;
}

Result<RuntimeConfig> ParseRuntimeConfig(std::string_view json, const std::string& bin_dir,
                                         std::string_view source) {
  RuntimeConfig c = DefaultRuntimeConfig(bin_dir);
  BH_ASSIGN(nlohmann::json doc, oci::internal::ParseDocument(json).Context(source));
  Node top(doc, "");
  auto in = [&](Status st) { return std::move(st).Context(source); };
  BH_TRY(in(top.ExpectObject()));
  static const std::set<std::string_view> kKnown = {
      "isolation",  "kernel",     "initrd",          "vmm",           "image_cache",
      "vcpus",      "memory_mib", "memory_overhead_mib", "upper_size_mib", "volume_size_mib", "boot_timeout_s"};
  for (const auto& item : doc.items()) {
    if (kKnown.count(item.key()) == 0) {
      return Error(std::string(source) + ": unknown key \"" + item.key() + "\"", EINVAL);
    }
  }
  std::string isolation;
  BH_TRY(in(oci::internal::ReadString(top, "isolation", &isolation)));
  if (!isolation.empty()) {
    BH_ASSIGN(c.isolation, ParseIsolation(isolation, std::string(source) + ": \"isolation\""));
  }
  BH_TRY(in(ReadPath(top, "kernel", &c.kernel, source)));
  BH_TRY(in(ReadPath(top, "initrd", &c.initrd, source)));
  BH_TRY(in(ReadPath(top, "vmm", &c.vmm, source)));
  BH_TRY(in(ReadPath(top, "image_cache", &c.image_cache, source)));
  BH_TRY(in(ReadRange<uint32_t>(top, "vcpus", &c.vcpus, 1, kMaxVcpus, source)));
  BH_TRY(in(ReadRange<uint64_t>(top, "memory_mib", &c.memory_mib, kMinMemoryMib, kMaxMemoryMib, source)));
  BH_TRY(in(ReadRange<uint64_t>(top, "memory_overhead_mib", &c.memory_overhead_mib, 0, kMaxMemoryMib,
                                source)));
  BH_TRY(in(ReadRange<uint64_t>(top, "upper_size_mib", &c.upper_size_mib, 1, kMaxUpperMib, source)));
  BH_TRY(in(ReadRange<uint64_t>(top, "volume_size_mib", &c.volume_size_mib, 1, kMaxUpperMib, source)));
  BH_TRY(in(ReadRange<uint32_t>(top, "boot_timeout_s", &c.boot_timeout_s, 1, kMaxBootTimeoutS, source)));
  return c;
}

Result<RuntimeConfig> LoadRuntimeConfig(const std::string& flag_path, const char* env_path,
                                        const std::string& bin_dir) {
  std::string path = flag_path;
  std::string named_by = "--runtime-config";
  if (path.empty() && env_path != nullptr && env_path[0] != '\0') {
    path = env_path;
    named_by = kRuntimeConfigEnv;
  }
  bool required = !path.empty();
  if (!required) path = kDefaultRuntimeConfigPath;
  Result<std::string> text = ReadFile(path, kMaxFileBytes);
  if (!text.ok()) {
    if (!required && text.error().errno_value() == ENOENT) return DefaultRuntimeConfig(bin_dir);
    return std::move(text).error().Context("runtime configuration" +
                                          (required ? " (named by " + named_by + ")" : ""));
  }
  return ParseRuntimeConfig(*text, bin_dir, "runtime configuration " + path);
}

Result<std::string> BinaryDir(std::string_view argv0, const char* path_env) {
  std::string found;
  if (argv0.find('/') != std::string_view::npos) {
    found = argv0;
  } else {
    std::string_view dirs = path_env != nullptr ? path_env : "";
    while (found.empty() && !dirs.empty()) {
      size_t colon = dirs.find(':');
      std::string_view dir = dirs.substr(0, colon);
      dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
      std::string candidate = JoinPath(dir.empty() ? "." : dir, argv0);
      if (IsExecutableFile(candidate)) found = candidate;
    }
    if (found.empty()) {
      return Error("cannot find the runtime binary \"" + std::string(argv0) + "\" in PATH", ENOENT);
    }
  }
  char buf[PATH_MAX];
  if (realpath(found.c_str(), buf) == nullptr) return Error::FromErrno("resolving " + found);
  return Parent(buf);
}

Status CheckVmAssets(const RuntimeConfig& config) {
  struct Asset {
    const std::string& path;
    const char* what;
    const char* key;
    const char* hint;
  };
  const Asset assets[] = {
      {config.kernel, "guest kernel", "kernel", "make guest-kernel"},
      {config.initrd, "guest initrd (bulkhead-init)", "initrd", "ninja vm-initrd"},
      {config.vmm, "monitor (bulkhead-vmm)", "vmm", "ninja bulkhead-vmm"},
  };
  for (const Asset& a : assets) {
    struct stat st {};
    if (stat(a.path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      return Error(std::string("vm tier: the ") + a.what + " " + a.path +
                       " does not exist or is not a file (build it with `" + a.hint +
                       "`, or set \"" + a.key + "\" in the runtime configuration " +
                       kDefaultRuntimeConfigPath + " or $" + kRuntimeConfigEnv + ")",
                   ENOENT);
    }
  }
  if (!IsExecutableFile(config.vmm)) {
    return Error("vm tier: the monitor " + config.vmm + " is not executable", EACCES);
  }
  return Ok();
}

}  // namespace bulkhead::vmtier
