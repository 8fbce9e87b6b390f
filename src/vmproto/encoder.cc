#include "vmproto/encoder.h"

#include <string>

#include "vmproto/layout.h"

namespace bulkhead::vmproto {

Status AppendFrame(const Message& m, std::vector<uint8_t>& out) {
  BH_TRY(CheckMessage(m).Context("encoding " + std::string(TypeName(TypeOf(m)))));
  size_t start = out.size();
  out.resize(start + kHeaderSize);
  AppendPayload(m, out);
  // CheckMessage bounded every payload by kMaxSpecJson, so the length fits in 32 bits.
  auto length = static_cast<uint32_t>(out.size() - start - kHeaderSize);
  uint8_t* h = out.data() + start;
  h[0] = kMagic0;
  h[1] = kMagic1;
  h[2] = kVersion;
  h[3] = static_cast<uint8_t>(TypeOf(m));
  StoreLe32(h + 4, ChannelOf(m));
  StoreLe32(h + 8, length);
  return Ok();
}

Result<std::vector<uint8_t>> Encode(const Message& m) {
  std::vector<uint8_t> out;
  BH_TRY(AppendFrame(m, out));
  return out;
}

}  // namespace bulkhead::vmproto
