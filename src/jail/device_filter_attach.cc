// The bpf(2) side of the device filter: load, attach, and replace older programs.
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "base/syscall.h"
#include "base/unique_fd.h"
#include "jail/device_filter.h"

namespace bulkhead::jail {

namespace {

long Bpf(int cmd, bpf_attr* attr) {
  return RetryEintr([&] { return ::syscall(SYS_bpf, cmd, attr, sizeof(*attr)); });
}

uint64_t Ptr(const void* p) { return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p)); }

// The license only gates GPL-only helpers, and the filter calls no helper at all.
constexpr char kLicense[] = "Apache-2.0";

Result<UniqueFd> LoadProgram(const std::vector<bpf_insn>& program) {
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = Ptr(program.data());
  attr.insn_cnt = static_cast<uint32_t>(program.size());
  attr.license = Ptr(kLicense);
  long fd = Bpf(BPF_PROG_LOAD, &attr);
  if (fd >= 0) return UniqueFd(static_cast<int>(fd));
  int err = errno;
  // Load again with the verifier's log, only to explain the failure.
  std::string log(4096, '\0');
  attr.log_level = 1;
  attr.log_buf = Ptr(log.data());
  attr.log_size = static_cast<uint32_t>(log.size());
  fd = Bpf(BPF_PROG_LOAD, &attr);
  if (fd >= 0) ::close(static_cast<int>(fd));
  log.resize(::strnlen(log.data(), log.size()));
  Error e = Error::Errno(err, "loading the device filter (BPF_PROG_LOAD)");
  if (!log.empty()) e = Error(e.message() + "; verifier: " + log, err);
  return e;
}

Status Detach(int cgroup_fd, uint32_t id) {
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.prog_id = id;
  long fd = Bpf(BPF_PROG_GET_FD_BY_ID, &attr);
  if (fd < 0) {
    if (errno == ENOENT) return Ok();  // gone already
    return Error::FromErrno("opening device filter program " + std::to_string(id));
  }
  UniqueFd prog(static_cast<int>(fd));
  std::memset(&attr, 0, sizeof attr);
  attr.target_fd = static_cast<uint32_t>(cgroup_fd);
  attr.attach_bpf_fd = static_cast<uint32_t>(prog.get());
  attr.attach_type = BPF_CGROUP_DEVICE;
  if (Bpf(BPF_PROG_DETACH, &attr) != 0 && errno != ENOENT) {
    return Error::FromErrno("detaching device filter program " + std::to_string(id));
  }
  return Ok();
}

}  // namespace

Result<std::vector<uint32_t>> QueryDeviceFilters(int cgroup_dir_fd) {
  std::vector<uint32_t> ids(64);
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.query.target_fd = static_cast<uint32_t>(cgroup_dir_fd);
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  attr.query.prog_ids = Ptr(ids.data());
  attr.query.prog_cnt = static_cast<uint32_t>(ids.size());
  if (Bpf(BPF_PROG_QUERY, &attr) != 0) {
    return Error::FromErrno("querying device filters (BPF_PROG_QUERY)");
  }
  ids.resize(attr.query.prog_cnt);
  return ids;
}

Status AttachDeviceFilter(int cgroup_dir_fd, const std::vector<bpf_insn>& program) {
  BH_ASSIGN(std::vector<uint32_t> old, QueryDeviceFilters(cgroup_dir_fd));
  BH_ASSIGN(UniqueFd prog, LoadProgram(program));
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.target_fd = static_cast<uint32_t>(cgroup_dir_fd);
  attr.attach_bpf_fd = static_cast<uint32_t>(prog.get());
  attr.attach_type = BPF_CGROUP_DEVICE;
  // ALLOW_MULTI lets a nested runtime attach its own filter below this one; both must
  // allow an access.
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  if (Bpf(BPF_PROG_ATTACH, &attr) != 0) {
    // A program attached with other flags cannot be joined; take it away first.
    if (errno != EPERM || old.empty()) {
      return Error::FromErrno("attaching the device filter (BPF_PROG_ATTACH)");
    }
    for (uint32_t id : old) BH_TRY(Detach(cgroup_dir_fd, id));
    old.clear();
    if (Bpf(BPF_PROG_ATTACH, &attr) != 0) {
      return Error::FromErrno("attaching the device filter (BPF_PROG_ATTACH)");
    }
  }
  // The new filter is in place before the old ones go, so no access slips through.
  for (uint32_t id : old) BH_TRY(Detach(cgroup_dir_fd, id));
  return Ok();
}

}  // namespace bulkhead::jail
