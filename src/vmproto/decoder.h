// Frames -> messages, incrementally over a byte stream from one sender. Frames may arrive
// split or several to a read. The first malformed frame poisons the decoder: Feed returns one
// error naming what is wrong, then the same error forever, and nothing more is handed out
// (the host ends the sandbox; the guest powers off).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <vector>

#include "base/result.h"
#include "vmproto/message.h"

namespace bulkhead::vmproto {

class Decoder {
 public:
  // `from` is the sender of the bytes this decoder reads: the host decodes kGuestToHost.
  explicit Decoder(Direction from) : from_(from) {}

  // Takes the next bytes of the stream and decodes every frame they complete. Of a frame
  // still incomplete only its bytes so far are kept: never more than the largest frame this
  // sender may send. Messages decoded wait for Next(), so their memory is bounded by what
  // the caller feeds between calls to Next().
  Status Feed(std::span<const uint8_t> bytes);

  // The oldest decoded message; none once the decoder has failed.
  std::optional<Message> Next();

  bool failed() const { return error_.has_value(); }
  // Bytes held of the frame in progress.
  size_t buffered() const { return partial_.size(); }

 private:
  Result<Header> CheckHeader(std::span<const uint8_t> bytes);
  Status Deliver(const Header& h, std::span<const uint8_t> payload);
  Status Fail(Error e);

  Direction from_;
  std::vector<uint8_t> partial_;  // the frame in progress, header first
  std::optional<Header> header_;  // its header, once all of it is in and checked
  std::deque<Message> ready_;
  std::optional<Error> error_;
  uint64_t frame_offset_ = 0;  // stream offset of the frame in progress
  uint64_t frame_index_ = 0;   // frames completed so far
  bool hello_seen_ = false;
};

}  // namespace bulkhead::vmproto
