#include "runtime/sealed_exe.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

namespace bulkhead::runtime {
namespace {

// A private copy of /bin/true: an executable no one runs, so reopening it for writing
// meets the mount's read-only flag rather than ETXTBSY.
class SealedExeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (bind mounts)";
    char tmpl[] = "/tmp/bh_sealed_exe.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/true";
    ASSERT_EQ(system(("cp /bin/true " + path_).c_str()), 0);
  }
  void TearDown() override {
    if (!dir_.empty()) unlink(path_.c_str()), rmdir(dir_.c_str());
  }
  UniqueFd Open() { return UniqueFd(open(path_.c_str(), O_RDONLY | O_CLOEXEC)); }

  std::string dir_, path_;
};

int ReopenForWrite(int fd) {
  std::string p = "/proc/self/fd/" + std::to_string(fd);
  int w = open(p.c_str(), O_WRONLY | O_CLOEXEC);
  if (w >= 0) {
    close(w);
    return 0;
  }
  return errno;
}

// Runs the program behind fd and returns its exit status.
int ExecStatus(int fd) {
  pid_t pid = fork();
  if (pid == 0) {
    char arg0[] = "true";
    char* argv[] = {arg0, nullptr};
    syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST_F(SealedExeTest, AWritableFileIsNotSealed) {
  UniqueFd fd = Open();
  Result<bool> sealed = IsSealed(fd.get());
  ASSERT_TRUE(sealed.ok()) << sealed.error().message();
  EXPECT_FALSE(*sealed);
  EXPECT_EQ(ReopenForWrite(fd.get()), 0);
}

TEST_F(SealedExeTest, ReadOnlyMountRunsAndRefusesWrites) {
  UniqueFd fd = Open();
  Result<UniqueFd> exe = SealedExecutable(fd.get());
  ASSERT_TRUE(exe.ok()) << exe.error().message();
  Result<bool> sealed = IsSealed(exe->get());
  ASSERT_TRUE(sealed.ok());
  EXPECT_TRUE(*sealed);
  EXPECT_EQ(ReopenForWrite(exe->get()), EROFS);
  EXPECT_EQ(ExecStatus(exe->get()), 0);
  // Only the new mount is read-only: the file stays writable at its own path.
  EXPECT_EQ(ReopenForWrite(fd.get()), 0);
}

TEST_F(SealedExeTest, SealedCopyRunsAndRefusesChanges) {
  UniqueFd fd = Open();
  Result<UniqueFd> copy = SealedCopy(fd.get());
  ASSERT_TRUE(copy.ok()) << copy.error().message();
  Result<bool> sealed = IsSealed(copy->get());
  ASSERT_TRUE(sealed.ok());
  EXPECT_TRUE(*sealed);
  struct stat a {
  }, b{};
  fstat(fd.get(), &a);
  fstat(copy->get(), &b);
  EXPECT_EQ(a.st_size, b.st_size);
  // A reopened memfd shares the seals: the write itself is refused.
  std::string p = "/proc/self/fd/" + std::to_string(copy->get());
  UniqueFd w(open(p.c_str(), O_WRONLY | O_CLOEXEC));
  ASSERT_TRUE(w.valid());
  EXPECT_EQ(pwrite(w.get(), "x", 1, 0), -1);
  EXPECT_EQ(errno, EPERM);
  EXPECT_NE(ftruncate(w.get(), 0), 0);
  w.reset();  // exec refuses a file someone holds open for writing
  EXPECT_EQ(ExecStatus(copy->get()), 0);
}

TEST_F(SealedExeTest, ReexecIsANoOpFromASealedBinary) {
  // A child exec'd from the read-only mount sees its own /proc/self/exe as sealed, so a
  // second ReexecSealed returns instead of exec'ing again (no loop).
  UniqueFd fd(open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  Result<UniqueFd> exe = SealedExecutable(fd.get());
  ASSERT_TRUE(exe.ok()) << exe.error().message();
  pid_t pid = fork();
  if (pid == 0) {
    char arg0[] = "sealed_exe_test";
    char filter[] = "--gtest_filter=SealedExeProbe.*";
    char* argv[] = {arg0, filter, nullptr};
    setenv("BH_SEALED_EXE_PROBE", "1", 1);
    syscall(SYS_execveat, exe->get(), "", argv, environ, AT_EMPTY_PATH);
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

// Runs only in the child above: ReexecSealed must return Ok without exec'ing.
TEST(SealedExeProbe, ReexecReturns) {
  if (getenv("BH_SEALED_EXE_PROBE") == nullptr) GTEST_SKIP() << "runs from the re-exec test";
  char arg0[] = "unused";
  char* argv[] = {arg0, nullptr};
  Status s = ReexecSealed(argv);
  EXPECT_TRUE(s.ok()) << s.error().message();
}

}  // namespace
}  // namespace bulkhead::runtime
