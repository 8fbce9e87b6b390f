#include "vmm/event_loop.h"

#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace bulkhead::vmm {
namespace {

TEST(EventLoop, RunsTheHandlerOfEachReadyFdAndHonoursPause) {
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  UniqueFd a(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)), b(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  int ran_a = 0, ran_b = 0;
  auto drain = [](int fd) {
    uint64_t v;
    (void)!read(fd, &v, sizeof v);
  };
  ASSERT_TRUE(loop->Add(a.get(), [&] { ++ran_a; drain(a.get()); }).ok());
  ASSERT_TRUE(loop->Add(b.get(), [&] { ++ran_b; drain(b.get()); }).ok());
  EXPECT_FALSE(loop->Add(a.get(), [] {}).ok());
  uint64_t one = 1;
  ASSERT_EQ(write(a.get(), &one, sizeof one), 8);
  ASSERT_TRUE(loop->RunOnce(1000).ok());
  EXPECT_EQ(ran_a, 1);
  EXPECT_EQ(ran_b, 0);
  ASSERT_TRUE(loop->Pause(b.get()).ok());
  ASSERT_EQ(write(b.get(), &one, sizeof one), 8);
  ASSERT_TRUE(loop->RunOnce(50).ok());
  EXPECT_EQ(ran_b, 0);
  ASSERT_TRUE(loop->Resume(b.get()).ok());
  ASSERT_TRUE(loop->RunOnce(1000).ok());
  EXPECT_EQ(ran_b, 1);
}

}  // namespace
}  // namespace bulkhead::vmm
