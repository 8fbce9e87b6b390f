#include "vmtier/agent_client.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vmtier/fake_monitor_test.h"

namespace bulkhead::vmtier {
namespace {

using namespace std::chrono_literals;

TEST(AgentClient, HelloThenFramesThenEof) {
  FakeMonitor p;
  auto early = p.client->AwaitHello(50ms);
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().errno_value(), ETIMEDOUT);
  p.Send(vmproto::MakeHello("6.1.99-guest"));
  p.Send(vmproto::Started{1, 42});
  auto hello = p.client->AwaitHello(1s);
  ASSERT_TRUE(hello.ok()) << hello.error().message();
  EXPECT_EQ(hello->kernel_release, "6.1.99-guest");
  auto next = p.client->Next(1s);
  ASSERT_TRUE(next.ok());
  ASSERT_TRUE(next->has_value());
  EXPECT_EQ(std::get<vmproto::Started>(**next).pid, 42u);
  p.fd.reset();
  next = p.client->Next(1s);
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(next->has_value());
}

TEST(AgentClient, SendsFramesTheGuestSideDecodes) {
  FakeMonitor p;
  ASSERT_TRUE(p.client->Send(vmproto::Signal{1, 15}).ok());
  ASSERT_TRUE(p.client->Send(vmproto::Start{R"({"id":"x"})"}).ok());
  uint8_t buf[256];
  ssize_t n = read(p.fd.get(), buf, sizeof buf);
  ASSERT_GT(n, 0);
  vmproto::Decoder d(vmproto::Direction::kHostToGuest);
  ASSERT_TRUE(d.Feed({buf, static_cast<size_t>(n)}).ok());
  auto m1 = d.Next();
  auto m2 = d.Next();
  ASSERT_TRUE(m1 && m2);
  EXPECT_EQ(std::get<vmproto::Signal>(*m1).signo, 15u);
  EXPECT_EQ(std::get<vmproto::Start>(*m2).spec_json, R"({"id":"x"})");
}

TEST(AgentClient, GarbageFromTheMonitorIsAnError) {
  FakeMonitor p;
  ASSERT_EQ(write(p.fd.get(), "hello there, no frame", 21), 21);
  auto r = p.client->AwaitHello(1s);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("agent socket"), std::string::npos) << r.error().message();
}

TEST(AgentClient, GuestErrorsReadAsText) {
  EXPECT_EQ(DescribeGuestError(vmproto::MakeGuestError(1, ENOENT, "exec sh")),
            "guest: exec sh (No such file or directory)");
  EXPECT_EQ(DescribeGuestError(vmproto::MakeGuestError(0, 0, "oops")), "guest: oops");
  EXPECT_EQ(DescribeGuestError(vmproto::MakeGuestError(1, EPERM, "mount: Operation not permitted")),
            "guest: mount: Operation not permitted");
}

}  // namespace
}  // namespace bulkhead::vmtier
