#include "vmproto/decoder.h"

#include <gtest/gtest.h>

#include <string>

#include "vmproto/encoder.h"
#include "vmproto/test_messages.h"

namespace bulkhead::vmproto {
namespace {

using testing::GuestSamples;
using testing::HostSamples;
using Bytes = std::vector<uint8_t>;

Bytes Stream(const std::vector<Message>& msgs) {
  Bytes out;
  for (const Message& m : msgs) {
    Status s = AppendFrame(m, out);
    EXPECT_TRUE(s.ok()) << s.error().message();
  }
  return out;
}

std::vector<Message> Drain(Decoder& d) {
  std::vector<Message> got;
  while (auto m = d.Next()) got.push_back(std::move(*m));
  return got;
}

Direction From(const std::vector<Message>& msgs) {
  return msgs == HostSamples() ? Direction::kHostToGuest : Direction::kGuestToHost;
}

TEST(Decoder, RoundTripOfEveryType) {
  for (const auto& samples : {HostSamples(), GuestSamples()}) {
    Decoder d(From(samples));
    ASSERT_TRUE(d.Feed(Stream(samples)).ok());
    EXPECT_EQ(Drain(d), samples);
    EXPECT_EQ(d.buffered(), 0u);
  }
}

TEST(Decoder, SplitAtEveryByteBoundary) {
  for (const auto& samples : {HostSamples(), GuestSamples()}) {
    Bytes all = Stream(samples);
    for (size_t cut = 0; cut <= all.size(); ++cut) {
      Decoder d(From(samples));
      std::vector<Message> got;
      ASSERT_TRUE(d.Feed(std::span(all).first(cut)).ok()) << cut;
      for (auto& m : Drain(d)) got.push_back(std::move(m));
      ASSERT_TRUE(d.Feed(std::span(all).subspan(cut)).ok()) << cut;
      for (auto& m : Drain(d)) got.push_back(std::move(m));
      EXPECT_EQ(got, samples) << "cut at byte " << cut;
    }
  }
}

TEST(Decoder, OneByteAtATime) {
  Bytes all = Stream(GuestSamples());
  Decoder d(Direction::kGuestToHost);
  std::vector<Message> got;
  for (uint8_t b : all) {
    ASSERT_TRUE(d.Feed(std::span(&b, 1)).ok());
    EXPECT_LE(d.buffered(), kMaxFrameFromGuest);
    for (auto& m : Drain(d)) got.push_back(std::move(m));
  }
  EXPECT_EQ(got, GuestSamples());
}

TEST(Decoder, EmptyFeedIsFine) {
  Decoder d(Direction::kHostToGuest);
  EXPECT_TRUE(d.Feed({}).ok());
  EXPECT_FALSE(d.Next().has_value());
}

// Feeds `bytes` (from the guest after a valid hello, unless they are a hello) and expects the error
// to say `what`.
void ExpectMalformed(Direction from, const Bytes& bytes, const std::string& what) {
  Decoder d(from);
  Bytes all;
  bool hello = bytes.size() > 3 && bytes[3] == static_cast<uint8_t>(Type::kHello);
  if (from == Direction::kGuestToHost && !hello) all = Stream({Hello{kVersion, "6.1"}});
  size_t offset = all.size();
  all.insert(all.end(), bytes.begin(), bytes.end());
  Status s = d.Feed(all);
  ASSERT_FALSE(s.ok()) << "accepted: " << what;
  const std::string& msg = s.error().message();
  EXPECT_NE(msg.find(what), std::string::npos) << msg;
  std::string where = "malformed frame " + std::to_string(offset ? 2 : 1) + " from the " +
                      std::string(DirectionName(from)) + " at byte " + std::to_string(offset);
  EXPECT_EQ(msg.rfind(where, 0), 0u) << msg;
  EXPECT_TRUE(d.failed());
  EXPECT_FALSE(d.Next().has_value()) << "a poisoned decoder handed out a message";
}

void ExpectGuestMalformed(const Bytes& bytes, const std::string& what) {
  ExpectMalformed(Direction::kGuestToHost, bytes, what);
}

using testing::Le32;
using testing::RawFrame;
constexpr auto kStdout = static_cast<uint8_t>(Type::kStdout);
constexpr auto kExitType = static_cast<uint8_t>(Type::kExit);

TEST(Decoder, RejectsBadMagic) {
  Bytes f = RawFrame(kStdout, 1, {1});
  f[0] = 'l';
  f[1] = 's';
  ExpectGuestMalformed(f, "bad magic 0x6c 0x73 (want 0xbe 0x1d)");
}

TEST(Decoder, RejectsOtherVersions) {
  ExpectGuestMalformed(RawFrame(kStdout, 1, {1}, 1),
                       "unsupported protocol version 1 (this side speaks 2)");
  ExpectGuestMalformed(RawFrame(kStdout, 1, {1}, 0), "unsupported protocol version 0");
}

TEST(Decoder, RejectsUnknownTypes) {
  for (unsigned t : {0x00u, 0x09u, 0x40u, 0x4bu, 0xffu}) {
    ExpectGuestMalformed(RawFrame(static_cast<uint8_t>(t), 1, {}), "unknown type");
  }
}

TEST(Decoder, RejectsTheWrongDirection) {
  for (const Message& m : HostSamples()) {
    ExpectMalformed(Direction::kGuestToHost, *Encode(m),
                    "wrong direction: " + std::string(TypeName(TypeOf(m))) +
                        " is sent by the host, not the guest");
  }
  for (const Message& m : GuestSamples()) {
    ExpectMalformed(Direction::kHostToGuest, *Encode(m),
                    "wrong direction: " + std::string(TypeName(TypeOf(m))) +
                        " is sent by the guest, not the host");
  }
}

TEST(Decoder, HelloComesFirstAndOnce) {
  Decoder first(Direction::kGuestToHost);
  Status s = first.Feed(*Encode(Started{1, 5}));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("started before hello"), std::string::npos);
  Decoder twice(Direction::kGuestToHost);
  s = twice.Feed(Stream({Hello{kVersion, "6.1"}, Hello{kVersion, "6.1"}}));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(), "malformed frame 2 from the guest at byte 23: a second hello");
}

