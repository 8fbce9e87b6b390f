#include "vmproto/encoder.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <string>

#include "vmproto/layout.h"
#include "vmproto/test_messages.h"

namespace bulkhead::vmproto {
namespace {

using testing::GuestSamples;
using testing::HostSamples;

void ExpectRejected(const Message& m, const std::string& what) {
  std::vector<uint8_t> out = {1, 2, 3};
  Status s = AppendFrame(m, out);
  ASSERT_FALSE(s.ok()) << what;
  EXPECT_NE(s.error().message().find(what), std::string::npos) << s.error().message();
  EXPECT_EQ(out, (std::vector<uint8_t>{1, 2, 3})) << "a refused message left bytes behind";
}

// The wire layout of docs/vm-protocol.md, byte for byte.
TEST(Encoder, ExitFrameBytes) {
  auto f = Encode(Exit{3, ExitKind::kSignaled, 9, true});
  ASSERT_TRUE(f.ok()) << f.error().message();
  std::vector<uint8_t> want = {0xBE, 0x1D, kVersion, 0x45, 3, 0, 0, 0, 8, 0, 0, 0,  // header
                               2,    1,    0, 0,    9, 0, 0, 0};             // payload
  EXPECT_EQ(*f, want);
}

TEST(Encoder, CreditAndStatsReplyBytes) {
  auto c = Encode(Credit{0x0102, Stream::kStderr, 0x030405});
  ASSERT_TRUE(c.ok());
  std::vector<uint8_t> want = {0xBE, 0x1D, kVersion, 0x08, 0x02, 0x01, 0,    0,    8, 0,
                               0,    0,    2, 0,    0,    0,    0x05, 0x04, 3, 0};
  EXPECT_EQ(*c, want);
  auto r = Encode(StatsReply{1, 0x1122334455667788ull, 2, 3});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), kHeaderSize + kStatsReplySize);
  EXPECT_EQ(LoadLe64(r->data() + kHeaderSize + 8), 0x1122334455667788ull);
  EXPECT_EQ((*r)[kHeaderSize + 8], 0x88) << "little-endian";
}

TEST(Encoder, EveryTypeHasItsNumberAndLength) {
  for (const auto& samples : {HostSamples(), GuestSamples()}) {
    for (const Message& m : samples) {
      auto f = Encode(m);
      ASSERT_TRUE(f.ok()) << TypeName(TypeOf(m)) << ": " << f.error().message();
      EXPECT_EQ((*f)[3], static_cast<uint8_t>(TypeOf(m)));
      EXPECT_EQ(LoadLe32(f->data() + 4), ChannelOf(m));
      EXPECT_EQ(LoadLe32(f->data() + 8), f->size() - kHeaderSize);
    }
  }
}

TEST(Encoder, AppendsAfterWhatIsThere) {
  std::vector<uint8_t> out;
  ASSERT_TRUE(AppendFrame(CloseStdin{1}, out).ok());
  ASSERT_TRUE(AppendFrame(Signal{1, 2}, out).ok());
  EXPECT_EQ(out.size(), 2 * kHeaderSize + kSignalSize);
  EXPECT_EQ(out[kHeaderSize + 3], static_cast<uint8_t>(Type::kSignal));
}

