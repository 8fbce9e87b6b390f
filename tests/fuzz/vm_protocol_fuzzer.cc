// The host<->guest protocol of the VM tier (src/vmproto): bytes a hostile guest (or a broken
// host) writes to the console port, through the incremental decoder.
//
// Input: byte 0 bit 0 picks the sender (0 host, 1 guest), byte 1 seeds the split of the rest
// into feeds; the rest is the stream. Beyond "no crash" it checks that
// - the stream fed whole and fed in pieces decodes to the same messages and the same error;
// - every message decoded is accepted by the encoder, which writes back exactly the bytes it
//   came from (one canonical encoding, so nothing is accepted that the checks did not see);
// - the decoder never holds more than one largest frame of the sender.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "vmproto/decoder.h"
#include "vmproto/encoder.h"

namespace {

using bulkhead::Status;
using bulkhead::vmproto::Decoder;
using bulkhead::vmproto::Direction;
using bulkhead::vmproto::Message;

[[noreturn]] void Fail(const char* what, const std::string& detail = {}) {
  std::fprintf(stderr, "vm_protocol: %s %s\n", what, detail.c_str());
  std::abort();
}

struct Run {
  std::vector<Message> messages;
  std::string error;  // empty when the stream decoded cleanly
  size_t left = 0;    // bytes of an unfinished last frame
};

// Feeds `stream` in pieces of 1..`most` bytes drawn from `seed` (all at once when most is 0),
// taking messages after each feed.
Run Decode(Direction from, std::span<const uint8_t> stream, uint32_t seed, size_t most) {
  const size_t limit = from == Direction::kHostToGuest ? bulkhead::vmproto::kMaxFrameFromHost
                                                       : bulkhead::vmproto::kMaxFrameFromGuest;
  Decoder d(from);
  Run run;
  while (!stream.empty()) {
    size_t n = stream.size();
    if (most > 0) {
      seed = seed * 1103515245u + 12345u;
      n = std::min(n, 1 + (seed >> 8) % most);
    }
    Status s = d.Feed(stream.first(n));
    stream = stream.subspan(n);
    if (d.buffered() > limit) Fail("decoder holds more than one frame");
    if (!s.ok()) {
      run.error = s.error().message();
      if (d.Next().has_value()) Fail("a failed decoder handed out a message");
      Status again = d.Feed(stream);
      if (again.ok() || again.error().message() != run.error) Fail("the failure did not stick");
      return run;
    }
    while (auto m = d.Next()) run.messages.push_back(std::move(*m));
  }
  run.left = d.buffered();
  return run;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  Direction from = (data[0] & 1) != 0 ? Direction::kGuestToHost : Direction::kHostToGuest;
  uint32_t seed = data[1];
  std::span<const uint8_t> stream(data + 2, size - 2);

  Run whole = Decode(from, stream, 0, 0);
  Run pieces = Decode(from, stream, seed, 1 + (data[0] >> 1));
  if (whole.error != pieces.error)
    Fail("whole and split feeds disagree:", whole.error + " | " + pieces.error);
  if (whole.error.empty() && whole.messages != pieces.messages)
    Fail("whole and split messages differ");

  std::vector<uint8_t> again;
  for (const Message& m : pieces.messages) {
    Status s = bulkhead::vmproto::AppendFrame(m, again);
    if (!s.ok()) Fail("the encoder refuses a decoded message:", s.error().message());
  }
  if (again.size() > stream.size() || !std::equal(again.begin(), again.end(), stream.begin())) {
    Fail("decoded messages do not encode back to their bytes");
  }
  if (whole.error.empty() && again.size() + whole.left != stream.size()) {
    Fail("a clean stream was not all accounted for");
  }
  return 0;
}
