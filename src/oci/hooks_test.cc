#include "oci/hooks.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "base/fs.h"

namespace bulkhead::oci {
namespace {

class HooksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/bh-hooks-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { (void)RemoveAll(dir_); }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  std::string Read(const std::string& name) const {
    Result<std::string> r = ReadFile(Path(name));
    return r.ok() ? *r : "<missing>";
  }
  static Hook Sh(const std::string& script, std::optional<int> timeout = std::nullopt) {
    return Hook{"/bin/sh", {"sh", "-c", script}, {}, timeout};
  }

  std::string dir_;
};

TEST_F(HooksTest, StateOnStdinAndExactlyItsEnvironment) {
  setenv("BH_HOOKS_TEST_LEAK", "ours", 1);
  Hook h = Sh("cat > " + Path("stdin") + "; env > " + Path("env"));
  h.env = {"A=1", "B=two words"};
  ASSERT_TRUE(RunHook(h, R"({"id":"c1","status":"creating"})").ok());
  EXPECT_EQ(Read("stdin"), R"({"id":"c1","status":"creating"})");
  std::string env = Read("env");
  EXPECT_NE(env.find("A=1\n"), std::string::npos) << env;
  EXPECT_NE(env.find("B=two words\n"), std::string::npos) << env;
  EXPECT_EQ(env.find("BH_HOOKS_TEST_LEAK"), std::string::npos) << env;
  EXPECT_EQ(env.find("HOME="), std::string::npos) << env;
  unsetenv("BH_HOOKS_TEST_LEAK");
}

TEST_F(HooksTest, ArgsAreArgvIncludingArgvZero) {
  std::string script = "tr '\\0' '|' < /proc/$$/cmdline > " + Path("args");
  Hook h{"/bin/sh", {"my-hook", "-c", script, "first", "se cond"}, {}, std::nullopt};
  ASSERT_TRUE(RunHook(h, "{}").ok());
  EXPECT_EQ(Read("args"), "my-hook|-c|" + script + "|first|se cond|");
}

TEST_F(HooksTest, NoArgsMeansThePathAlone) {
  std::string script = Path("noargs.sh");
  ASSERT_TRUE(WriteFileAtomic(script, "#!/bin/sh\necho \"$0 $#\" > " + Path("out") + "\n", 0755).ok());
  ASSERT_TRUE(RunHook(Hook{script, {}, {}, std::nullopt}, "{}").ok());
  EXPECT_EQ(Read("out"), script + " 0\n");
}

TEST_F(HooksTest, RunsInTheGivenDirectory) {
  ASSERT_TRUE(RunHook(Sh("pwd > " + Path("pwd")), "{}", dir_).ok());
  EXPECT_EQ(Read("pwd"), dir_ + "\n");
  Status st = RunHook(Sh("true"), "{}", Path("absent"));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message().find("entering " + Path("absent")), std::string::npos)
      << st.error().message();
}

TEST_F(HooksTest, NonZeroExitNamesTheHookItsStatusAndStderr) {
  std::vector<Hook> hooks = {Sh("true"), Sh("echo partial; echo boom >&2; exit 3")};
  Status st = RunHooks(hooks, "prestart", "{}");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message(),
            "hooks.prestart[1] (/bin/sh): exited with status 3, stdout: partial, stderr: boom");
}

TEST_F(HooksTest, KilledBySignalIsReported) {
  Status st = RunHook(Sh("kill -TERM $$"), "{}");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message(), "was killed by signal 15 (SIGTERM)");
}

TEST_F(HooksTest, StderrIsQuotedByItsTail) {
  // 200 KiB of output: more than is kept and far more than is quoted.
  Status st = RunHook(Sh("i=0; while [ $i -lt 2000 ]; do printf '%0100d\\n' $i >&2; i=$((i+1)); "
                         "done; echo last-line >&2; exit 1"),
                      "{}");
  ASSERT_FALSE(st.ok());
  const std::string& msg = st.error().message();
  EXPECT_LT(msg.size(), kHookQuoteMax + 100);
  EXPECT_EQ(msg.substr(msg.size() - 9), "last-line") << msg;
  EXPECT_NE(msg.find("stderr: ..."), std::string::npos);
}

TEST_F(HooksTest, StateLargerThanAPipeReachesTheHook) {
  std::string state(300 * 1024, 'x');
  ASSERT_TRUE(RunHook(Sh("wc -c > " + Path("n")), state).ok());
  EXPECT_EQ(std::stoul(Read("n")), state.size());
}

TEST_F(HooksTest, AHookThatIgnoresStdinIsFine) {
  std::string state(300 * 1024, 'x');
  EXPECT_TRUE(RunHook(Sh("exit 0"), state).ok());
}

bool Alive(pid_t pid) {
  std::string stat;
  Result<std::string> r = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  if (!r.ok()) return false;
  size_t close = r->rfind(')');
  return close != std::string::npos && close + 2 < r->size() && (*r)[close + 2] != 'Z';
}