TEST(Encoder, RefusesWhatTheReceiverWouldReject) {
  ExpectRejected(Exec{1, "{}"}, "exec on channel 1 (must be 2..65535)");
  ExpectRejected(Exec{kMaxChannel + 1, "{}"}, "exec on channel 65536");
  ExpectRejected(Start{""}, "start spec is 0 bytes");
  ExpectRejected(Start{std::string(kMaxSpecJson + 1, ' ')}, "start spec is 1048577 bytes");
  ExpectRejected(Data{1, Stream::kStdout, {}}, "stdout data is 0 bytes");
  ExpectRejected(Data{1, Stream::kStdin, std::vector<uint8_t>(kMaxDataChunk + 1)},
                 "stdin data is 32769 bytes");
  ExpectRejected(Data{0, Stream::kStdin, {1}}, "stdin on channel 0 (must be 1..65535)");
  ExpectRejected(Data{1, static_cast<Stream>(3), {1}}, "data names stream 3");
  ExpectRejected(Signal{1, 0}, "signal 0 is not 1..64");
  ExpectRejected(Signal{1, 65}, "signal 65");
  ExpectRejected(Credit{1, Stream::kStdout, 0}, "credit of 0 bytes");
  ExpectRejected(Credit{1, Stream::kStdout, kMaxWindow + 1}, "credit of 1048577 bytes");
  ExpectRejected(Credit{1, static_cast<Stream>(7), 1}, "host-credit names stream 7");
  ExpectRejected(Hello{kVersion + 1, "6.1"}, "hello says protocol version 3 (this side speaks 2)");
  ExpectRejected(Hello{kVersion, ""}, "hello kernel release is 0 bytes");
  ExpectRejected(Hello{kVersion, "6.1\n"}, "outside printable ASCII");
  ExpectRejected(Started{1, 0}, "started pid 0");
  ExpectRejected(Started{1, kMaxPid + 1}, "started pid 4194305");
  ExpectRejected(Exit{1, ExitKind::kExited, 256, false}, "exit code 256 is not 0..255");
  ExpectRejected(Exit{1, ExitKind::kExited, 0, true}, "claims a core dump");
  ExpectRejected(Exit{1, ExitKind::kSignaled, 0, false}, "exit by signal 0");
  ExpectRejected(Exit{1, static_cast<ExitKind>(3), 0, false}, "exit kind 3 is unknown");
  ExpectRejected(StatsReply{1, 0, 0, kMaxPid + 1}, "pid count 4194305");
  ExpectRejected(GuestError{0, kMaxErrno + 1, "x"}, "errno 4096");
  ExpectRejected(GuestError{0, 0, std::string(kMaxErrorText + 1, 'x')}, "text is 1025 bytes");
  ExpectRejected(GuestError{kMaxChannel + 1, 0, "x"}, "guest-error on channel 65536");
}

TEST(Encoder, RefusesBadVolumeEntries) {
  ExpectRejected(VolumeEntry{kMaxVolumes, EntryKind::kDirectory, 0755, 0, "a"}, "names volume 8 (must be 0..7)");
  ExpectRejected(VolumeEntry{0, static_cast<EntryKind>(0), 0, 0, "a"}, "kind 0 is unknown");
  ExpectRejected(VolumeEntry{0, static_cast<EntryKind>(5), 0, 0, "a"}, "kind 5 is unknown");
  ExpectRejected(VolumeEntry{0, EntryKind::kFile, 010000, 1, "a"}, "mode 4096 is over 07777");
  ExpectRejected(VolumeEntry{0, EntryKind::kRemoved, 0644, 0, "a"}, "removal carries a mode");
  ExpectRejected(VolumeEntry{0, EntryKind::kDirectory, 0755, 3, "a"}, "size on a non-file");
  ExpectRejected(VolumeEntry{0, EntryKind::kFile, 0644, kMaxVolumeFile + 1, "a"}, "over 2^40");
  ExpectRejected(VolumeData{{}}, "volume-data is 0 bytes");
  ExpectRejected(VolumeData{std::vector<uint8_t>(kMaxDataChunk + 1)}, "volume-data is 32769 bytes");
  for (const char* bad : {"", "/etc/passwd", "..", "a/../b", "a//b", "a/", "./a", "a/.", "../x"}) {
    ExpectRejected(VolumeEntry{0, EntryKind::kDirectory, 0755, 0, bad}, "volume-entry path");
  }
  ExpectRejected(VolumeEntry{0, EntryKind::kDirectory, 0755, 0, std::string("a\0b", 3)}, "holds a NUL byte");
  ExpectRejected(VolumeEntry{0, EntryKind::kDirectory, 0755, 0, std::string(kMaxVolumePath + 1, 'a')},
                 "is 4097 bytes");
  // Odd but legal names: dots inside, bytes outside ASCII, a trailing space.
  for (const char* ok : {"a", "...", ".hidden/x..y", "caf\xc3\xa9 ", "a/b/c"}) {
    EXPECT_TRUE(Encode(VolumeEntry{0, EntryKind::kDirectory, 0755, 0, ok}).ok()) << ok;
  }
  EXPECT_TRUE(Encode(VolumeEntry{kMaxVolumes - 1, EntryKind::kFile, 07777, kMaxVolumeFile,
                                 std::string(kMaxVolumePath, 'a')}).ok());
}