TEST(Decoder, RejectsChannelsOutsideTheTypesRange) {
  ExpectGuestMalformed(RawFrame(kStdout, 0, {1}), "stdout on channel 0 (must be 1..65535)");
  ExpectGuestMalformed(RawFrame(kStdout, kMaxChannel + 1, {1}), "stdout on channel 65536");
  ExpectGuestMalformed(RawFrame(static_cast<uint8_t>(Type::kStatsReply), 1, Bytes(32)),
                       "stats-reply on channel 1 (must be 0)");
  ExpectMalformed(Direction::kHostToGuest, RawFrame(static_cast<uint8_t>(Type::kStart), 2, {'{'}),
                  "start on channel 2 (must be 1)");
  ExpectMalformed(Direction::kHostToGuest, RawFrame(static_cast<uint8_t>(Type::kExec), 1, {'{'}),
                  "exec on channel 1 (must be 2..65535)");
}

TEST(Decoder, RejectsLengthsOutsideTheTypesLimit) {
  ExpectGuestMalformed(RawFrame(kStdout, 1, {}), "stdout payload length 0 (must be 1..32768)");
  ExpectGuestMalformed(RawFrame(kExitType, 1, Bytes(7)), "exit payload length 7 (must be 8)");
  ExpectGuestMalformed(RawFrame(kExitType, 1, Bytes(9)), "exit payload length 9 (must be 8)");
  ExpectMalformed(Direction::kHostToGuest,
                  RawFrame(static_cast<uint8_t>(Type::kCloseStdin), 1, {0}),
                  "close-stdin payload length 1 (must be 0)");
}

// An oversized length fails as soon as the header is in: nothing waits for, or buffers,
// the payload it announces.
TEST(Decoder, OversizedLengthFailsAtTheHeader) {
  for (uint32_t len : {uint32_t{kMaxDataChunk + 1}, uint32_t{0xffffffff}}) {
    Decoder d(Direction::kGuestToHost);
    ASSERT_TRUE(d.Feed(*Encode(Hello{kVersion, "6.1"})).ok());
    Bytes header = RawFrame(kStdout, 1, {});
    StoreLe32(header.data() + 8, len);
    Status s = d.Feed(std::span(header).first(kHeaderSize - 1));
    ASSERT_TRUE(s.ok());
    s = d.Feed(std::span(header).subspan(kHeaderSize - 1));
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().message().find("stdout payload length " + std::to_string(len)),
              std::string::npos)
        << s.error().message();
    EXPECT_EQ(d.buffered(), 0u);
  }
}

TEST(Decoder, LimitsExactlyAtTheBoundAreAccepted) {
  Decoder d(Direction::kGuestToHost);
  std::vector<Message> msgs = {
      Hello{kVersion, std::string(kMaxReleaseText, 'r')},
      Data{kMaxChannel, Stream::kStdout, Bytes(kMaxDataChunk, 0xaa)},
      GuestError{kMaxChannel, kMaxErrno, std::string(kMaxErrorText, '~')},
      Exit{1, ExitKind::kSignaled, kMaxSignal, true},
      Started{1, kMaxPid},
      Credit{1, Stream::kStdin, kMaxWindow},
      StatsReply{~0u, ~0ull, ~0ull, kMaxPid},
  };
  ASSERT_TRUE(d.Feed(Stream(msgs)).ok());
  EXPECT_EQ(Drain(d), msgs);
  Decoder h(Direction::kHostToGuest);
  std::vector<Message> host = {Start{std::string(kMaxSpecJson, ' ')},
                               Exec{kMaxChannel, std::string(kMaxSpecJson, ' ')}};
  ASSERT_TRUE(h.Feed(Stream(host)).ok());
  EXPECT_EQ(Drain(h), host);
}

TEST(Decoder, LimitsOnePastTheBoundAreRejected) {
  ExpectGuestMalformed(RawFrame(kStdout, 1, Bytes(kMaxDataChunk + 1)),
                       "stdout payload length 32769 (must be 1..32768)");
  Bytes hello = Le32(kVersion);
  hello.resize(kHelloFixed + kMaxReleaseText + 1, 'r');
  ExpectMalformed(Direction::kGuestToHost, RawFrame(static_cast<uint8_t>(Type::kHello), 0, hello),
                  "hello payload length 73 (must be 9..72)");
  Bytes err(kGuestErrorFixed + kMaxErrorText + 1, 'e');
  std::fill(err.begin(), err.begin() + kGuestErrorFixed, 0);
  ExpectGuestMalformed(RawFrame(static_cast<uint8_t>(Type::kGuestError), 0, err),
                       "guest-error payload length 1033 (must be 9..1032)");
  ExpectMalformed(Direction::kHostToGuest,
                  RawFrame(static_cast<uint8_t>(Type::kStart), 1, Bytes(kMaxSpecJson + 1, ' ')),
                  "start payload length 1048577 (must be 1..1048576)");
}

}  // namespace
}  // namespace bulkhead::vmproto
