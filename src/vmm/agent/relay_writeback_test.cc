// The relay's part in writing volumes back: the guest's volume frames reach the monitor's
// writer in order and before the main exit, and a guest that misuses them ends the sandbox.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"
#include "vmm/agent/relay_test_rig.h"

namespace bulkhead::vmm::agent {
namespace {

using testing::Rig;
using vmproto::EntryKind;
using vmproto::Exit;
using vmproto::ExitKind;
using vmproto::VolumeData;
using vmproto::VolumeEntry;

class RelayWriteback : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/bh-relay-wb.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { (void)RemoveAll(dir_); }

  std::vector<WritebackTarget> Targets() {
    std::vector<WritebackTarget> t(1);
    t[0].volume = 4;
    t[0].host_path = dir_;
    t[0].fd = UniqueFd(open(dir_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    t[0].max_bytes = 1 << 20;
    t[0].max_entries = 64;
    return t;
  }

  std::string dir_;
};

TEST_F(RelayWriteback, VolumeFramesLandBeforeTheExit) {
  Rig rig(false, Targets());
  rig.Started();
  rig.guest.Send(VolumeEntry{4, EntryKind::kDirectory, 0755, 0, "out"});
  rig.guest.Send(VolumeEntry{4, EntryKind::kFile, 0644, 6, "out/result"});
  rig.guest.Send(VolumeData{{'4', '2', '\n'}});
  rig.guest.Send(VolumeData{{'o', 'k', '\n'}});
  rig.guest.Send(Exit{1, ExitKind::kExited, 3, false});
  auto out = rig.Settle();
  ASSERT_TRUE(out);
  EXPECT_EQ(out->kind, Outcome::Kind::kWorkloadExited) << out->message;
  EXPECT_EQ(out->status, 3);
  auto text = ReadFile(dir_ + "/out/result");
  ASSERT_TRUE(text.ok()) << text.error().message();
  EXPECT_EQ(*text, "42\nok\n");
}

TEST_F(RelayWriteback, HostFailuresAreTheMonitorsLinesOnStderr) {
  Rig rig(false, Targets());
  rig.Started();
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/file", "x").ok());
  rig.guest.Send(VolumeEntry{4, EntryKind::kDirectory, 0755, 0, "file/sub"});
  rig.guest.Send(Exit{1, ExitKind::kExited, 0, false});
  auto out = rig.Settle();
  ASSERT_TRUE(out);
  EXPECT_EQ(out->kind, Outcome::Kind::kWorkloadExited) << out->message;
  std::string err = rig.ReadAll(rig.stderr_r.get());
  EXPECT_NE(err.find("bulkhead-vmm: writing back volume 4 (" + dir_ + "): file/sub: opening file"),
            std::string::npos)
      << err;
}

TEST_F(RelayWriteback, MisusedVolumeFramesEndTheSandbox) {
  struct Case {
    const char* name;
    std::function<void(Rig&)> send;
    const char* want;
  };
  std::vector<Case> cases = {
      {"before started",
       [](Rig& r) {
         r.guest.Send(vmproto::Hello{vmproto::kVersion, "6.1"});
         r.Connect().Send(vmproto::Start{"{}"});
         r.Settle();
         r.guest.Send(VolumeEntry{4, EntryKind::kDirectory, 0755, 0, "a"});
       },
       "volume-entry before the container's process started"},
      {"no such volume",
       [](Rig& r) {
         r.Started();
         r.guest.Send(VolumeEntry{1, EntryKind::kDirectory, 0755, 0, "a"});
       },
       "volume write-back: volume 1 is not a writable volume of this VM"},
      {"exit mid-file",
       [](Rig& r) {
         r.Started();
         r.guest.Send(VolumeEntry{4, EntryKind::kFile, 0644, 10, "a"});
         r.guest.Send(VolumeData{{'x'}});
         r.guest.Send(Exit{1, ExitKind::kExited, 0, false});
       },
       "the guest ended with 9 bytes of a still due"},
      {"unannounced data",
       [](Rig& r) {
         r.Started();
         r.guest.Send(VolumeData{{'x'}});
       },
       "volume-data with no file announced"},
  };
  for (Case& c : cases) {
    Rig rig(false, Targets());
    c.send(rig);
    auto out = rig.Settle();
    ASSERT_TRUE(out) << c.name;
    EXPECT_EQ(out->kind, Outcome::Kind::kGuestBrokeProtocol) << c.name;
    EXPECT_NE(out->message.find(c.want), std::string::npos) << c.name << ": " << out->message;
  }
}

}  // namespace
}  // namespace bulkhead::vmm::agent
