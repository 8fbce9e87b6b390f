#include "vminit/spec.h"

#include <gtest/gtest.h>

#include <string>

namespace bulkhead::vminit {
namespace {

constexpr char kRoot[] = "/run/bulkhead/root";

std::string Config(const std::string& process = R"({"args":["sh","-c","echo hi"],"cwd":"/"})") {
  return R"({"ociVersion":"1.0.2","root":{"path":"rootfs","readonly":true},"process":)" +
         process +
         R"(,"hooks":{"prestart":[{"path":"/bin/true"}]},)"
         R"("linux":{"namespaces":[{"type":"mount"},{"type":"pid"}],)"
         R"("maskedPaths":["/proc/kcore"]}})";
}

std::string ErrorOf(std::string_view json) {
  Result<StartSpec> r = ParseStartSpec(json, kRoot);
  return r.ok() ? std::string("(parsed)") : r.error().message();
}

TEST(StartSpec, ConfigAloneTakesTheDefaults) {
  Result<StartSpec> r = ParseStartSpec(R"({"config":)" + Config() + "}", kRoot);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->id, "container");
  EXPECT_EQ(r->guest.upper_size_mib, 64u);
  EXPECT_EQ(r->config.process.args.size(), 3u);
  EXPECT_TRUE(r->config.root.readonly);
  EXPECT_EQ(r->config.linux.masked_paths.size(), 1u);
}

TEST(StartSpec, RootPathIsTheGuestsOverlayAndHooksStayOnTheHost) {
  Result<StartSpec> r = ParseStartSpec(R"({"config":)" + Config() + "}", kRoot);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->config.root.path, kRoot);
  EXPECT_TRUE(r->config.hooks.prestart.empty());
}

TEST(StartSpec, IdAndGuestFacts) {
  Result<StartSpec> r = ParseStartSpec(
      R"({"id":"web-1.a_b","guest":{"upper_size_mib":512},"config":)" + Config() + "}", kRoot);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->id, "web-1.a_b");
  EXPECT_EQ(r->guest.upper_size_mib, 512u);
}

