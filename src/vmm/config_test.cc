#include "vmm/config.h"

#include <gtest/gtest.h>

namespace bulkhead::vmm {
namespace {

std::string ErrorOf(const Status& s) { return s.ok() ? "" : s.error().message(); }

TEST(VmConfig, JsonFillsEveryField) {
  VmConfig c;
  ASSERT_TRUE(ApplyJson(R"({"kernel": "/k", "initrd": "/i", "cmdline": "console=ttyS0", "vcpus": 4,
      "memory_mib": 512, "disks": [{"id": "root", "path": "/r.img", "read_only": true}],
      "serial": {"output": "file", "path": "/log"}, "console": {"socket": "/s"}, "rng": true})",
                        &c)
                  .ok());
  EXPECT_EQ(c.kernel, "/k");
  EXPECT_EQ(c.initrd, "/i");
  EXPECT_EQ(c.vcpus, 4u);
  EXPECT_EQ(c.memory_mib, 512u);
  ASSERT_EQ(c.disks.size(), 1u);
  EXPECT_TRUE(c.disks[0].read_only);
  EXPECT_EQ(c.serial.output, SerialConfig::Output::kFile);
  ASSERT_TRUE(c.console.has_value());
  EXPECT_EQ(c.console->socket, "/s");
  EXPECT_TRUE(c.rng);
  EXPECT_TRUE(Validate(c).ok()) << ErrorOf(Validate(c));
}

TEST(VmConfig, UnknownKeysAreNamed) {
  VmConfig c;
  EXPECT_EQ(ErrorOf(ApplyJson(R"({"kernel": "/k", "gpu": true})", &c)), "unknown setting \"gpu\"");
  EXPECT_EQ(ErrorOf(ApplyJson(R"({"disks": [{"id": "a", "path": "/p", "cache": 1}]})", &c)),
            "unknown setting \"disks[0].cache\"");
  EXPECT_NE(ErrorOf(ApplyJson(R"({"vcpus": "two"})", &c)).find("vcpus"), std::string::npos);
  EXPECT_NE(ErrorOf(ApplyJson(R"({"serial": {"output": "tty"}})", &c)).find("serial.output"), std::string::npos);
  EXPECT_FALSE(ApplyJson("{", &c).ok());
}

TEST(VmConfig, ValidateNamesWhatIsWrong) {
  VmConfig c;
  EXPECT_NE(ErrorOf(Validate(c)).find("no kernel"), std::string::npos);
  c.kernel = "/k";
  c.vcpus = 33;
  EXPECT_NE(ErrorOf(Validate(c)).find("vcpus: 33"), std::string::npos);
  c.vcpus = 0;
  EXPECT_NE(ErrorOf(Validate(c)).find("vcpus: 0"), std::string::npos);
  c.vcpus = 2;
  c.memory_mib = 8;
  EXPECT_NE(ErrorOf(Validate(c)).find("memory_mib: 8"), std::string::npos);
  c.memory_mib = 128;
  c.disks = {{"a", "/x", false}, {"a", "/y", true}};
  EXPECT_NE(ErrorOf(Validate(c)).find("used twice"), std::string::npos);
  c.disks = {{"a-very-long-disk-identifier", "/x", false}};
  EXPECT_NE(ErrorOf(Validate(c)).find("longer than 20"), std::string::npos);
  c.disks.clear();
  c.console = ConsoleConfig{"/sock", 5};
  EXPECT_NE(ErrorOf(Validate(c)).find("exactly one"), std::string::npos);
  c.console = ConsoleConfig{"", 1};
  EXPECT_NE(ErrorOf(Validate(c)).find("stdin, stdout"), std::string::npos);
  c.console.reset();
  c.serial.output = SerialConfig::Output::kFile;
  EXPECT_NE(ErrorOf(Validate(c)).find("needs a path"), std::string::npos);
  c.serial.path = "/log";
  EXPECT_TRUE(Validate(c).ok());
}

