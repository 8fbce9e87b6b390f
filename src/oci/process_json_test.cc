#include "oci/process_json.h"

#include <gtest/gtest.h>

#include "oci/parse.h"

namespace bulkhead::oci {
namespace {

void ExpectSame(const Process& a, const Process& b) {
  EXPECT_EQ(a.terminal, b.terminal);
  ASSERT_EQ(a.console_size.has_value(), b.console_size.has_value());
  if (a.console_size) {
    EXPECT_EQ(a.console_size->height, b.console_size->height);
    EXPECT_EQ(a.console_size->width, b.console_size->width);
  }
  EXPECT_EQ(a.user.uid, b.user.uid);
  EXPECT_EQ(a.user.gid, b.user.gid);
  EXPECT_EQ(a.user.umask, b.user.umask);
  EXPECT_EQ(a.user.additional_gids, b.user.additional_gids);
  EXPECT_EQ(a.args, b.args);
  EXPECT_EQ(a.env, b.env);
  EXPECT_EQ(a.cwd, b.cwd);
  ASSERT_EQ(a.capabilities.has_value(), b.capabilities.has_value());
  if (a.capabilities) {
    EXPECT_EQ(a.capabilities->bounding, b.capabilities->bounding);
    EXPECT_EQ(a.capabilities->effective, b.capabilities->effective);
    EXPECT_EQ(a.capabilities->inheritable, b.capabilities->inheritable);
    EXPECT_EQ(a.capabilities->permitted, b.capabilities->permitted);
    EXPECT_EQ(a.capabilities->ambient, b.capabilities->ambient);
  }
  ASSERT_EQ(a.rlimits.size(), b.rlimits.size());
  for (size_t i = 0; i < a.rlimits.size(); ++i) {
    EXPECT_EQ(a.rlimits[i].type, b.rlimits[i].type);
    EXPECT_EQ(a.rlimits[i].soft, b.rlimits[i].soft);
    EXPECT_EQ(a.rlimits[i].hard, b.rlimits[i].hard);
  }
  EXPECT_EQ(a.no_new_privileges, b.no_new_privileges);
  EXPECT_EQ(a.apparmor_profile, b.apparmor_profile);
  EXPECT_EQ(a.selinux_label, b.selinux_label);
  EXPECT_EQ(a.oom_score_adj, b.oom_score_adj);
}

Process RoundTrip(const Process& p) {
  Result<Process> back = ParseProcessDocument(ProcessToJson(p));
  EXPECT_TRUE(back.ok()) << back.error().message() << "\n" << ProcessToJson(p);
  return back.ok() ? *back : Process{};
}

TEST(ProcessJson, EveryFieldSurvivesTheRoundTrip) {
  Process p;
  p.terminal = true;
  p.console_size = ConsoleSize{24, 80};
  p.user.uid = 1000;
  p.user.gid = 1001;
  p.user.umask = 022;
  p.user.additional_gids = {5, 6};
  p.args = {"sh", "-c", "echo 'a b' \"c\"\n"};
  p.env = {"PATH=/bin", "EMPTY="};
  p.cwd = "/work dir";
  p.capabilities = Capabilities{{"CAP_CHOWN"}, {"CAP_KILL"}, {}, {"CAP_KILL", "CAP_CHOWN"}, {}};
  p.rlimits = {{"RLIMIT_NOFILE", 1024, 4096}, {"RLIMIT_CORE", 0, UINT64_MAX}};
  p.no_new_privileges = true;
  p.apparmor_profile = "bulkhead-default";
  p.selinux_label = "system_u:system_r:container_t:s0";
  p.oom_score_adj = -500;
  ExpectSame(p, RoundTrip(p));
}

TEST(ProcessJson, AMinimalProcessStaysMinimal) {
  Process p;
  p.args = {"true"};
  std::string text = ProcessToJson(p);
  EXPECT_EQ(text.find("capabilities"), std::string::npos) << text;
  EXPECT_EQ(text.find("rlimits"), std::string::npos) << text;
  EXPECT_EQ(text.find("oomScoreAdj"), std::string::npos) << text;
  ExpectSame(p, RoundTrip(p));
}

TEST(ProcessJson, BytesThatAreNotUtf8AreReplacedNotThrown) {
  Process p;
  p.args = {"echo", std::string("\xff\xfe", 2)};
  std::string text = ProcessToJson(p);
  EXPECT_NE(text.find("echo"), std::string::npos);
}

}  // namespace
}  // namespace bulkhead::oci