TEST(StartSpec, Volumes) {
  Result<StartSpec> r = ParseStartSpec(
      R"({"guest":{"volumes":[{"serial":"vol0","path":"/run/bulkhead/volumes/0"},)"
      R"({"serial":"vol1","path":"/run/bulkhead/volumes/1"}]},"config":)" + Config() + "}",
      kRoot);
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_EQ(r->guest.volumes.size(), 2u);
  EXPECT_EQ(r->guest.volumes[1].serial, "vol1");
  EXPECT_EQ(r->guest.volumes[1].path, "/run/bulkhead/volumes/1");
  auto with = [](const std::string& volume) {
    return ErrorOf(R"({"guest":{"volumes":[)" + volume + R"(]},"config":)" + Config() + "}");
  };
  // Paths stay directly below the volumes directory; serials are the monitor's disk ids.
  for (const char* bad : {"/run/bulkhead/volumes/../root", "/run/bulkhead/volumes/", "/etc",
                          "/run/bulkhead/volumes/0/x", "/run/bulkhead/volumes/1234"}) {
    EXPECT_NE(with(std::string(R"({"serial":"vol0","path":")") + bad + R"("})")
                  .find("is not /run/bulkhead/volumes/<n>"),
              std::string::npos)
        << bad;
  }
  EXPECT_EQ(with(R"({"serial":"../x","path":"/run/bulkhead/volumes/0"})"),
            "guest.volumes: bad serial \"../x\"");
  EXPECT_EQ(with(R"({"serial":"vol0"})"),
            "guest.volumes: path \"\" is not /run/bulkhead/volumes/<n>");
  EXPECT_NE(with(R"({"serial":"vol0","path":"/run/bulkhead/volumes/0","x":1})")
                .find("unknown key \"x\""),
            std::string::npos);
}

TEST(StartSpec, WritableVolumes) {
  Result<StartSpec> r = ParseStartSpec(
      R"({"guest":{"volumes":[{"serial":"vol3","path":"/run/bulkhead/volumes/3",)"
      R"("writable":true,"size_mib":16}]},"config":)" + Config() + "}",
      kRoot);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_TRUE(r->guest.volumes[0].writable);
  EXPECT_EQ(r->guest.volumes[0].number, 3u);
  EXPECT_EQ(r->guest.volumes[0].size_mib, 16u);
  auto with = [](const std::string& volume) {
    return ErrorOf(R"({"guest":{"volumes":[)" + volume + R"(]},"config":)" + Config() + "}");
  };
  EXPECT_EQ(with(R"({"serial":"vol0","path":"/run/bulkhead/volumes/0","writable":true})"),
            "guest.volumes: size_mib 0 is outside 1..1048576");
  EXPECT_EQ(with(R"({"serial":"vol0","path":"/run/bulkhead/volumes/0","size_mib":4})"),
            "guest.volumes: size_mib on a read-only volume");
  EXPECT_EQ(with(R"({"serial":"vol8","path":"/run/bulkhead/volumes/8","writable":true,"size_mib":4})"),
            "guest.volumes: a writable volume numbered 8 (must be 0..7)");
}

TEST(StartSpec, RefusesWhatIsNotASpec) {
  EXPECT_NE(ErrorOf("{not json").find("parse error"), std::string::npos) << ErrorOf("{not json");
  EXPECT_EQ(ErrorOf("[]"), "start spec: (document): expected an object, got an array");
  EXPECT_EQ(ErrorOf("{}"), "start spec: \"config\" (the bundle's config.json) is missing");
  EXPECT_EQ(ErrorOf(R"({"config":)" + Config() + R"(,"extra":1})"),
            "start spec: unknown key \"extra\"");
  EXPECT_EQ(ErrorOf(R"({"config":"x"})"), "config: expected an object, got a string");
}

TEST(StartSpec, RefusesBadGuestFacts) {
  auto with = [](const std::string& guest) {
    return ErrorOf(R"({"guest":)" + guest + R"(,"config":)" + Config() + "}");
  };
  EXPECT_EQ(with(R"({"upper_size_mib":0})"), "guest.upper_size_mib: 0 is outside 1..1048576");
  EXPECT_EQ(with(R"({"upper_size_mib":1048577})"),
            "guest.upper_size_mib: 1048577 is outside 1..1048576");
  EXPECT_EQ(with(R"({"upper_size_mib":-1})"),
            "guest.upper_size_mib: integer -1 out of range [0, 18446744073709551615]");
  EXPECT_EQ(with(R"({"upper_size":1})"), "guest: unknown key \"upper_size\"");
}

TEST(StartSpec, RefusesBadIds) {
  auto with = [](const std::string& id) {
    return ErrorOf(R"({"id":)" + id + R"(,"config":)" + Config() + "}");
  };
  EXPECT_EQ(with(R"("")"), "id: must be 1..64 characters");
  EXPECT_EQ(with("\"" + std::string(65, 'a') + "\""), "id: must be 1..64 characters");
  EXPECT_EQ(with(R"("../x")"), "id: \"../x\" may hold only [A-Za-z0-9_.-]");
  EXPECT_EQ(with(R"("..")"), "id: \"..\" is not a name");
  EXPECT_EQ(with("7"), "id: expected a string, got an integer");
}

TEST(StartSpec, TheConfigMustRunSomething) {
  EXPECT_EQ(ErrorOf(R"({"config":)" + Config(R"({"args":[],"cwd":"/"})") + "}"),
            "config: process.args: required and must not be empty");
  EXPECT_EQ(ErrorOf(R"({"config":)" + Config(R"({"args":["sh"],"cwd":"tmp"})") + "}"),
            "config: process.cwd: \"tmp\" is not an absolute path");
  EXPECT_NE(ErrorOf(R"({"config":)" + Config(R"({"args":"sh"})") + "}").find("process.args"),
            std::string::npos);
}

TEST(ExecSpec, ParsesTheProcess) {
  Result<oci::Process> r = ParseExecSpec(
      R"({"process":{"args":["ls","-l"],"cwd":"/tmp","terminal":true,"env":["A=1"]}})");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->args, (std::vector<std::string>{"ls", "-l"}));
  EXPECT_EQ(r->cwd, "/tmp");
  EXPECT_TRUE(r->terminal);
  EXPECT_EQ(r->env, (std::vector<std::string>{"A=1"}));
}

TEST(ExecSpec, RefusesWhatIsNotAnExecSpec) {
  auto err = [](std::string_view json) {
    Result<oci::Process> r = ParseExecSpec(json);
    return r.ok() ? std::string("(parsed)") : r.error().message();
  };
  EXPECT_EQ(err("{}"), "exec spec: \"process\" is missing");
  EXPECT_EQ(err(R"({"process":{"args":["ls"]},"x":1})"), "exec spec: unknown key \"x\"");
  EXPECT_EQ(err(R"({"process":{"args":[],"cwd":"/"}})"), "process.args: no command given");
  EXPECT_EQ(err(R"({"process":{"args":["ls"],"cwd":""}})"),
            "process.cwd: \"\" is not an absolute path");
  EXPECT_EQ(err(R"({"process":[1]})"), "process: expected an object, got an array");
  EXPECT_NE(err("\xff").find("parse error"), std::string::npos) << err("\xff");
}

}  // namespace
}  // namespace bulkhead::vminit