TEST(VmConfig, AgentOwnsTheConsolePortAndStdio) {
  VmConfig c;
  ASSERT_TRUE(ApplyJson(R"({"kernel": "/k", "agent": {"socket": "/run/a.sock"}, "serial": {"output": "none"}})", &c)
                  .ok());
  ASSERT_TRUE(c.agent.has_value());
  EXPECT_EQ(c.agent->socket, "/run/a.sock");
  EXPECT_TRUE(Validate(c).ok()) << ErrorOf(Validate(c));
  EXPECT_EQ(ErrorOf(ApplyJson(R"({"agent": {"path": "/x"}})", &c)), "unknown setting \"agent.path\"");
  c.console = ConsoleConfig{"/sock", -1};
  EXPECT_NE(ErrorOf(Validate(c)).find("agent and console exclude each other"), std::string::npos) << ErrorOf(Validate(c));
  EXPECT_NE(ErrorOf(Validate(c)).find("--console"), std::string::npos);
  c.console.reset();
  c.serial.output = SerialConfig::Output::kStdout;
  EXPECT_NE(ErrorOf(Validate(c)).find("agent and serial output to stdout"), std::string::npos);
  c.serial.output = SerialConfig::Output::kNone;
  c.serial.input = true;
  EXPECT_NE(ErrorOf(Validate(c)).find("serial input"), std::string::npos);
  c.serial.input = false;
  c.agent->socket.clear();
  EXPECT_NE(ErrorOf(Validate(c)).find("needs a socket path"), std::string::npos);
}

TEST(VmConfig, Writeback) {
  VmConfig c;
  ASSERT_TRUE(ApplyJson(R"({"kernel": "/k", "serial": {"output": "none"}, "agent": {"socket": "/a.sock",
      "writeback": [{"volume": 2, "path": "/srv/logs", "max_mib": 8}]}})", &c).ok());
  ASSERT_EQ(c.agent->writeback.size(), 1u);
  EXPECT_EQ(c.agent->writeback[0].volume, 2u);
  EXPECT_EQ(c.agent->writeback[0].path, "/srv/logs");
  EXPECT_EQ(c.agent->writeback[0].max_mib, 8u);
  EXPECT_TRUE(Validate(c).ok()) << ErrorOf(Validate(c));
  auto flag = ParseWritebackFlag("volume=1,max_mib=4,path=/a,b=c");
  ASSERT_TRUE(flag.ok()) << flag.error().message();
  EXPECT_EQ(flag->path, "/a,b=c") << "everything after path= is the path";
  EXPECT_EQ(flag->volume, 1u);
  EXPECT_EQ(flag->max_mib, 4u);
  EXPECT_NE(ParseWritebackFlag("volume=1,path=/a").error().message().find("needs volume=N, path=PATH and max_mib=M"),
            std::string::npos);
  EXPECT_NE(ParseWritebackFlag("volume=x,max_mib=1,path=/a").error().message().find("is not a number"),
            std::string::npos);
  EXPECT_NE(ParseWritebackFlag("mode=rw,path=/a").error().message().find("unknown item \"mode=rw\""),
            std::string::npos);
  auto invalid = [&](WritebackConfig w) {
    c.agent->writeback.push_back(w);
    std::string error = ErrorOf(Validate(c));
    c.agent->writeback.pop_back();
    return error;
  };
  EXPECT_EQ(invalid({2, "/other", 1}), "writeback volume 2: given twice");
  EXPECT_EQ(invalid({8, "/x", 1}), "writeback volume 8: the number is outside 0..7");
  EXPECT_EQ(invalid({3, "rel", 1}), "writeback volume 3: the path \"rel\" is not absolute");
  EXPECT_EQ(invalid({3, "/x", 0}), "writeback volume 3: max_mib 0 is out of range [1, 1048576]");
}

TEST(VmConfig, Flags) {
  auto d = ParseDiskFlag("id=root,path=/r.img,ro");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->id, "root");
  EXPECT_EQ(d->path, "/r.img");
  EXPECT_TRUE(d->read_only);
  EXPECT_FALSE(ParseDiskFlag("id=root,path=/r.img,cache=none").ok());
  EXPECT_FALSE(ParseDiskFlag("id").ok());
  EXPECT_EQ(ParseSerialFlag("file:/x")->path, "/x");
  EXPECT_EQ(ParseSerialFlag("none")->output, SerialConfig::Output::kNone);
  EXPECT_FALSE(ParseSerialFlag("tty").ok());
  EXPECT_EQ(ParseConsoleFlag("fd:7")->fd, 7);
  EXPECT_EQ(ParseConsoleFlag("socket:/s")->socket, "/s");
  EXPECT_FALSE(ParseConsoleFlag("fd:x").ok());
  EXPECT_FALSE(ParseConsoleFlag("fd:").ok());
  EXPECT_FALSE(ParseConsoleFlag("pipe").ok());
}

}  // namespace
}  // namespace bulkhead::vmm
