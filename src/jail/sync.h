// The typed messages between the runtime (parent) and the container's init (child)
// on a CLOEXEC SOCK_SEQPACKET socketpair. EOF from the child means it exec'd or died.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/unique_fd.h"

namespace bulkhead::jail {

enum class SyncKind : uint8_t {
  kEof = 0,
  kGo = 1,          // parent -> child: ids mapped, cgroups joined; go on
  kReady = 2,       // child -> parent: set up, now waiting for start
  kError = 3,       // child -> parent: setup failed; text says why, err is the errno
  kSeccompFd = 4,   // child -> parent: the seccomp notify listener (fd attached)
  kHooks = 5,       // child -> parent: namespaces and mounts made, pivot_root still to come:
                    // run prestart and createRuntime; answered by kGo (the state attached)
};

struct SyncMsg {
  SyncKind kind = SyncKind::kEof;
  int err = 0;
  std::string text;
  UniqueFd fd;
};

inline constexpr size_t kSyncMaxText = 4096;

Result<std::pair<UniqueFd, UniqueFd>> SyncPair();
Status SendSync(int sock, SyncKind kind, std::string_view text = {}, int err = 0, int fd = -1);
Result<SyncMsg> RecvSync(int sock);

}  // namespace bulkhead::jail
