#include "vmproto/decoder.h"

#include <algorithm>
#include <cstdio>
#include <string>

#include "vmproto/layout.h"

namespace bulkhead::vmproto {

namespace {

std::string Hex8(uint8_t v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", v);
  return buf;
}

}  // namespace

Result<Header> Decoder::CheckHeader(std::span<const uint8_t> b) {
  if (b[0] != kMagic0 || b[1] != kMagic1) {
    return Error("bad magic " + Hex8(b[0]) + " " + Hex8(b[1]) + " (want " + Hex8(kMagic0) + " " +
                 Hex8(kMagic1) + ")");
  }
  Header h{b[2], b[3], LoadLe32(b.data() + 4), LoadLe32(b.data() + 8)};
  if (h.version != kVersion) {
    return Error("unsupported protocol version " + std::to_string(h.version) +
                 " (this side speaks " + std::to_string(kVersion) + ")");
  }
  if (!IsKnownType(h.type)) return Error("unknown type " + Hex8(h.type));
  auto type = static_cast<Type>(h.type);
  std::string name(TypeName(type));
  if (SenderOf(type) != from_) {
    return Error("wrong direction: " + name + " is sent by the " +
                 std::string(DirectionName(SenderOf(type))) + ", not the " +
                 std::string(DirectionName(from_)));
  }
  // The guest's first word is hello, and it says it once: the host learns the version before
  // it acts on anything else.
  if (from_ == Direction::kGuestToHost && (type == Type::kHello) == hello_seen_) {
    return Error(hello_seen_ ? "a second hello" : name + " before hello");
  }
  BH_TRY(CheckChannel(type, h.channel));
  if (h.length < MinPayload(type) || h.length > MaxPayload(type)) {
    std::string range =
        MinPayload(type) == MaxPayload(type)
            ? std::to_string(MinPayload(type))
            : std::to_string(MinPayload(type)) + ".." + std::to_string(MaxPayload(type));
    return Error(name + " payload length " + std::to_string(h.length) + " (must be " + range + ")");
  }
  return h;
}

Status Decoder::Deliver(const Header& h, std::span<const uint8_t> payload) {
  auto type = static_cast<Type>(h.type);
  Result<Message> m = ParsePayload(type, h.channel, payload);
  if (!m.ok()) return std::move(m).error().Context("bad payload");
  // A guard on the layout code: what a frame holds is always of the frame's own type.
  if (TypeOf(*m) != type) {
    return Error("bad payload: " + std::string(TypeName(type)) + " parsed as another type");
  }
  BH_TRY(CheckMessage(*m).Context("bad payload"));
  if (type == Type::kHello) hello_seen_ = true;
  ready_.push_back(std::move(*m));
  frame_offset_ += kHeaderSize + h.length;
  ++frame_index_;
  return Ok();
}

Status Decoder::Fail(Error e) {
  error_ = std::move(e).Context("malformed frame " + std::to_string(frame_index_ + 1) +
                                " from the " + std::string(DirectionName(from_)) + " at byte " +
                                std::to_string(frame_offset_));
  ready_.clear();
  partial_ = {};
  header_.reset();
  return *error_;
}

Status Decoder::Feed(std::span<const uint8_t> in) {
  if (error_) return *error_;
  while (!in.empty()) {
    // A whole frame in the input is decoded where it lies, without a copy.
    if (partial_.empty() && in.size() >= kHeaderSize) {
      Result<Header> h = CheckHeader(in.first(kHeaderSize));
      if (!h.ok()) return Fail(std::move(h).error());
      size_t total = kHeaderSize + h->length;
      if (in.size() >= total) {
        Status s = Deliver(*h, in.subspan(kHeaderSize, h->length));
        if (!s.ok()) return Fail(std::move(s).error());
        in = in.subspan(total);
        continue;
      }
    }
    size_t want = header_ ? kHeaderSize + header_->length : kHeaderSize;
    size_t take = std::min(want - partial_.size(), in.size());
    partial_.insert(partial_.end(), in.begin(), in.begin() + static_cast<ptrdiff_t>(take));
    in = in.subspan(take);
    if (!header_ && partial_.size() == kHeaderSize) {
      Result<Header> h = CheckHeader(partial_);
      if (!h.ok()) return Fail(std::move(h).error());
      header_ = *h;
      // Bounded by the type's limit, checked above; the whole frame, and no more, is kept.
      partial_.reserve(kHeaderSize + h->length);
    }
    if (header_ && partial_.size() == kHeaderSize + header_->length) {
      Status s = Deliver(*header_, std::span<const uint8_t>(partial_).subspan(kHeaderSize));
      if (!s.ok()) return Fail(std::move(s).error());
      partial_.clear();
      header_.reset();
    }
  }
  return Ok();
}

std::optional<Message> Decoder::Next() {
  if (error_ || ready_.empty()) return std::nullopt;
  Message m = std::move(ready_.front());
  ready_.pop_front();
  return m;
}

}  // namespace bulkhead::vmproto
