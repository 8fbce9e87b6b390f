// The "linux" object of config.json, except resources and seccomp (parse_resources.cc).
#include "oci/parse_internal.h"

namespace bulkhead::oci::internal {

namespace {

Status ParseNamespace(const Node& n, Namespace* out) {
  BH_TRY(n.ExpectObject());
  BH_TRY(ReadString(n, "type", &out->type));
  return ReadString(n, "path", &out->path);
}

Status ParseIdMapping(const Node& n, IdMapping* out) {
  BH_TRY(n.ExpectObject());
  // All three are required: a default of 0 would map root.
  BH_ASSIGN(Node container, Require(n, "containerID"));
  BH_ASSIGN(out->container_id, container.Int<uint32_t>());
  BH_ASSIGN(Node host, Require(n, "hostID"));
  BH_ASSIGN(out->host_id, host.Int<uint32_t>());
  BH_ASSIGN(Node size, Require(n, "size"));
  BH_ASSIGN(out->size, size.Int<uint32_t>());
  return Ok();
}

Status ParseTimeOffsets(const Node& n, Linux* out) {
  BH_TRY(n.ExpectObject());
  for (const auto& [clock, value] : n.json().items()) {
    Node entry(value, n.path() + "." + clock);
    if (entry.is_null()) continue;
    BH_TRY(entry.ExpectObject());
    int64_t secs = 0;
    uint32_t nanosecs = 0;
    BH_TRY(ReadInt(entry, "secs", &secs));
    BH_TRY(ReadInt(entry, "nanosecs", &nanosecs));
    out->time_offsets_secs[clock] = secs;
    out->time_offsets_nanosecs[clock] = nanosecs;
  }
  return Ok();
}

Status ParseDevice(const Node& n, Device* out) {
  BH_TRY(n.ExpectObject());
  BH_TRY(ReadString(n, "path", &out->path));
  BH_TRY(ReadString(n, "type", &out->type));
  BH_TRY(ReadInt(n, "major", &out->major));
  BH_TRY(ReadInt(n, "minor", &out->minor));
  BH_TRY(ReadInt(n, "fileMode", &out->file_mode));
  BH_TRY(ReadInt(n, "uid", &out->uid));
  return ReadInt(n, "gid", &out->gid);
}

}  // namespace

Status ParseLinux(const Node& n, Linux* out) {
  BH_TRY(n.ExpectObject());
  BH_TRY(ReadList(n, "namespaces", &out->namespaces, ParseNamespace));
  BH_TRY(ReadList(n, "uidMappings", &out->uid_mappings, ParseIdMapping));
  BH_TRY(ReadList(n, "gidMappings", &out->gid_mappings, ParseIdMapping));
  if (auto offsets = n.Member("timeOffsets")) BH_TRY(ParseTimeOffsets(*offsets, out));
  BH_TRY(ReadList(n, "devices", &out->devices, ParseDevice));
  BH_TRY(ReadString(n, "cgroupsPath", &out->cgroups_path));
  if (auto res = n.Member("resources")) {
    Resources r;
    BH_TRY(ParseResources(*res, &r));
    out->resources = std::move(r);
  }
  BH_TRY(ReadString(n, "rootfsPropagation", &out->rootfs_propagation));
  if (auto sec = n.Member("seccomp")) {
    Seccomp s;
    BH_TRY(ParseSeccomp(*sec, &s));
    out->seccomp = std::move(s);
  }
  BH_TRY(ReadStringMap(n, "sysctl", &out->sysctl));
  if (auto masked = n.Member("maskedPaths")) {
    BH_ASSIGN(out->masked_paths, masked->Strings());
    out->has_masked_paths = true;
  }
  if (auto ro = n.Member("readonlyPaths")) {
    BH_ASSIGN(out->readonly_paths, ro->Strings());
    out->has_readonly_paths = true;
  }
  return ReadString(n, "mountLabel", &out->mount_label);
}

}  // namespace bulkhead::oci::internal
