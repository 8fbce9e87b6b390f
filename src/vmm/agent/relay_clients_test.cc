// The relay's host clients: who may send what, where the guest's answers go, what a client
// that leaves takes with it, and the bounds on clients and their buffers.
#include <gtest/gtest.h>

#include "vmm/agent/relay.h"
#include "vmm/agent/relay_test_rig.h"

namespace bulkhead::vmm::agent {
namespace {

using namespace testing;

TEST(AgentRelayClients, ExecChannelsBelongToTheirClient) {
  Rig rig;
  Peer& a = rig.Started();
  Peer& b = rig.Connect();
  a.Send(Exec{2, R"({"process":{"args":["ls"]}})"});
  rig.Settle();
  ASSERT_EQ(rig.guest.All<Exec>().size(), 1u);

  // b may not touch a's process; a may.
  b.Send(Data{2, Stream::kStdin, {'x'}});
  b.Send(Signal{2, 15});
  b.Send(Resize{2, 24, 80});
  b.Send(CloseStdin{2});
  rig.Settle();
  EXPECT_EQ(b.All<GuestError>().size(), 4u);
  EXPECT_NE(LastError(b).find("channel 2 was not opened by this client's exec"), std::string::npos) << LastError(b);
  a.Send(Data{2, Stream::kStdin, {'y'}});
  a.Send(Signal{2, 15});
  rig.Settle();
  ASSERT_EQ(rig.guest.All<Data>().size(), 1u);
  EXPECT_EQ(rig.guest.All<Signal>().size(), 1u);

  // No client sends stdin, resize or close-stdin for the main process; anyone may signal it.
  a.Send(Data{1, Stream::kStdin, {'z'}});
  a.Send(Resize{1, 1, 1});
  b.Send(Signal{1, 9});
  rig.Settle();
  EXPECT_EQ(rig.guest.All<Data>().size(), 1u);
  ASSERT_EQ(rig.guest.All<Signal>().size(), 2u);
  EXPECT_EQ(rig.guest.All<Signal>()[1].channel, 1u);

  // What the guest says of channel 2 goes to a alone.
  size_t b_before = b.got.size();
  rig.guest.Send(vmproto::Started{2, 55});
  rig.guest.Send(Data{2, Stream::kStdout, {'l', 's'}});
  rig.guest.Send(GuestError{2, 2, "no such file"});
  rig.guest.Send(Credit{2, Stream::kStdin, 1});
  rig.guest.Send(Exit{2, ExitKind::kExited, 0, false});
  EXPECT_FALSE(rig.Settle());
  EXPECT_EQ(b.got.size(), b_before);
  EXPECT_EQ(a.All<vmproto::Started>().size(), 2u);  // main and channel 2
  EXPECT_EQ(a.All<Data>().size(), 1u);
  EXPECT_EQ(a.All<Credit>().size(), 1u);
  EXPECT_EQ(a.All<Exit>().size(), 1u);
  EXPECT_EQ(LastError(a), "no such file");

  // Channels are never reused, and an exited one takes no more frames.
  a.Send(Exec{2, "{}"});
  a.Send(Signal{2, 9});
  rig.Settle();
  EXPECT_EQ(rig.guest.All<Exec>().size(), 1u);
  EXPECT_EQ(a.All<GuestError>().back().err, static_cast<uint32_t>(ESRCH));
  EXPECT_TRUE(a.status.ok());
}

TEST(AgentRelayClients, ClientsMayNotGrantOutputCredit) {
  Rig rig;
  Peer& a = rig.Started();
  a.Send(Exec{2, "{}"});
  a.Send(Credit{2, Stream::kStdout, 4096});
  rig.Settle();
  EXPECT_TRUE(rig.guest.All<Credit>().empty());
  EXPECT_NE(LastError(a).find("granted by the monitor"), std::string::npos) << LastError(a);
}

TEST(AgentRelayClients, StatsRepliesReturnToTheirRequester) {
  Rig rig;
  rig.guest.Send(Hello{kVersion, "6.1"});
  Peer& a = rig.Connect();
  Peer& b = rig.Connect();
  a.Send(StatsRequest{5});
  b.Send(StatsRequest{5});
  rig.Settle();
  auto asked = rig.guest.All<StatsRequest>();
  ASSERT_EQ(asked.size(), 2u);
  EXPECT_NE(asked[0].id, asked[1].id);  // the guest sees two requests, not one twice
  rig.guest.Send(StatsReply{asked[1].id, 2, 2, 2});
  rig.guest.Send(StatsReply{asked[0].id, 1, 1, 1});
  EXPECT_FALSE(rig.Settle());
  ASSERT_EQ(a.All<StatsReply>().size(), 1u);
  ASSERT_EQ(b.All<StatsReply>().size(), 1u);
  EXPECT_EQ(a.All<StatsReply>()[0], (StatsReply{5, 1, 1, 1}));
  EXPECT_EQ(b.All<StatsReply>()[0], (StatsReply{5, 2, 2, 2}));

  for (uint32_t i = 0; i < kMaxStatsPerClient + 1; ++i) a.Send(StatsRequest{i});
  rig.Settle();
  EXPECT_EQ(rig.guest.All<StatsRequest>().size(), 2 + kMaxStatsPerClient);
  EXPECT_EQ(a.All<GuestError>().back().err, static_cast<uint32_t>(EAGAIN));
}

TEST(AgentRelayClients, ALeavingClientsProcessesAreKilled) {
  Rig rig;
  Peer& a = rig.Started();
  Peer& b = rig.Connect();
  b.Send(Exec{2, "{}"});
  b.Send(Exec{3, "{}"});
  rig.Settle();
  rig.guest.Send(vmproto::Started{2, 7});
  rig.guest.Send(Exit{3, ExitKind::kExited, 0, false});
  rig.Settle();
  b.fd.reset();
  rig.Settle();
  EXPECT_EQ(rig.relay->client_count(), 1u);
  auto kills = rig.guest.All<Signal>();
  ASSERT_EQ(kills.size(), 1u);  // channel 3 had exited already
  EXPECT_EQ(kills[0], (Signal{2, SIGKILL}));
  // Its process's last output goes nowhere, and is credited so it can die in peace.
  for (int i = 0; i < 3; ++i) {
    rig.guest.Send(Data{2, Stream::kStderr, std::vector<uint8_t>(kMaxDataChunk, 'e')});
    EXPECT_FALSE(rig.Settle());
  }
  rig.guest.Send(Exit{2, ExitKind::kSignaled, 9, false});
  EXPECT_FALSE(rig.Settle());
  // The starter leaving does not touch the main process.
  a.fd.reset();
  EXPECT_FALSE(rig.Settle());
  EXPECT_EQ(rig.guest.All<Signal>().size(), 1u);
  rig.guest.Send(Data{1, Stream::kStdout, {'s', 't', 'i', 'l', 'l'}});
  rig.guest.Send(Exit{1, ExitKind::kExited, 3, false});
  auto out = rig.Settle();
  ASSERT_TRUE(out);
  EXPECT_EQ(out->status, 3);
  EXPECT_EQ(rig.ReadAll(rig.stdout_r.get()), "still");
}

TEST(AgentRelayClients, SpeakingBeforeHelloOrMalformedFramesCostTheConnection) {
  Rig rig;
  Peer& early = rig.Connect();
  early.Send(Signal{1, 9});
  rig.Settle();
  EXPECT_TRUE(early.eof);
  EXPECT_EQ(rig.relay->client_count(), 0u);
  EXPECT_TRUE(rig.guest.got.empty());

  rig.guest.Send(Hello{kVersion, "6.1"});
  Peer& bad = rig.Connect();
  bad.SendRaw({0xBE, 0x1D, kVersion, 0x41, 0, 0, 0, 0, 9, 0, 0, 0});  // a hello, from a client
  EXPECT_FALSE(rig.Settle());
  EXPECT_TRUE(bad.eof);
  EXPECT_NE(LastError(bad).find("wrong direction"), std::string::npos) << LastError(bad);
  EXPECT_TRUE(rig.guest.got.empty());
}

TEST(AgentRelayClients, ClientsAndTheirExecsAreBounded) {
  Rig rig;
  rig.guest.Send(Hello{kVersion, "6.1"});
  for (size_t i = 0; i < kMaxClients + 1; ++i) rig.Connect();
  EXPECT_EQ(rig.relay->client_count(), kMaxClients);
  EXPECT_TRUE(rig.clients.back()->eof);
  EXPECT_TRUE(rig.clients.back()->got.empty());
  rig.clients.front()->fd.reset();
  rig.Settle();
  rig.Connect();
  EXPECT_EQ(rig.relay->client_count(), kMaxClients);
  EXPECT_FALSE(rig.clients.back()->eof);

  Peer& a = *rig.clients[1];
  for (uint32_t ch = 2; ch < 2 + kMaxExecsPerClient + 1; ++ch) a.Send(Exec{ch, "{}"});
  rig.Settle();
  EXPECT_EQ(rig.guest.All<Exec>().size(), kMaxExecsPerClient);
  EXPECT_EQ(a.All<GuestError>().back().err, static_cast<uint32_t>(EAGAIN));
}

TEST(AgentRelayClients, AClientThatDoesNotReadIsDropped) {
  Rig rig;
  Peer& a = rig.Started();
  int small = 4096;
  setsockopt(a.fd.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  a.Send(Exec{2, "{}"});
  rig.Settle();
  // Guest errors are not flow-controlled: a client that lets them pile up goes.
  GuestError e = MakeGuestError(2, 0, std::string(kMaxErrorText, 'e'));
  for (int i = 0; i < 1000 && rig.relay->client_count() > 0; ++i) {
    rig.guest.Send(e);
    ASSERT_FALSE(rig.relay->Run(0));
    ASSERT_FALSE(rig.relay->Run(0));
  }
  EXPECT_EQ(rig.relay->client_count(), 0u);
  EXPECT_EQ(rig.guest.All<Signal>().size(), 0u);
  rig.Settle();
  ASSERT_EQ(rig.guest.All<Signal>().size(), 1u);
  EXPECT_EQ(rig.guest.All<Signal>()[0], (Signal{2, SIGKILL}));
}

TEST(AgentRelayClients, AGuestThatDoesNotReadPausesClients) {
  Rig rig;
  Peer& a = rig.Started();
  size_t before = rig.guest.got.size();
  // The test's guest stops reading: eight 1 MiB exec specs cannot all be taken in.
  std::string spec(kMaxSpecJson, ' ');
  spec[0] = '{';
  spec[spec.size() - 1] = '}';
  int sent = 0;
  for (uint32_t ch = 2; ch < 10; ++ch) {
    auto frame = *Encode(Exec{ch, spec});
    size_t done = 0;
    while (done < frame.size()) {
      ssize_t n = write(a.fd.get(), frame.data() + done, frame.size() - done);
      if (n > 0) {
        done += static_cast<size_t>(n);
      } else {
        ASSERT_FALSE(rig.relay->Run(1));  // the client's write blocks while the relay does not read
        if (rig.relay->guest_queue_bytes() > kGuestQueueHigh) break;
      }
    }
    if (done < frame.size()) break;
    ++sent;
  }
  for (int i = 0; i < 20; ++i) ASSERT_FALSE(rig.relay->Run(1));
  EXPECT_LE(rig.relay->guest_queue_bytes(), kGuestQueueHigh + kMaxFrameFromHost);
  EXPECT_LT(sent, 8);
  EXPECT_EQ(rig.guest.got.size(), before);
}

}  // namespace
}  // namespace bulkhead::vmm::agent
