// The write-back against real directories: what a guest may change, what it can never reach,
// and which of its mistakes end the sandbox.
#include "vmm/agent/volume_sink.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"

namespace bulkhead::vmm::agent {
namespace {

using vmproto::EntryKind;
using vmproto::VolumeEntry;

std::string TempDir() {
  char tmpl[] = "/tmp/bh-sink-XXXXXX";
  char* d = mkdtemp(tmpl);
  EXPECT_NE(d, nullptr);
  return d;
}

std::string Read(const std::string& path) {
  auto text = ReadFile(path);
  return text.ok() ? *text : "<" + text.error().message() + ">";
}

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(lstat(path.c_str(), &st), 0) << path;
  return st.st_mode;
}

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

class VolumeSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = TempDir();
    volume_ = base_ + "/volume";
    outside_ = base_ + "/outside";
    ASSERT_TRUE(MkdirAll(volume_).ok());
    ASSERT_TRUE(MkdirAll(outside_).ok());
    ASSERT_TRUE(WriteFileAtomic(outside_ + "/secret", "host only").ok());
    umask_ = umask(0);
  }
  void TearDown() override {
    umask(umask_);
    (void)RemoveAll(base_);
  }

  // A sink with volume 2 on volume_ (directory) and volume 5 on file_ when it exists.
  VolumeSink Sink(uint64_t max_bytes = 1 << 20, uint64_t max_entries = 100) {
    std::vector<WritebackTarget> targets;
    WritebackTarget dir;
    dir.volume = 2;
    dir.host_path = volume_;
    dir.fd = UniqueFd(open(volume_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    dir.max_bytes = max_bytes;
    dir.max_entries = max_entries;
    targets.push_back(std::move(dir));
    if (PathExists(file_)) {
      WritebackTarget file;
      file.volume = 5;
      file.host_path = file_;
      file.fd = UniqueFd(open(file_.c_str(), O_WRONLY | O_CLOEXEC));
      file.file = true;
      file.file_name = "termination-log";
      file.max_bytes = max_bytes;
      file.max_entries = max_entries;
      targets.push_back(std::move(file));
    }
    return VolumeSink(std::move(targets), [this](const std::string& w) { warnings_.push_back(w); });
  }

  // A whole file: its entry, then its bytes in chunks of `chunk`.
  Status SendFile(VolumeSink& sink, uint32_t volume, const std::string& path, const std::string& body,
                  uint32_t mode = 0644, size_t chunk = 3) {
    BH_TRY(sink.OnEntry(VolumeEntry{volume, EntryKind::kFile, mode, body.size(), path}));
    for (size_t i = 0; i < body.size(); i += chunk) {
      BH_TRY(sink.OnData(Bytes(body.substr(i, chunk))));
    }
    return Ok();
  }

  std::string base_, volume_, outside_, file_;
  std::vector<std::string> warnings_;
  mode_t umask_ = 0;
};

TEST_F(VolumeSinkTest, DirectoriesFilesAndRemovalsLand) {
  ASSERT_TRUE(MkdirAll(volume_ + "/old/deep/er").ok());
  ASSERT_TRUE(WriteFileAtomic(volume_ + "/old/deep/er/f", "x").ok());
  ASSERT_TRUE(WriteFileAtomic(volume_ + "/gone", "x").ok());
  ASSERT_TRUE(WriteFileAtomic(volume_ + "/kept", "untouched").ok());
  VolumeSink sink = Sink();
  ASSERT_TRUE(sink.OnEntry({2, EntryKind::kDirectory, 0750, 0, "logs"}).ok());
  ASSERT_TRUE(SendFile(sink, 2, "logs/app.log", "line one\nline two\n", 0640).ok());
  ASSERT_TRUE(SendFile(sink, 2, "empty", "").ok());
  ASSERT_TRUE(sink.OnEntry({2, EntryKind::kRemoved, 0, 0, "gone"}).ok());
  ASSERT_TRUE(sink.OnEntry({2, EntryKind::kRemoved, 0, 0, "old"}).ok());
  ASSERT_TRUE(sink.OnEntry({2, EntryKind::kRemoved, 0, 0, "never-there"}).ok());
  // A directory the guest made unwritable still takes what the guest put in it.
  ASSERT_TRUE(sink.OnEntry({2, EntryKind::kDirectory, 0500, 0, "locked"}).ok());
  ASSERT_TRUE(SendFile(sink, 2, "locked/inside", "in").ok());
  ASSERT_TRUE(sink.Finish().ok());
  EXPECT_EQ(ModeOf(volume_ + "/locked") & 07777, 0700u);
  EXPECT_EQ(Read(volume_ + "/locked/inside"), "in");
  EXPECT_EQ(Read(volume_ + "/logs/app.log"), "line one\nline two\n");
  EXPECT_EQ(ModeOf(volume_ + "/logs/app.log") & 07777, 0640u);
  EXPECT_EQ(ModeOf(volume_ + "/logs") & 07777, 0750u);
  EXPECT_EQ(Read(volume_ + "/empty"), "");
  EXPECT_FALSE(PathExists(volume_ + "/gone"));
  EXPECT_FALSE(PathExists(volume_ + "/old"));
  EXPECT_EQ(Read(volume_ + "/kept"), "untouched");
  EXPECT_TRUE(warnings_.empty()) << warnings_[0];
}

TEST_F(VolumeSinkTest, ReplacesWhatIsInTheWay) {
  ASSERT_TRUE(MkdirAll(volume_ + "/was-dir/sub").ok());
  ASSERT_TRUE(WriteFileAtomic(volume_ + "/was-dir/sub/f", "x").ok());
  ASSERT_TRUE(WriteFileAtomic(volume_ + "/was-file", "x").ok());
  ASSERT_TRUE(MkdirAll(volume_ + "/opaque/stale").ok());
  ASSERT_TRUE(WriteFileAtomic(volume_ + "/opaque/stale.txt", "x").ok());
  ASSERT_EQ(mkfifo((volume_ + "/fifo").c_str(), 0600), 0);
  ASSERT_EQ(truncate((volume_ + "/was-file").c_str(), 0), 0);
  VolumeSink sink = Sink();
  ASSERT_TRUE(SendFile(sink, 2, "was-dir", "now a file").ok());
  ASSERT_TRUE(sink.OnEntry({2, EntryKind::kDirectory, 0755, 0, "was-file"}).ok());
  ASSERT_TRUE(sink.OnEntry({2, EntryKind::kOpaqueDirectory, 0755, 0, "opaque"}).ok());
  ASSERT_TRUE(SendFile(sink, 2, "opaque/new", "fresh").ok());
  // A fifo is replaced, never opened (which would block with no reader).
  ASSERT_TRUE(SendFile(sink, 2, "fifo", "data").ok());
  ASSERT_TRUE(sink.Finish().ok());
  EXPECT_EQ(Read(volume_ + "/was-dir"), "now a file");
  EXPECT_TRUE(S_ISDIR(ModeOf(volume_ + "/was-file")));
  EXPECT_FALSE(PathExists(volume_ + "/opaque/stale"));
  EXPECT_FALSE(PathExists(volume_ + "/opaque/stale.txt"));
  EXPECT_EQ(Read(volume_ + "/opaque/new"), "fresh");
  EXPECT_EQ(Read(volume_ + "/fifo"), "data");
  EXPECT_TRUE(warnings_.empty()) << warnings_[0];
}

TEST_F(VolumeSinkTest, NothingOutsideTheVolumeIsReached) {
  // Links on the host side, planted where the guest's paths go.
  ASSERT_EQ(symlink(outside_.c_str(), (volume_ + "/link-dir").c_str()), 0);
  ASSERT_EQ(symlink((outside_ + "/secret").c_str(), (volume_ + "/link-file").c_str()), 0);
  ASSERT_EQ(symlink("../outside", (volume_ + "/rel-link").c_str()), 0);
  VolumeSink sink = Sink();
  // Through a linked directory: refused by the kernel, reported, skipped (bytes taken in).
  ASSERT_TRUE(SendFile(sink, 2, "link-dir/secret", "overwritten").ok());
  ASSERT_TRUE(SendFile(sink, 2, "rel-link/planted", "x").ok());
  ASSERT_TRUE(sink.OnEntry({2, EntryKind::kRemoved, 0, 0, "link-dir/secret"}).ok());
  ASSERT_TRUE(sink.OnEntry({2, EntryKind::kDirectory, 0755, 0, "rel-link/made"}).ok());
  // A link as the file itself: the link goes, a file takes its place; its target stays.
  ASSERT_TRUE(SendFile(sink, 2, "link-file", "mine").ok());
  // Opaque over a linked directory: the link is replaced, the target not emptied.
  ASSERT_TRUE(sink.OnEntry({2, EntryKind::kOpaqueDirectory, 0755, 0, "rel-link"}).ok());
  // Setuid, setgid and sticky bits never reach the host.
  ASSERT_TRUE(SendFile(sink, 2, "suid", "#!/bin/sh\n", 06777).ok());
  ASSERT_TRUE(sink.Finish().ok());
  EXPECT_EQ(Read(outside_ + "/secret"), "host only");
  EXPECT_FALSE(PathExists(outside_ + "/planted"));
  EXPECT_FALSE(PathExists(outside_ + "/made"));
  EXPECT_EQ(Read(volume_ + "/link-file"), "mine");
  EXPECT_TRUE(S_ISREG(ModeOf(volume_ + "/link-file")));
  EXPECT_TRUE(S_ISDIR(ModeOf(volume_ + "/rel-link")));
  EXPECT_EQ(ModeOf(volume_ + "/suid") & 07777, 0777u);
  EXPECT_TRUE(S_ISLNK(ModeOf(volume_ + "/link-dir")));
  ASSERT_EQ(warnings_.size(), 4u);
  EXPECT_NE(warnings_[0].find("writing back volume 2 (" + volume_ + "): link-dir/secret: opening link-dir"),
            std::string::npos)
      << warnings_[0];
  EXPECT_EQ(sink.failures(), 4u);
}

TEST_F(VolumeSinkTest, AFileVolumeIsRewrittenInPlace) {
  file_ = base_ + "/termination-log";
  ASSERT_TRUE(WriteFileAtomic(file_, "a much longer message from before", 0666).ok());
  ASSERT_EQ(link(file_.c_str(), (base_ + "/other-name").c_str()), 0);
  VolumeSink sink = Sink();
  ASSERT_TRUE(SendFile(sink, 5, "termination-log", "done: 3 errors", 0600).ok());
  ASSERT_TRUE(sink.Finish().ok());
  EXPECT_EQ(Read(file_), "done: 3 errors");
  EXPECT_EQ(Read(base_ + "/other-name"), "done: 3 errors") << "the same file, not a new one";
  EXPECT_EQ(ModeOf(file_) & 0777, 0666u) << "the host file keeps its mode";
  // Anything but the file itself breaks the rules.
  VolumeSink again = Sink();
  EXPECT_FALSE(again.OnEntry({5, EntryKind::kFile, 0644, 1, "other"}).ok());
  VolumeSink dir = Sink();
  EXPECT_FALSE(dir.OnEntry({5, EntryKind::kDirectory, 0755, 0, "termination-log"}).ok());
  VolumeSink removal = Sink();
  EXPECT_FALSE(removal.OnEntry({5, EntryKind::kRemoved, 0, 0, "termination-log"}).ok());
}

TEST_F(VolumeSinkTest, RuleBreakingEndsTheSandbox) {
  auto error = [](const Status& s) { return s.ok() ? std::string("accepted") : s.error().message(); };
  {
    VolumeSink sink = Sink();
    EXPECT_EQ(error(sink.OnEntry({3, EntryKind::kDirectory, 0755, 0, "a"})),
              "volume 3 is not a writable volume of this VM");
  }
  {
    VolumeSink sink = Sink();
    EXPECT_EQ(error(sink.OnData(Bytes("x"))), "volume-data with no file announced");
  }
  {
    VolumeSink sink = Sink();
    ASSERT_TRUE(sink.OnEntry({2, EntryKind::kFile, 0644, 2, "f"}).ok());
    EXPECT_EQ(error(sink.OnData(Bytes("abc"))), "volume 2: 3 bytes of volume-data where 2 were due");
  }
  {
    VolumeSink sink = Sink();
    ASSERT_TRUE(sink.OnEntry({2, EntryKind::kFile, 0644, 2, "f"}).ok());
    ASSERT_TRUE(sink.OnData(Bytes("a")).ok());
    EXPECT_EQ(error(sink.OnEntry({2, EntryKind::kDirectory, 0755, 0, "d"})),
              "volume 2: a new entry while 1 bytes of the last file are still due");
    EXPECT_EQ(error(sink.Finish()), "volume 2: the guest ended with 1 bytes of f still due");
  }
  {
    VolumeSink sink = Sink(10);
    ASSERT_TRUE(SendFile(sink, 2, "a", "123456").ok());
    EXPECT_EQ(error(sink.OnEntry({2, EntryKind::kFile, 0644, 5, "b"})), "volume 2: more than its 10 bytes");
  }
  {
    VolumeSink sink = Sink(1 << 20, 2);
    ASSERT_TRUE(sink.OnEntry({2, EntryKind::kDirectory, 0755, 0, "a"}).ok());
    ASSERT_TRUE(sink.OnEntry({2, EntryKind::kRemoved, 0, 0, "b"}).ok());
    EXPECT_EQ(error(sink.OnEntry({2, EntryKind::kRemoved, 0, 0, "c"})), "volume 2: more than 2 entries");
  }
}

TEST_F(VolumeSinkTest, HostFailuresAreCountedNotEndless) {
  ASSERT_TRUE(WriteFileAtomic(volume_ + "/not-a-dir", "x").ok());
  VolumeSink sink = Sink();
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(sink.OnEntry({2, EntryKind::kDirectory, 0755, 0, "not-a-dir/" + std::to_string(i)}).ok());
  }
  ASSERT_TRUE(sink.Finish().ok());
  EXPECT_EQ(sink.failures(), 40u);
  ASSERT_EQ(warnings_.size(), kMaxWarnings + 1);
  EXPECT_EQ(warnings_.back(), "writing back volumes: 24 more failures not shown");
}

}  // namespace
}  // namespace bulkhead::vmm::agent
