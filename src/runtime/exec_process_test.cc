#include "runtime/exec_process.h"

#include <gtest/gtest.h>

namespace bulkhead::runtime {
namespace {

oci::Process Base() {
  oci::Process p;
  p.args = {"/bin/sleep", "100"};
  p.env = {"PATH=/bin", "HOME=/root"};
  p.cwd = "/";
  p.user.uid = 0;
  p.no_new_privileges = true;
  p.terminal = true;
  p.console_size = oci::ConsoleSize{24, 80};
  p.capabilities = oci::Capabilities{{"CAP_KILL"}, {"CAP_KILL"}, {}, {"CAP_KILL"}, {}};
  p.rlimits = {{"RLIMIT_NOFILE", 1024, 1024}};
  return p;
}

TEST(ExecProcess, ArgsKeepTheContainersSettings) {
  ExecOptions o;
  o.args = {"/bin/echo", "hi"};
  auto p = BuildExecProcess(Base(), "", o);
  ASSERT_TRUE(p.ok()) << p.error().message();
  EXPECT_EQ(p->args, (std::vector<std::string>{"/bin/echo", "hi"}));
  EXPECT_EQ(p->env, Base().env);
  EXPECT_TRUE(p->no_new_privileges);
  EXPECT_EQ(p->rlimits.size(), 1u);
  EXPECT_EQ(p->capabilities->bounding, std::vector<std::string>{"CAP_KILL"});
  // The container's terminal is not this process's: only --tty asks for one.
  EXPECT_FALSE(p->terminal);
  EXPECT_FALSE(p->console_size.has_value());
}

TEST(ExecProcess, FlagsOverride) {
  ExecOptions o;
  o.args = {"id"};
  o.tty = true;
  o.env = {"A=1"};
  o.cwd = "/tmp";
  o.user = "1000:2000";
  o.additional_gids = {5, 6};
  o.caps = {"CAP_NET_RAW", "CAP_KILL"};
  auto p = BuildExecProcess(Base(), "", o);
  ASSERT_TRUE(p.ok()) << p.error().message();
  EXPECT_TRUE(p->terminal);
  EXPECT_EQ(p->env.back(), "A=1");
  EXPECT_EQ(p->cwd, "/tmp");
  EXPECT_EQ(p->user.uid, 1000u);
  EXPECT_EQ(p->user.gid, 2000u);
  EXPECT_EQ(p->user.additional_gids, (std::vector<uint32_t>{5, 6}));
  for (const auto* set : {&p->capabilities->bounding, &p->capabilities->effective,
                          &p->capabilities->permitted, &p->capabilities->inheritable,
                          &p->capabilities->ambient}) {
    EXPECT_EQ(std::count(set->begin(), set->end(), "CAP_NET_RAW"), 1);
    EXPECT_EQ(std::count(set->begin(), set->end(), "CAP_KILL"), 1);
  }
}

TEST(ExecProcess, UserWithoutGroupKeepsTheGroup) {
  ExecOptions o;
  o.args = {"id"};
  o.user = "7";
  oci::Process base = Base();
  base.user.gid = 3;
  auto p = BuildExecProcess(base, "", o);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->user.uid, 7u);
  EXPECT_EQ(p->user.gid, 3u);
}

TEST(ExecProcess, ProcessDocumentReplacesTheBase) {
  ExecOptions o;
  auto p = BuildExecProcess(
      Base(), R"({"args":["/bin/true"],"cwd":"/srv","env":["X=y"],"user":{"uid":5,"gid":5}})", o);
  ASSERT_TRUE(p.ok()) << p.error().message();
  EXPECT_EQ(p->args, std::vector<std::string>{"/bin/true"});
  EXPECT_EQ(p->cwd, "/srv");
  EXPECT_FALSE(p->no_new_privileges);
  EXPECT_FALSE(p->capabilities.has_value());
  EXPECT_TRUE(p->rlimits.empty());
}

TEST(ExecProcess, BadInputNamesTheProblem) {
  ExecOptions o;
  auto none = BuildExecProcess(Base(), "", o);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message().find("no command"), std::string::npos);

  auto malformed = BuildExecProcess(Base(), "{\"args\": 5", o);
  ASSERT_FALSE(malformed.ok());
  EXPECT_NE(malformed.error().message().find("--process"), std::string::npos);

  auto wrong_type = BuildExecProcess(Base(), R"({"args": 5, "cwd": "/"})", o);
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_NE(wrong_type.error().message().find("process.args"), std::string::npos);

  o.args = {"x"};
  auto both = BuildExecProcess(Base(), R"({"args":["/bin/true"],"cwd":"/"})", o);
  EXPECT_FALSE(both.ok());

  ExecOptions rel;
  rel.args = {"x"};
  rel.cwd = "tmp";
  EXPECT_FALSE(BuildExecProcess(Base(), "", rel).ok());

  ExecOptions user;
  user.args = {"x"};
  user.user = "root";
  auto named = BuildExecProcess(Base(), "", user);
  ASSERT_FALSE(named.ok());
  EXPECT_NE(named.error().message().find("--user"), std::string::npos);

  ExecOptions env;
  env.args = {"x"};
  env.env = {"NOEQUALS"};
  EXPECT_FALSE(BuildExecProcess(Base(), "", env).ok());

  ExecOptions cap;
  cap.args = {"x"};
  cap.caps = {"CAP_FLY"};
  EXPECT_FALSE(BuildExecProcess(Base(), "", cap).ok());
}

}  // namespace
}  // namespace bulkhead::runtime
