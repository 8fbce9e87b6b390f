#include "runtime/state_store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fs.h"
#include "runtime/verbs.h"

namespace bulkhead::runtime {
namespace {

class StateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/bh_state_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = std::string(tmpl) + "/root";
  }
  void TearDown() override { ASSERT_TRUE(RemoveAll(root_.substr(0, root_.rfind('/'))).ok()); }
  std::string root_;
};

TEST(ValidateId, AcceptsRuncStyleIds) {
  EXPECT_TRUE(ValidateId("abc").ok());
  EXPECT_TRUE(ValidateId("a.b-c_d+e").ok());
  EXPECT_TRUE(ValidateId(std::string(64, 'f')).ok());
}

TEST(ValidateId, RefusesPathsAndDots) {
  for (const char* bad : {"", ".", "..", "a/b", "../x", "a b", "x\n"}) {
    Status s = ValidateId(bad);
    EXPECT_FALSE(s.ok()) << bad;
  }
  EXPECT_FALSE(ValidateId(std::string(1025, 'a')).ok());
  EXPECT_TRUE(ValidateId(std::string(255, 'a')).ok());
  EXPECT_FALSE(ValidateId(std::string(256, 'a')).ok());
}

TEST_F(StateStoreTest, CreateTwiceSaysAlreadyExists) {
  StateStore store(root_);
  auto lock = store.CreateDir("c1");
  ASSERT_TRUE(lock.ok()) << lock.error().message();
  auto again = store.CreateDir("c1");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().message(), "container \"c1\" already exists");
}

TEST_F(StateStoreTest, SaveLoadRoundTrip) {
  StateStore store(root_);
  ASSERT_TRUE(store.CreateDir("c2").ok());
  ContainerState s;
  s.id = "c2";
  s.bundle = "/b";
  s.rootfs = "/b/rootfs";
  s.pid = getpid();
  s.pid_start_time = ProcessStartTime(getpid());
  s.created = "now";
  s.cgroups_path = "/x/c2";
  s.annotations["k"] = "v";
  ASSERT_TRUE(store.Save(s).ok());
  auto l = store.Load("c2");
  ASSERT_TRUE(l.ok()) << l.error().message();
  EXPECT_EQ(l->bundle, "/b");
  EXPECT_EQ(l->pid, getpid());
  EXPECT_EQ(l->annotations.at("k"), "v");
  EXPECT_EQ(store.StatusOf(*l), ContainerStatus::kRunning);
  ASSERT_TRUE(WriteFileAtomic(store.FifoPath("c2"), "").ok());
  EXPECT_EQ(store.StatusOf(*l), ContainerStatus::kCreated);
  auto ids = store.List();
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, std::vector<std::string>{"c2"});
  ASSERT_TRUE(store.Remove("c2").ok());
  EXPECT_FALSE(PathExists(store.Dir("c2")));
  auto gone = store.Load("c2");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().message(), "container \"c2\" does not exist");
}

TEST_F(StateStoreTest, ReusedPidReadsAsStopped) {
  StateStore store(root_);
  ASSERT_TRUE(store.CreateDir("c3").ok());
  ContainerState s;
  s.id = "c3";
  s.pid = getpid();
  s.pid_start_time = ProcessStartTime(getpid()) + 1;  // a different process had this pid
  EXPECT_EQ(store.StatusOf(s), ContainerStatus::kStopped);
}

TEST_F(StateStoreTest, ZombieReadsAsStopped) {
  pid_t child = fork();
  if (child == 0) _exit(0);
  // Wait until it is a zombie without reaping it.
  siginfo_t info;
  ASSERT_EQ(waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOWAIT), 0);
  bool zombie = false;
  uint64_t start = ProcessStartTime(child, &zombie);
  EXPECT_NE(start, 0u);
  EXPECT_TRUE(zombie);
  StateStore store(root_);
  ContainerState s;
  s.id = "z";
  s.pid = child;
  s.pid_start_time = start;
  EXPECT_EQ(store.StatusOf(s), ContainerStatus::kStopped);
  waitpid(child, nullptr, 0);
}

TEST_F(StateStoreTest, LockSerialises) {
  StateStore store(root_);
  auto lock = store.CreateDir("c4");
  ASSERT_TRUE(lock.ok());
  int fd = open(store.Dir("c4").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_NE(flock(fd, LOCK_EX | LOCK_NB), 0);
  EXPECT_EQ(errno, EWOULDBLOCK);
  lock->reset();
  EXPECT_EQ(flock(fd, LOCK_EX | LOCK_NB), 0);
  close(fd);
}

TEST(ParseSignal, NamesAndNumbers) {
  EXPECT_EQ(*ParseSignal("KILL"), SIGKILL);
  EXPECT_EQ(*ParseSignal("SIGKILL"), SIGKILL);
  EXPECT_EQ(*ParseSignal("sigterm"), SIGTERM);
  EXPECT_EQ(*ParseSignal("9"), 9);
  EXPECT_EQ(*ParseSignal(""), SIGTERM);
  EXPECT_EQ(*ParseSignal("RTMIN+1"), SIGRTMIN + 1);
  EXPECT_FALSE(ParseSignal("NOPE").ok());
  EXPECT_FALSE(ParseSignal("0").ok());
  EXPECT_FALSE(ParseSignal("99999").ok());
}

}  // namespace
}  // namespace bulkhead::runtime
