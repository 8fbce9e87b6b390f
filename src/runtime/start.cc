// `start`: release the init waiting on the exec fifo; it then execs the workload.
#include <fcntl.h>
#include <unistd.h>

#include "base/fs.h"
#include "runtime/verbs.h"

namespace bulkhead::runtime {

Status Start(const GlobalOptions& g, const std::string& id) {
  StateStore store(g.root);
  BH_ASSIGN(UniqueFd lock, store.Lock(id));
  BH_ASSIGN(ContainerState state, store.Load(id));
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
  BH_TRY(WriteAll(fd, "0").Context("releasing the container init"));
  if (unlink(fifo.c_str()) != 0) return Error::FromErrno("removing " + fifo);
  return Ok();
}

}  // namespace bulkhead::runtime
