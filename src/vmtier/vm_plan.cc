#include "vmtier/vm_plan.h"

#include <algorithm>

#include "oci/json_reader.h"
#include "vminit/layout.h"

namespace bulkhead::vmtier {

namespace {

constexpr uint64_t kMiB = 1024 * 1024;
constexpr uint64_t kDefaultCpuPeriodUs = 100000;  // the kernel's CFS default
constexpr uint32_t kMaxVcpus = 32;                 // bulkhead-vmm's limit
constexpr uint64_t kMinMemoryMib = 32;
constexpr uint64_t kMaxMemoryMib = 256 * 1024;
constexpr size_t kMaxGuestId = 64;

}  // namespace

Result<VmSize> SizeFromResources(const std::optional<oci::Resources>& resources,
                                 const RuntimeConfig& config) {
  VmSize size{config.vcpus, config.memory_mib};
  if (!resources) return size;
  const oci::CpuResources cpu = resources->cpu.value_or(oci::CpuResources{});
  if (cpu.quota && *cpu.quota > 0) {
    uint64_t period = cpu.period.value_or(kDefaultCpuPeriodUs);
    if (period == 0) return Error("linux.resources.cpu.period: 0 with a quota", EINVAL);
    uint64_t quota = static_cast<uint64_t>(*cpu.quota);
    uint64_t vcpus = quota / period + (quota % period != 0 ? 1 : 0);
    size.vcpus = static_cast<uint32_t>(std::min<uint64_t>(vcpus, kMaxVcpus));
  }
  const oci::MemoryResources mem = resources->memory.value_or(oci::MemoryResources{});
  if (mem.limit && *mem.limit > 0) {
    uint64_t limit = static_cast<uint64_t>(*mem.limit);
    uint64_t mib = limit / kMiB + (limit % kMiB != 0 ? 1 : 0);
    if (mib > kMaxMemoryMib) {
      return Error("linux.resources.memory.limit: " + std::to_string(limit) +
                       " bytes is more than the " + std::to_string(kMaxMemoryMib) +
                       " MiB a VM can have",
                   EINVAL);
    }
    size.memory_mib = std::clamp(mib + config.memory_overhead_mib, kMinMemoryMib, kMaxMemoryMib);
  }
  return size;
}

Status CheckVmSupport(const oci::Config& config, int preserve_fds) {
  auto unsupported = [](const std::string& what) {
    return Error(what + ": not supported in the vm tier yet (docs/vm-tier.md)", ENOTSUP);
  };
  if (preserve_fds > 0) return unsupported("--preserve-fds");
  const oci::Hooks& h = config.hooks;
  if (!h.prestart.empty() || !h.create_runtime.empty() || !h.create_container.empty() ||
      !h.start_container.empty() || !h.poststart.empty() || !h.poststop.empty()) {
    return unsupported("hooks");
  }
  // A path names a namespace of the host's (a pod's network namespace from CNI, say): the
  // guest has no such file, and the VM no network device to give it.
  const auto& ns = config.linux.namespaces;
  for (size_t i = 0; i < ns.size(); ++i) {
    if (!ns[i].path.empty()) {
      return unsupported("linux.namespaces[" + std::to_string(i) + "] (" + ns[i].type + ") joins " +
                         ns[i].path + ", a namespace of the host's");
    }
  }
  return Ok();
}

std::vector<std::string> MonitorArgs(const MonitorPlan& plan) {
  std::vector<std::string> args = {plan.vmm,
          "--kernel", plan.kernel,
          "--initrd", plan.initrd,
          "--vcpus", std::to_string(plan.size.vcpus),
          "--memory", std::to_string(plan.size.memory_mib),
          "--disk", "id=" + std::string(vminit::kRootfsSerial) + ",path=/proc/self/fd/" +
                        std::to_string(plan.image_fd) + ",ro",
          "--serial", "file:" + plan.serial_log,
          "--agent-socket", plan.agent_socket,
          "--rng"};
  for (const VolumeDisk& v : plan.volumes) {
    args.push_back("--disk");
    args.push_back("id=" + v.volume.serial + ",path=/proc/self/fd/" + std::to_string(v.fd) + ",ro");
  }
  for (const VolumeDisk& v : plan.volumes) {
    if (!v.volume.writable) continue;
    // The path last: the monitor takes the rest of the flag as it is, commas and all.
    args.push_back("--writeback");
    args.push_back("volume=" + std::to_string(v.volume.number) + ",max_mib=" +
                   std::to_string(plan.volume_size_mib) + ",path=" + v.volume.source);
  }
  if (plan.tty) args.push_back("--agent-tty");
  return args;
}

std::string GuestId(const std::string& id) {
  std::string out;
  for (char c : id) {
    if (out.size() == kMaxGuestId) break;
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '-' || c == '.';
    out += plain ? c : '_';
  }
  if (out.empty() || out == "." || out == "..") out = vminit::kDefaultId;
  return out;
}

Result<std::string> BuildStartSpec(std::string_view config_json, const std::string& id,
                                   uint64_t upper_size_mib, const std::vector<Volume>& volumes,
                                   uint64_t volume_size_mib) {
  BH_ASSIGN(nlohmann::json config, oci::internal::ParseDocument(config_json).Context("config.json"));
  if (!config.is_object()) return Error("config.json: not a JSON object", EINVAL);
  nlohmann::json& root = config["root"];
  if (!root.is_object()) root = nlohmann::json::object();
  root["path"] = vminit::kRootDir;
  config.erase("hooks");
  nlohmann::json guest_volumes = nlohmann::json::array();
  for (const Volume& v : volumes) {
    nlohmann::json* mounts = config.contains("mounts") ? &config["mounts"] : nullptr;
    if (mounts == nullptr || !mounts->is_array() || v.mount_index >= mounts->size() ||
        !(*mounts)[v.mount_index].is_object()) {
      return Error("config.json: mounts[" + std::to_string(v.mount_index) + "] is not there",
                   EINVAL);
    }
    (*mounts)[v.mount_index]["source"] = v.GuestSource();
    nlohmann::json gv = {{"serial", v.serial}, {"path", v.guest_dir}};
    if (v.writable) {
      gv["writable"] = true;
      gv["size_mib"] = volume_size_mib;
    }
    guest_volumes.push_back(std::move(gv));
  }
  nlohmann::json guest = {{"upper_size_mib", upper_size_mib}};
  if (!volumes.empty()) guest["volumes"] = std::move(guest_volumes);
  nlohmann::json spec = {{"id", GuestId(id)},
                         {"config", std::move(config)},
                         {"guest", std::move(guest)}};
  return spec.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace bulkhead::vmtier
