// Passing file descriptors over Unix sockets (SCM_RIGHTS).
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"
#include "base/unique_fd.h"

namespace bulkhead {

// Sends `payload` (non-empty) with `fd` attached; fd < 0 sends no descriptor.
Status SendWithFd(int sock, std::string_view payload, int fd);

struct Received {
  std::string payload;  // empty at EOF
  UniqueFd fd;          // invalid when none was attached
};
// Receives one message of at most max_len bytes; extra descriptors are closed.
Result<Received> RecvWithFd(int sock, size_t max_len);

// Connects a SOCK_STREAM Unix socket to `path` (paths longer than sun_path are
// reached through the parent directory's /proc/self/fd entry).
Result<UniqueFd> ConnectUnix(const std::string& path);

}  // namespace bulkhead
