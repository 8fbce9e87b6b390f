// "linux.resources" and "linux.seccomp" of config.json.
#include "oci/parse_internal.h"

namespace bulkhead::oci::internal {

namespace {

Status ParseDeviceRule(const Node& n, DeviceRule* out) {
  BH_TRY(n.ExpectObject());
  BH_TRY(ReadBool(n, "allow", &out->allow));
  BH_TRY(ReadString(n, "type", &out->type));
  BH_TRY(ReadInt(n, "major", &out->major));
  BH_TRY(ReadInt(n, "minor", &out->minor));
  return ReadString(n, "access", &out->access);
}

Status ParseMemory(const Node& n, MemoryResources* out) {
  BH_TRY(n.ExpectObject());
  BH_TRY(ReadInt(n, "limit", &out->limit));
  BH_TRY(ReadInt(n, "reservation", &out->reservation));
  BH_TRY(ReadInt(n, "swap", &out->swap));
  BH_TRY(ReadInt(n, "kernel", &out->kernel));
  BH_TRY(ReadInt(n, "swappiness", &out->swappiness));
  return ReadBool(n, "disableOOMKiller", &out->disable_oom_killer);
}

Status ParseCpu(const Node& n, CpuResources* out) {
  BH_TRY(n.ExpectObject());
  BH_TRY(ReadInt(n, "shares", &out->shares));
  BH_TRY(ReadInt(n, "quota", &out->quota));
  BH_TRY(ReadInt(n, "period", &out->period));
  BH_TRY(ReadInt(n, "realtimeRuntime", &out->realtime_runtime));
  BH_TRY(ReadInt(n, "realtimePeriod", &out->realtime_period));
  BH_TRY(ReadString(n, "cpus", &out->cpus));
  BH_TRY(ReadString(n, "mems", &out->mems));
  return ReadInt(n, "idle", &out->idle);
}

Status ParseBlockDeviceId(const Node& n, BlockIoDevice* out) {
  BH_TRY(n.ExpectObject());
  BH_ASSIGN(Node major, Require(n, "major"));
  BH_ASSIGN(out->major, major.Int<int64_t>());
  BH_ASSIGN(Node minor, Require(n, "minor"));
  BH_ASSIGN(out->minor, minor.Int<int64_t>());
  return Ok();
}

Status ParseWeightDevice(const Node& n, BlockIoDevice* out) {
  BH_TRY(ParseBlockDeviceId(n, out));
  BH_TRY(ReadInt(n, "weight", &out->weight));
  return ReadInt(n, "leafWeight", &out->leaf_weight);
}

// Throttle entries carry a required rate.
Status ParseThrottleDevice(const Node& n, BlockIoDevice* out) {
  BH_TRY(ParseBlockDeviceId(n, out));
  BH_ASSIGN(Node rate, Require(n, "rate"));
  BH_ASSIGN(out->rate, rate.Int<uint64_t>());
  return Ok();
}

Status ParseHugepageLimit(const Node& n, HugepageLimit* out) {
  BH_TRY(n.ExpectObject());
  BH_ASSIGN(Node size, Require(n, "pageSize"));
  BH_ASSIGN(out->page_size, size.String());
  BH_ASSIGN(Node limit, Require(n, "limit"));
  BH_ASSIGN(out->limit, limit.Int<uint64_t>());
  return Ok();
}

Status ParseBlockIo(const Node& n, BlockIoResources* out) {
  BH_TRY(n.ExpectObject());
  BH_TRY(ReadInt(n, "weight", &out->weight));
  BH_TRY(ReadInt(n, "leafWeight", &out->leaf_weight));
  BH_TRY(ReadList(n, "weightDevice", &out->weight_device, ParseWeightDevice));
  BH_TRY(ReadList(n, "throttleReadBpsDevice", &out->throttle_read_bps, ParseThrottleDevice));
  BH_TRY(ReadList(n, "throttleWriteBpsDevice", &out->throttle_write_bps, ParseThrottleDevice));
  BH_TRY(ReadList(n, "throttleReadIOPSDevice", &out->throttle_read_iops, ParseThrottleDevice));
  return ReadList(n, "throttleWriteIOPSDevice", &out->throttle_write_iops, ParseThrottleDevice);
}

Status ParseSeccompArg(const Node& n, SeccompArg* out) {
  BH_TRY(n.ExpectObject());
  BH_ASSIGN(Node index, Require(n, "index"));
  BH_ASSIGN(out->index, index.Int<uint32_t>());
  BH_ASSIGN(Node value, Require(n, "value"));
  BH_ASSIGN(out->value, value.Int<uint64_t>());
  BH_TRY(ReadInt(n, "valueTwo", &out->value_two));
  BH_ASSIGN(Node op, Require(n, "op"));
  BH_ASSIGN(out->op, op.String());
  return Ok();
}

Status ParseSeccompSyscall(const Node& n, SeccompSyscall* out) {
  BH_TRY(n.ExpectObject());
  BH_TRY(ReadStrings(n, "names", &out->names));
  BH_TRY(ReadString(n, "action", &out->action));
  BH_TRY(ReadInt(n, "errnoRet", &out->errno_ret));
  return ReadList(n, "args", &out->args, ParseSeccompArg);
}

}  // namespace

Status ParseResources(const Node& n, Resources* out) {
  BH_TRY(n.ExpectObject());
  BH_TRY(ReadList(n, "devices", &out->devices, ParseDeviceRule));
  if (auto mem = n.Member("memory")) {
    MemoryResources m;
    BH_TRY(ParseMemory(*mem, &m));
    out->memory = m;
  }
  if (auto cpu = n.Member("cpu")) {
    CpuResources c;
    BH_TRY(ParseCpu(*cpu, &c));
    out->cpu = std::move(c);
  }
  if (auto pids = n.Member("pids")) {
    BH_TRY(pids->ExpectObject());
    BH_TRY(ReadInt(*pids, "limit", &out->pids_limit));
  }
  if (auto bio = n.Member("blockIO")) {
    BlockIoResources b;
    BH_TRY(ParseBlockIo(*bio, &b));
    out->block_io = std::move(b);
  }
  BH_TRY(ReadList(n, "hugepageLimits", &out->hugepage_limits, ParseHugepageLimit));
  return ReadStringMap(n, "unified", &out->unified);
}

Status ParseSeccomp(const Node& n, Seccomp* out) {
  BH_TRY(n.ExpectObject());
  BH_TRY(ReadString(n, "defaultAction", &out->default_action));
  BH_TRY(ReadInt(n, "defaultErrnoRet", &out->default_errno_ret));
  BH_TRY(ReadStrings(n, "architectures", &out->architectures));
  BH_TRY(ReadStrings(n, "flags", &out->flags));
  BH_TRY(ReadString(n, "listenerPath", &out->listener_path));
  BH_TRY(ReadString(n, "listenerMetadata", &out->listener_metadata));
  return ReadList(n, "syscalls", &out->syscalls, ParseSeccompSyscall);
}

}  // namespace bulkhead::oci::internal
