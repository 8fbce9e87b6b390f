// `start`: release the init waiting on the exec fifo; it then execs the workload. With
// startContainer or poststart hooks, start returns only once the workload runs (or the
// container stopped because a hook failed).
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "base/fs.h"
#include "base/log.h"
#include "runtime/hooks.h"
#include "runtime/stop.h"
#include "runtime/verbs.h"
#include "runtime/vm.h"

namespace bulkhead::runtime {

namespace {

constexpr auto kTakeStartLimit = std::chrono::seconds(10);

bool InitGone(const ContainerState& state) {
  bool zombie = false;
  uint64_t start = ProcessStartTime(state.pid, &zombie);
  return start == 0 || start != state.pid_start_time || zombie;
}

// The init reads the byte we wrote, runs the startContainer hooks and execs the workload;
// execve closes its end of the fifo, which we see as EOF. A failure arrives as text first
// (at least 2 bytes, written at once). Reading before the init took our byte would take it
// ourselves, so first wait until the fifo no longer holds exactly our one byte (the init
// is blocked reading it: that takes microseconds).
Status AwaitWorkload(const ContainerState& state, UniqueFd w, int r) {
  auto limit = std::chrono::steady_clock::now() + kTakeStartLimit;
  for (int i = 1;; ++i) {
    int queued = 0;
    if (ioctl(w.get(), FIONREAD, &queued) != 0) return Error::FromErrno("reading the exec fifo");
    if (queued != 1) break;
    if (i % 64 == 0 && InitGone(state)) return Error("its init exited before it was started");
    if (std::chrono::steady_clock::now() > limit) {
      return Error("its init did not take the start signal", ETIMEDOUT);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  w.reset();
  int flags = fcntl(r, F_GETFL);
  if (flags < 0 || fcntl(r, F_SETFL, flags & ~O_NONBLOCK) != 0) {
    return Error::FromErrno("reading the exec fifo");
  }
  BH_ASSIGN(std::string why, ReadFd(r, 64 * 1024).Context("reading the exec fifo"));
  if (!why.empty()) return Error(why);
  return Ok();
}

}  // namespace

Status Start(const GlobalOptions& g, const std::string& id) {
  StateStore store(g.root);
  BH_ASSIGN(UniqueFd lock, store.Lock(id));
  BH_ASSIGN(ContainerState state, store.Load(id));
  if (state.vm) return StartVm(store, state);
  ContainerStatus status = store.StatusOf(state);
  if (status != ContainerStatus::kCreated) {
    return Error("cannot start container \"" + id + "\": it is " + StatusName(status) +
                     ", not created",
                 EINVAL);
  }
  std::string fifo = store.FifoPath(id);
  // The init holds the fifo open for reading; with no reader left, open fails with ENXIO.
  int fd = open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENXIO) return Error("cannot start container \"" + id + "\": its init has exited");
    return Error::FromErrno("opening " + fifo);
  }
  UniqueFd w(fd);
  bool await = !state.hooks.start_container.empty() || !state.hooks.poststart.empty();
  UniqueFd r;
  if (await) {
    BH_ASSIGN(r, OpenFile(fifo, O_RDONLY | O_NONBLOCK));
  }
  BH_TRY(WriteAll(w.get(), "0").Context("releasing the container init"));
  if (unlink(fifo.c_str()) != 0) return Error::FromErrno("removing " + fifo);
  if (!await) return Ok();

  Status st = AwaitWorkload(state, std::move(w), r.get());
  if (st.ok()) st = RunPoststartHooks(state);
  if (!st.ok()) {
    // runtime.md: a failed startContainer or poststart hook stops the container; `delete`
    // then removes it and runs poststop.
    Status stopped = StopContainer(state);
    if (!stopped.ok()) LogWarning("stopping container \"" + id + "\": " + stopped.error().message());
    return std::move(st).Context("starting container \"" + id + "\"");
  }
  return Ok();
}

}  // namespace bulkhead::runtime
