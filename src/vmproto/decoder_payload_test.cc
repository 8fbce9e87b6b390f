// Malformed payloads behind well-formed headers, and what a failed decoder does after.
#include <gtest/gtest.h>

#include <string>

#include "vmproto/decoder.h"
#include "vmproto/encoder.h"
#include "vmproto/test_messages.h"

namespace bulkhead::vmproto {
namespace {

using testing::Le32;
using testing::RawFrame;
using Bytes = std::vector<uint8_t>;

Bytes HelloFrame() { return *Encode(Hello{kVersion, "6.1"}); }

// The error from feeding a hello, then one frame of `type` on `channel` with `payload`.
std::string GuestError(Type type, uint32_t channel, const Bytes& payload) {
  Decoder d(Direction::kGuestToHost);
  Bytes all = type == Type::kHello ? Bytes{} : HelloFrame();
  Bytes f = RawFrame(static_cast<uint8_t>(type), channel, payload);
  all.insert(all.end(), f.begin(), f.end());
  Status s = d.Feed(all);
  return s.ok() ? "accepted" : s.error().message();
}

std::string HostError(Type type, uint32_t channel, const Bytes& payload) {
  Decoder d(Direction::kHostToGuest);
  Status s = d.Feed(RawFrame(static_cast<uint8_t>(type), channel, payload));
  return s.ok() ? "accepted" : s.error().message();
}

#define EXPECT_HAS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

Bytes Cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST(DecoderPayload, ReservedBytesMustBeZero) {
  EXPECT_HAS(GuestError(Type::kStarted, 1, Cat({Le32(5), Le32(1)})),
             "bad payload: started reserved bytes is not zero");
  EXPECT_HAS(GuestError(Type::kExit, 1, Bytes{1, 0, 0, 1, 0, 0, 0, 0}),
             "exit reserved bytes is not zero");
  Bytes reply(kStatsReplySize, 0);
  reply[5] = 1;
  EXPECT_HAS(GuestError(Type::kStatsReply, 0, reply), "stats-reply reserved bytes is not zero");
  EXPECT_HAS(GuestError(Type::kGuestError, 0, Cat({Le32(0), Le32(0x100), Bytes{'x'}})),
             "guest-error reserved bytes is not zero");
  EXPECT_HAS(GuestError(Type::kGuestCredit, 1, Bytes{0, 0, 1, 0, 1, 0, 0, 0}),
             "guest-credit reserved bytes is not zero");
}

TEST(DecoderPayload, VolumeEntriesAreCheckedLikeTheEncoderChecksThem) {
  Bytes fixed = Cat({Bytes{0, 3, 0, 0}, Le32(0644), Le32(5), Le32(0)});
  EXPECT_EQ(GuestError(Type::kVolumeEntry, 1, Cat({fixed, Bytes{'a'}})), "accepted");
  EXPECT_HAS(GuestError(Type::kVolumeEntry, 2, Cat({fixed, Bytes{'a'}})),
             "volume-entry on channel 2 (must be 1)");
  EXPECT_HAS(GuestError(Type::kVolumeEntry, 1, fixed), "volume-entry payload length 16 (must be 17..4112)");
  Bytes reserved = fixed;
  reserved[3] = 1;
  EXPECT_HAS(GuestError(Type::kVolumeEntry, 1, Cat({reserved, Bytes{'a'}})),
             "volume-entry reserved bytes is not zero");
  EXPECT_HAS(GuestError(Type::kVolumeEntry, 1, Cat({fixed, Bytes{'.', '.', '/', 'a'}})),
             "volume-entry path: has an empty");
  Bytes kind = fixed;
  kind[1] = 9;
  EXPECT_HAS(GuestError(Type::kVolumeEntry, 1, Cat({kind, Bytes{'a'}})), "volume-entry kind 9 is unknown");
  EXPECT_HAS(GuestError(Type::kVolumeData, 1, Bytes{}), "volume-data payload length 0");
  EXPECT_EQ(GuestError(Type::kVolumeData, 1, Bytes{0, 1, 2}), "accepted");
  EXPECT_HAS(HostError(Type::kVolumeData, 1, Bytes{1}), "wrong direction: volume-data is sent by the guest");
}

TEST(DecoderPayload, UnknownFlagsAndKindsAreRejected) {
  EXPECT_HAS(GuestError(Type::kHello, 0, Cat({Le32(kVersion), Le32(2), Bytes{'6'}})),
             "hello flags 2 hold unknown bits");
  EXPECT_HAS(GuestError(Type::kExit, 1, Bytes{2, 2, 0, 0, 9, 0, 0, 0}),
             "exit flags 2 hold unknown bits");
  EXPECT_HAS(GuestError(Type::kExit, 1, Bytes{0, 0, 0, 0, 0, 0, 0, 0}), "exit kind 0 is unknown");
  EXPECT_HAS(GuestError(Type::kExit, 1, Bytes{3, 0, 0, 0, 0, 0, 0, 0}), "exit kind 3 is unknown");
  EXPECT_HAS(GuestError(Type::kGuestCredit, 1, Bytes{3, 0, 0, 0, 1, 0, 0, 0}),
             "guest-credit stream 3 is unknown");
}

TEST(DecoderPayload, ValuesOutOfRangeAreRejected) {
  EXPECT_HAS(GuestError(Type::kHello, 0, Cat({Le32(9), Le32(0), Bytes{'6'}})),
             "hello says protocol version 9 (this side speaks 2)");
  EXPECT_HAS(GuestError(Type::kHello, 0, Cat({Le32(kVersion), Le32(0), Bytes{'6', 0x1b}})),
             "hello kernel release holds bytes outside printable ASCII");
  EXPECT_HAS(GuestError(Type::kStarted, 1, Cat({Le32(0), Le32(0)})), "started pid 0 is not");
  EXPECT_HAS(GuestError(Type::kExit, 1, Bytes{1, 0, 0, 0, 0, 1, 0, 0}),
             "exit code 256 is not 0..255");
  EXPECT_HAS(GuestError(Type::kExit, 1, Bytes{1, 1, 0, 0, 0, 0, 0, 0}),
             "exit with a code claims a core dump");
  EXPECT_HAS(GuestError(Type::kExit, 1, Bytes{2, 0, 0, 0, 65, 0, 0, 0}),
             "exit by signal 65, not 1..64");
  EXPECT_HAS(GuestError(Type::kGuestCredit, 1, Bytes{0, 0, 0, 0, 0, 0, 0, 0}),
             "credit of 0 bytes is not 1..1048576");
  EXPECT_HAS(GuestError(Type::kGuestCredit, 1, Bytes{1, 0, 0, 0, 1, 0, 0, 0}),
             "guest-credit names stream 1, which its sender does not read");
  EXPECT_HAS(GuestError(Type::kGuestError, 1, Cat({Le32(4096), Le32(0), Bytes{'x'}})),
             "guest-error errno 4096 is over 4095");
  EXPECT_HAS(GuestError(Type::kGuestError, 1, Cat({Le32(1), Le32(0), Bytes{'a', '\n'}})),
             "guest-error text holds bytes outside printable ASCII");
  Bytes reply(kStatsReplySize, 0);
  StoreLe64(reply.data() + 24, uint64_t{kMaxPid} + 1);
  EXPECT_HAS(GuestError(Type::kStatsReply, 0, reply), "stats-reply pid count 4194305 is over");
  EXPECT_HAS(HostError(Type::kSignal, 1, Le32(0)), "signal 0 is not 1..64");
  EXPECT_HAS(HostError(Type::kHostCredit, 1, Bytes{0, 0, 0, 0, 1, 0, 0, 0}),
             "host-credit names stream 0, which its sender does not read");
}

TEST(DecoderPayload, PoisonedStreamStaysFailedAndHandsOutNothing) {
  Decoder d(Direction::kGuestToHost);
  Bytes all = Cat({HelloFrame(), *Encode(Started{1, 7}), RawFrame(0x77, 1, {})});
  Status first = d.Feed(all);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().message(),
            "malformed frame 3 from the guest at byte 43: unknown type 0x77");
  EXPECT_FALSE(d.Next().has_value()) << "frames before the bad one are dropped too";
  EXPECT_EQ(d.buffered(), 0u);
  Status again = d.Feed(*Encode(Started{1, 8}));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().message(), first.error().message());
  EXPECT_FALSE(d.Next().has_value());
  EXPECT_FALSE(d.Feed({}).ok());
}

