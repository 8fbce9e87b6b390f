// Payload bytes <-> typed messages, one layout per type (docs/vm-protocol.md). Both
// directions sit in layout.cc side by side so each parser mirrors its writer.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/result.h"
#include "vmproto/message.h"

namespace bulkhead::vmproto {

// Appends m's payload (no header). m is not checked here: see CheckMessage.
void AppendPayload(const Message& m, std::vector<uint8_t>& out);

// The message in a frame of `type` on `channel` carrying `payload`. Checks the layout: the
// size for the type, reserved bytes zero, known flags and enumerations. The values' ranges are
// CheckMessage's.
Result<Message> ParsePayload(Type type, uint32_t channel, std::span<const uint8_t> payload);

}  // namespace bulkhead::vmproto
