// Device access rules for the devices cgroup: the runtime's always-allowed defaults, the
// v1 devices.allow/deny lines, and, for cgroup v2, a BPF_PROG_TYPE_CGROUP_DEVICE program
// that implements the same list (the last matching rule wins; nothing matches -> deny).
#pragma once

#include <linux/bpf.h>

#include <string>
#include <vector>

#include "base/result.h"
#include "oci/config.h"

namespace bulkhead::jail {

// Devices every container may use whatever its config says, as runc allows them: mknod
// of any node (opening it is a separate check), null, zero, full, random, urandom, tty,
// ptmx and the pty slaves (136:*, which also covers a console bound from a pty).
const std::vector<oci::DeviceRule>& DefaultAllowedDevices();

// Allow rules for the nodes listed in linux.devices, which the container is meant to use.
std::vector<oci::DeviceRule> AllowRulesForDevices(const std::vector<oci::Device>& devices);

// The list a cgroup enforces on top of "deny everything": the config's rules, then the
// defaults (last, so a config cannot take them away, matching runc).
std::vector<oci::DeviceRule> EffectiveDeviceRules(const std::vector<oci::DeviceRule>& config_rules);

// Checks type (a, b, c; empty means a), access (r, w, m; empty means rwm) and numbers.
Status ValidateDeviceRule(const oci::DeviceRule& rule);

// The v1 line for devices.allow / devices.deny: "c 1:3 rwm", "b 8:* r", "a".
std::string FormatV1DeviceRule(const oci::DeviceRule& rule);

// Compiles rules (without the defaults; pass EffectiveDeviceRules) into an eBPF program.
// The context is struct bpf_cgroup_dev_ctx: access_type (device type in the low 16 bits,
// access in the high 16), major, minor. Returns 1 to allow, 0 to deny. Rules are checked
// from last to first and the first hit decides; an allow rule hits when it grants every
// requested access, a deny rule when it names any of them.
Result<std::vector<bpf_insn>> CompileDeviceFilter(const std::vector<oci::DeviceRule>& rules);

// Loads a program and attaches it to a cgroup2 directory (BPF_CGROUP_DEVICE, allowing
// nested cgroups their own programs), then detaches the programs this directory had
// before, so applying twice replaces rather than stacks.
Status AttachDeviceFilter(int cgroup_dir_fd, const std::vector<bpf_insn>& program);

// Program IDs attached directly to a cgroup2 directory (for tests and diagnostics).
Result<std::vector<uint32_t>> QueryDeviceFilters(int cgroup_dir_fd);

}  // namespace bulkhead::jail