TEST(DecoderPayload, MessagesNotYetTakenAreDroppedOnFailure) {
  Decoder d(Direction::kGuestToHost);
  ASSERT_TRUE(d.Feed(HelloFrame()).ok());
  ASSERT_TRUE(d.Next().has_value());
  ASSERT_TRUE(d.Feed(*Encode(Started{1, 7})).ok());
  ASSERT_FALSE(d.Feed(Bytes(kHeaderSize, 0)).ok());
  EXPECT_FALSE(d.Next().has_value());
}

// The bytes held of a frame in progress never exceed the largest frame the sender may send.
TEST(DecoderPayload, BufferIsBoundedByOneFrame) {
  Decoder d(Direction::kHostToGuest);
  Bytes all = *Encode(Start{std::string(kMaxSpecJson, 'x')});
  size_t most = 0;
  for (size_t i = 0; i < all.size(); i += 4093) {
    size_t n = std::min<size_t>(4093, all.size() - i);
    ASSERT_TRUE(d.Feed(std::span(all).subspan(i, n)).ok());
    most = std::max(most, d.buffered());
  }
  EXPECT_LE(most, kMaxFrameFromHost);
  EXPECT_GT(most, kMaxSpecJson - 4093) << "the frame was held until its last byte";
  EXPECT_EQ(d.buffered(), 0u);
  auto m = d.Next();
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(std::get<Start>(*m).spec_json.size(), kMaxSpecJson);
}

}  // namespace
}  // namespace bulkhead::vmproto
