// The write-back's walk over a real overlay, mounted with the guest's options: what a
// workload does in the merged directory is what the frames tell the host.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <map>

#include "base/fs.h"
#include "vminit/guest_fs.h"
#include "vminit/volume_sync.h"

namespace bulkhead::vminit {
namespace {

using vmproto::EntryKind;
using vmproto::VolumeData;
using vmproto::VolumeEntry;

class VolumeSyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/bh-volsync.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    base_ = tmpl;
    for (const char* d : {"lower", "upper", "work", "merged"}) ASSERT_TRUE(MkdirAll(base_ + "/" + d).ok());
    // The host directory as the image shows it.
    ASSERT_TRUE(MkdirAll(base_ + "/lower/keep").ok());
    ASSERT_TRUE(MkdirAll(base_ + "/lower/dir/sub").ok());
    ASSERT_TRUE(MkdirAll(base_ + "/lower/remade").ok());
    ASSERT_TRUE(WriteFileAtomic(base_ + "/lower/remade/old", "old").ok());
    ASSERT_TRUE(WriteFileAtomic(base_ + "/lower/keep/same", "same").ok());
    ASSERT_TRUE(WriteFileAtomic(base_ + "/lower/doomed", "x").ok());
    ASSERT_TRUE(WriteFileAtomic(base_ + "/lower/dir/sub/log", "first\n").ok());
    std::string options = WritableOverlayOptions(base_ + "/lower", base_ + "/upper", base_ + "/work");
    ASSERT_EQ(mount("overlay", (base_ + "/merged").c_str(), "overlay", 0, options.c_str()), 0)
        << "overlay: " << strerror(errno);
    mounted_ = true;
  }
  void TearDown() override {
    if (mounted_) umount2((base_ + "/merged").c_str(), MNT_DETACH);
    (void)RemoveAll(base_);
  }

  std::string M(const std::string& rel) { return base_ + "/merged/" + rel; }

  std::vector<vmproto::Message> Walk(uint32_t number = 3) {
    std::vector<vmproto::Message> sent;
    Status st = SendVolumeChanges(number, base_ + "/upper", [&](const vmproto::Message& m) {
      sent.push_back(m);
      return Ok();
    });
    EXPECT_TRUE(st.ok()) << st.error().message();
    return sent;
  }

  std::string base_;
  bool mounted_ = false;
};

TEST_F(VolumeSyncTest, AnUntouchedVolumeSendsNothing) { EXPECT_TRUE(Walk().empty()); }

TEST_F(VolumeSyncTest, WhatTheWorkloadChangedIsWhatGoesBack) {
  // Appended to a file two levels down, a new directory and file, a deletion, a directory
  // deleted and made again, a symlink (not carried), and a big file in several chunks.
  ASSERT_TRUE(WriteFileAtomic(M("dir/sub/log"), "first\nsecond\n", 0600).ok());
  ASSERT_TRUE(MkdirAll(M("new/deeper"), 0700).ok());
  ASSERT_TRUE(WriteFileAtomic(M("new/deeper/f"), "hi").ok());
  ASSERT_EQ(unlink(M("doomed").c_str()), 0);
  ASSERT_TRUE(RemoveAll(M("remade")).ok());
  ASSERT_EQ(mkdir(M("remade").c_str(), 0755), 0);
  ASSERT_TRUE(WriteFileAtomic(M("remade/fresh"), "fresh").ok());
  ASSERT_EQ(symlink("/etc/shadow", M("link").c_str()), 0);
  std::string big(vmproto::kMaxDataChunk * 2 + 7, 'b');
  ASSERT_TRUE(WriteFileAtomic(M("big"), big).ok());

  std::vector<vmproto::Message> sent = Walk();
  std::map<std::string, VolumeEntry> entries;
  std::map<std::string, std::string> bodies;
  std::vector<std::string> order;
  std::string current;
  for (const vmproto::Message& m : sent) {
    if (auto* e = std::get_if<VolumeEntry>(&m)) {
      EXPECT_EQ(e->volume, 3u);
      entries[e->path] = *e;
      order.push_back(e->path);
      current = e->path;
      bodies[current];
    } else {
      auto& d = std::get<VolumeData>(m);
      ASSERT_LE(d.bytes.size(), vmproto::kMaxDataChunk);
      bodies[current].append(d.bytes.begin(), d.bytes.end());
    }
  }
  EXPECT_EQ(entries.count("keep"), 0u) << "untouched directories stay out";
  EXPECT_EQ(entries.count("link"), 0u) << "symlinks are not carried";
  ASSERT_EQ(entries.count("dir/sub/log"), 1u);
  EXPECT_EQ(entries["dir"].kind, EntryKind::kDirectory);
  EXPECT_EQ(entries["dir/sub"].kind, EntryKind::kDirectory);
  EXPECT_EQ(entries["dir/sub/log"].kind, EntryKind::kFile);
  EXPECT_EQ(entries["dir/sub/log"].mode, 0600u);
  EXPECT_EQ(bodies["dir/sub/log"], "first\nsecond\n");
  EXPECT_EQ(entries["new"].mode, 0700u);
  EXPECT_EQ(bodies["new/deeper/f"], "hi");
  EXPECT_EQ(entries["doomed"].kind, EntryKind::kRemoved);
  EXPECT_EQ(entries["remade"].kind, EntryKind::kOpaqueDirectory);
  EXPECT_EQ(bodies["remade/fresh"], "fresh");
  EXPECT_EQ(entries.count("remade/old"), 0u);
  EXPECT_EQ(entries["big"].size, big.size());
  EXPECT_EQ(bodies["big"], big);
  // Parents before children, so the host always has the directory first.
  auto at = [&](const std::string& p) { return std::find(order.begin(), order.end(), p) - order.begin(); };
  EXPECT_LT(at("dir"), at("dir/sub"));
  EXPECT_LT(at("dir/sub"), at("dir/sub/log"));
  EXPECT_LT(at("new/deeper"), at("new/deeper/f"));
  EXPECT_LT(at("remade"), at("remade/fresh"));
  for (const vmproto::Message& m : sent) EXPECT_TRUE(vmproto::CheckMessage(m).ok());
}

TEST_F(VolumeSyncTest, RenamingALowerDirectoryIsRefused) {
  // With redirects off, the kernel refuses to rename a lower directory (EXDEV) and mv copies
  // it; the upper then holds plain entries the host can apply.
  EXPECT_NE(rename(M("dir").c_str(), M("moved").c_str()), 0);
  EXPECT_EQ(errno, EXDEV);
}

TEST_F(VolumeSyncTest, SendErrorsStopTheWalk) {
  ASSERT_TRUE(WriteFileAtomic(M("a"), "1").ok());
  ASSERT_TRUE(WriteFileAtomic(M("b"), "2").ok());
  int calls = 0;
  Status st = SendVolumeChanges(0, base_ + "/upper", [&](const vmproto::Message&) -> Status {
    ++calls;
    return Error("the host port was closed", EPIPE);
  });
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace bulkhead::vminit
