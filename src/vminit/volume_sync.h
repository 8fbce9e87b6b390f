// The guest's half of the write-back of writable volumes (docs/vm-tier.md, "Volumes"). A
// writable volume is an overlay whose upper layer holds exactly what the workload changed:
// directories it made or touched, whole files it wrote, whiteouts (a 0:0 character device) for
// what it deleted, and opaque directories (trusted.overlay.opaque = "y") for a directory it
// deleted and made again. Once the container's process has exited, that upper is sent to the
// host, parents before children, as volume-entry frames and each file's bytes as volume-data.
// Symlinks, devices, fifos and sockets are not carried: they are logged and left out.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "base/result.h"
#include "vmproto/message.h"

namespace bulkhead::vminit {

// Hands one frame to the host; may block to keep what is queued bounded.
using SendFrame = std::function<Status(const vmproto::Message&)>;

// Directory levels below the volume that are walked; deeper ones are logged and left out.
inline constexpr int kMaxVolumeDepth = 128;

// Sends the changes in `upper` as volume `number`. Errors are those of `send`; an entry that
// cannot be read is logged and left out (a file whose bytes fail midway is completed with
// zeros, since its size went first).
Status SendVolumeChanges(uint32_t number, const std::string& upper, const SendFrame& send);

}  // namespace bulkhead::vminit