TEST(Encoder, LimitsAreInclusive) {
  EXPECT_TRUE(Encode(Start{std::string(kMaxSpecJson, ' ')}).ok());
  EXPECT_TRUE(Encode(Data{kMaxChannel, Stream::kStderr, std::vector<uint8_t>(kMaxDataChunk)}).ok());
  EXPECT_TRUE(Encode(Signal{1, kMaxSignal}).ok());
  EXPECT_TRUE(Encode(Started{1, kMaxPid}).ok());
  EXPECT_TRUE(Encode(Hello{kVersion, std::string(kMaxReleaseText, 'r')}).ok());
  EXPECT_TRUE(Encode(GuestError{kMaxChannel, kMaxErrno, std::string(kMaxErrorText, 'e')}).ok());
  EXPECT_TRUE(Encode(Exit{1, ExitKind::kExited, 255, false}).ok());
}

TEST(Message, PrintableTextMakesTextSafeToSend) {
  EXPECT_EQ(PrintableText("a\x1b[2Jb\xc3\xa9\n", 100), "a?[2Jb???");
  EXPECT_EQ(PrintableText("abcdef", 3), "abc");
  EXPECT_EQ(PrintableText("", 3), "?");
  EXPECT_TRUE(Encode(MakeGuestError(1, 2, std::string(5000, '\t'))).ok());
  EXPECT_TRUE(Encode(MakeHello(std::string_view("6.1.0\0x", 7))).ok());
}

TEST(Message, TypeNumbersNoRowHasAreSafe) {
  auto bogus = static_cast<Type>(0x99);
  EXPECT_FALSE(IsKnownType(0x99));
  EXPECT_EQ(TypeName(bogus), "unknown");
  EXPECT_GT(MinPayload(bogus), MaxPayload(bogus)) << "no length passes";
  EXPECT_FALSE(ParsePayload(bogus, 0, {}).ok());
}

TEST(Message, MakeGuestErrorKeepsOnlyRealErrnos) {
  EXPECT_EQ(MakeGuestError(1, 13, "x").err, 13u);
  EXPECT_EQ(MakeGuestError(1, -1, "x").err, 0u);
  EXPECT_EQ(MakeGuestError(1, 100000, "x").err, 0u);
}

TEST(Message, ExitFromWaitStatusAndShellStatus) {
  Exit code = ExitFromWaitStatus(1, W_EXITCODE(7, 0));
  EXPECT_EQ(code, (Exit{1, ExitKind::kExited, 7, false}));
  EXPECT_EQ(ShellStatus(code), 7);
  Exit sig = ExitFromWaitStatus(2, W_EXITCODE(0, SIGKILL));
  EXPECT_EQ(sig, (Exit{2, ExitKind::kSignaled, 9, false}));
  EXPECT_EQ(ShellStatus(sig), 137);
  Exit core = ExitFromWaitStatus(2, W_EXITCODE(0, SIGSEGV) | WCOREFLAG);
  EXPECT_TRUE(core.core_dumped);
  EXPECT_TRUE(Encode(core).ok());
}

}  // namespace
}  // namespace bulkhead::vmproto
