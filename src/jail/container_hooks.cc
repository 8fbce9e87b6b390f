#include "jail/container_hooks.h"

#include <limits.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "jail/sync.h"
#include "oci/hooks.h"

namespace bulkhead::jail {

namespace {

// The state is as large as the annotations make it: it travels in a memfd, not in the
// bounded sync message.
constexpr size_t kStateMax = 16u << 20;

// Children a hook left behind were reparented to us when we are the namespace's pid 1;
// collect the ones that have ended, so the workload does not inherit zombies.
void ReapStrays() {
  while (waitpid(-1, nullptr, WNOHANG) > 0) {
  }
}

}  // namespace

bool StopsForHooks(const oci::Config& config) {
  const oci::Hooks& h = config.hooks;
  return !h.prestart.empty() || !h.create_runtime.empty() || !h.create_container.empty() ||
         !h.start_container.empty();
}

Result<std::string> RunCreateHooks(const oci::Config& config, const std::string& rootfs,
                                   int sync) {
  BH_TRY(SendSync(sync, SyncKind::kHooks).Context("asking the runtime to run hooks"));
  BH_ASSIGN(SyncMsg msg, RecvSync(sync));
  if (msg.kind != SyncKind::kGo || !msg.fd.valid()) {
    return Error("the runtime went away while running hooks", EPIPE);
  }
  if (lseek(msg.fd.get(), 0, SEEK_SET) != 0) return Error::FromErrno("reading the hook state");
  BH_ASSIGN(std::string state, ReadFd(msg.fd.get(), kStateMax).Context("reading the hook state"));
  Status st = oci::RunHooks(config.hooks.create_container, "createContainer", state, rootfs);
  ReapStrays();
  BH_TRY(std::move(st));
  return state;
}

Status RunStartContainerHooks(const oci::Config& config, const std::string& state_json) {
  if (config.hooks.start_container.empty()) return Ok();
  auto state = nlohmann::ordered_json::parse(state_json, nullptr, false);
  if (state.is_discarded() || !state.is_object()) {
    return Error("hooks.startContainer: the container state is not JSON", EINVAL);
  }
  state["status"] = "created";
  std::string text = state.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  Status st = oci::RunHooks(config.hooks.start_container, "startContainer", text);
  ReapStrays();
  return st;
}

void FailStart(int exec_fifo, const Error& e) {
  // One write of at most PIPE_BUF bytes arrives whole; `start` tells it from its own
  // one-byte signal by its length.
  std::string msg = e.message();
  if (msg.size() < 2) msg = "startContainer: " + msg;
  if (msg.size() > PIPE_BUF) msg.resize(PIPE_BUF);
  (void)WriteAll(exec_fifo, msg);
  _exit(1);
}

Status SendHookState(int sync, const std::string& state_json) {
  int fd = memfd_create("bulkhead-hook-state", MFD_CLOEXEC);
  if (fd < 0) return Error::FromErrno("memfd_create for the hook state");
  UniqueFd memfd(fd);
  BH_TRY(WriteAll(fd, state_json).Context("writing the hook state"));
  return SendSync(sync, SyncKind::kGo, {}, 0, fd).Context("handing the hook state to the init");
}

}  // namespace bulkhead::jail
