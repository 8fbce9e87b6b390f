// CVE-2019-5736: a container whose entry point is "#!/proc/self/exe" makes the kernel run
// the runtime's own binary inside the container, where the workload can keep a descriptor
// to it and reopen it for writing once the runtime exits, replacing the binary the host
// runs next. Without a user namespace the container's root owns that file like the host's
// root does, so dropped capabilities do not stop it.
//
// The verbs that start container processes therefore run from a binary nothing can write
// through: a detached read-only bind mount of the same file (no copy), or, where the kernel
// lacks mount_setattr (before 5.12), a memfd copy sealed against writes.
#pragma once

#include "base/result.h"
#include "base/unique_fd.h"

namespace bulkhead::runtime {

// Whether no one can write through `fd`: it sits on a read-only mount, or is a memfd
// sealed against writes.
Result<bool> IsSealed(int fd);

// An fd that executes the same program as `fd` and cannot be written through: a detached
// read-only bind mount of it, else SealedCopy(fd).
Result<UniqueFd> SealedExecutable(int fd);

// A memfd holding a copy of `fd`'s contents, sealed against every change.
Result<UniqueFd> SealedCopy(int fd);

// Re-executes this process (same argv and environment) from SealedExecutable unless
// /proc/self/exe is sealed already. Returns Ok() without exec'ing when it is; otherwise
// returns only on failure.
Status ReexecSealed(char** argv);

}  // namespace bulkhead::runtime
