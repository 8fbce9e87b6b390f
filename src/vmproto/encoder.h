// Messages -> frames. A message is checked with the receiver's own rules (CheckMessage)
// before it is written, so a frame this side emits is never one the other side rejects.
#pragma once

#include <cstdint>
#include <vector>

#include "base/result.h"
#include "vmproto/message.h"

namespace bulkhead::vmproto {

// Appends the frame for m to out; on error out is left as it was.
Status AppendFrame(const Message& m, std::vector<uint8_t>& out);

// The frame for m alone.
Result<std::vector<uint8_t>> Encode(const Message& m);

}  // namespace bulkhead::vmproto