TEST_F(HooksTest, TimeoutKillsTheHookAndWhatItStarted) {
  auto start = std::chrono::steady_clock::now();
  Status st = RunHook(Sh("sleep 30 & echo $$ $! > " + Path("pids") + "; wait", 1), "{}");
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message(), "timed out after 1s");
  EXPECT_EQ(st.error().errno_value(), ETIMEDOUT);
  EXPECT_GE(took, std::chrono::milliseconds(900));
  EXPECT_LT(took, std::chrono::milliseconds(2500));
  pid_t sh = 0, sleeper = 0;
  ASSERT_EQ(sscanf(Read("pids").c_str(), "%d %d", &sh, &sleeper), 2) << Read("pids");
  // The shell was reaped by RunHook; the sleep, reparented, dies of the group kill.
  EXPECT_FALSE(Alive(sh));
  for (int i = 0; i < 100 && Alive(sleeper); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_FALSE(Alive(sleeper));
}

TEST_F(HooksTest, TimeoutIsNamedWithTheHook) {
  Status st = RunHooks({Sh("sleep 30", 1)}, "createRuntime", "{}");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message(), "hooks.createRuntime[0] (/bin/sh): timed out after 1s");
}

TEST_F(HooksTest, AHookWithinItsTimeoutSucceeds) {
  EXPECT_TRUE(RunHook(Sh("cat >/dev/null; exit 0", 5), "{}").ok());
}

TEST_F(HooksTest, MissingBinaryIsAClearError) {
  Status st = RunHooks({Hook{Path("no-such-hook"), {}, {}, std::nullopt}}, "poststart", "{}");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message(), "hooks.poststart[0] (" + Path("no-such-hook") +
                                      "): cannot execute: No such file or directory (ENOENT)");
}

TEST_F(HooksTest, NotExecutableIsAClearError) {
  ASSERT_TRUE(WriteFileAtomic(Path("plain"), "#!/bin/sh\n", 0644).ok());
  Status st = RunHook(Hook{Path("plain"), {}, {}, std::nullopt}, "{}");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message(), "cannot execute: Permission denied (EACCES)");
}

TEST_F(HooksTest, RunHooksGoesInOrderAndStopsAtTheFirstFailure) {
  std::string log = Path("order");
  std::vector<Hook> hooks = {Sh("echo one >> " + log), Sh("echo two >> " + log + "; exit 1"),
                             Sh("echo three >> " + log)};
  Status st = RunHooks(hooks, "createContainer", "{}");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message().rfind("hooks.createContainer[1] (/bin/sh): exited with status 1", 0), 0u)
      << st.error().message();
  EXPECT_EQ(Read("order"), "one\ntwo\n");
}

TEST_F(HooksTest, RunAllHooksRunsEveryOneAndNamesEachFailure) {
  std::string log = Path("order");
  std::vector<Hook> hooks = {Sh("echo one >> " + log + "; exit 2"), Sh("echo two >> " + log),
                             Sh("echo three >> " + log + "; exit 4")};
  std::vector<Error> failures = RunAllHooks(hooks, "poststop", "{}");
  ASSERT_EQ(failures.size(), 2u);
  EXPECT_EQ(failures[0].message(), "hooks.poststop[0] (/bin/sh): exited with status 2");
  EXPECT_EQ(failures[1].message(), "hooks.poststop[2] (/bin/sh): exited with status 4");
  EXPECT_EQ(Read("order"), "one\ntwo\nthree\n");
}

// The hook sees only stdio: no descriptor of ours (this test's extra fd, say) leaks into it.
TEST_F(HooksTest, NoDescriptorOfOursReachesTheHook) {
  Result<UniqueFd> extra = OpenFile(dir_, O_RDONLY | O_DIRECTORY);
  ASSERT_TRUE(extra.ok());
  int flags = fcntl(extra->get(), F_GETFD);
  fcntl(extra->get(), F_SETFD, flags & ~FD_CLOEXEC);  // even one without CLOEXEC
  ASSERT_TRUE(RunHook(Sh("ls /proc/self/fd > " + Path("fds")), "{}").ok());
  // 0, 1, 2, and the directory ls itself opened to list them.
  std::string fds = Read("fds");
  EXPECT_EQ(fds, "0\n1\n2\n3\n") << fds;
}

TEST_F(HooksTest, OurSignalStateDoesNotReachTheHook) {
  struct sigaction ign {}, old {};
  ign.sa_handler = SIG_IGN;
  sigaction(SIGTERM, &ign, &old);
  sigset_t block, prev;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  sigprocmask(SIG_BLOCK, &block, &prev);
  Status st = RunHook(Sh("grep -E '^Sig(Blk|Ign)' /proc/self/status > " + Path("sig")), "{}");
  sigprocmask(SIG_SETMASK, &prev, nullptr);
  sigaction(SIGTERM, &old, nullptr);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(Read("sig"), "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
}

TEST_F(HooksTest, NoZombieIsLeft) {
  ASSERT_TRUE(RunHook(Sh("exit 1"), "{}").ok() == false);
  ASSERT_TRUE(RunHook(Sh("sleep 5", 1), "{}").ok() == false);
  // Every child of ours has been reaped.
  EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

}  // namespace
}  // namespace bulkhead::oci
