#include "vmm/agent/listen_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cstring>

namespace bulkhead::vmm::agent {

Result<UniqueFd> ListenUnix(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) {
    return Error("agent socket path \"" + path + "\": must be 1.." + std::to_string(sizeof addr.sun_path - 1) +
                 " bytes");
  }
  memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return Error::FromErrno("agent socket");
  // bind creates the file with the umask applied: 0177 leaves 0600, with no window in which
  // another user could connect. Single-threaded here, so the process-wide umask is safe.
  mode_t old = umask(0177);
  int rc = bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  int err = errno;
  umask(old);
  if (rc != 0) {
    if (err == EADDRINUSE) return Error("agent socket " + path + ": the path exists already", EEXIST);
    return Error::Errno(err, "binding the agent socket " + path);
  }
  if (listen(fd.get(), 16) != 0) return Error::FromErrno("listening on the agent socket " + path);
  return fd;
}

}  // namespace bulkhead::vmm::agent
