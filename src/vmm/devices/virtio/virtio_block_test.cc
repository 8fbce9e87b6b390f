#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "vmm/devices/virtio/block.h"
#include "vmm/devices/virtio/mmio.h"
#include "vmm/devices/virtio/test_driver.h"
#include "vmm/devices/virtio/test_ring.h"

namespace bulkhead::vmm {
namespace {

using testing::kDescIndirect;
using testing::kDescNext;
using testing::kDescWrite;
using testing::TestDriver;
using testing::TestRing;

constexpr uint64_t kMem = 16 << 20;
constexpr uint64_t kHdr = 0x40000;     // request header
constexpr uint64_t kData = 0x100000;   // data buffers
constexpr uint64_t kStatus = 0x50000;  // status byte
constexpr uint64_t kDiskSectors = 64;
constexpr uint64_t kFeatures = kVirtioFVersion1 | kVirtioFIndirectDesc | kVirtioBlkFFlush;

// A real disk image in a temp file (byte i of sector s is s ^ i), behind the
// transport, set up through MMIO as Linux's drivers do.
class BlockTest : public ::testing::Test {
 protected:
  BlockTest() : mem_(testing::MakeMemory(kMem)), ring_(mem_, 16, 0x1000, 0x2000, 0x3000) {}

  void SetUp() override {
    char path[] = "/tmp/bulkhead-blk-XXXXXX";
    int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    path_ = path;
    std::vector<uint8_t> image(kDiskSectors * 512);
    for (size_t i = 0; i < image.size(); ++i) image[i] = static_cast<uint8_t>((i / 512) ^ i);
    ASSERT_EQ(write(fd, image.data(), image.size()), static_cast<ssize_t>(image.size()));
    close(fd);
  }
  void TearDown() override { unlink(path_.c_str()); }

  void Start(bool read_only, std::string id = "disk-7") {
    auto blk = VirtioBlock::Open(path_, read_only, std::move(id));
    ASSERT_TRUE(blk.ok()) << blk.error().message();
    auto irq = Interrupt::Create();
    ASSERT_TRUE(irq.ok());
    auto t = MmioTransport::Create(mem_, std::move(*blk), std::move(*irq));
    ASSERT_TRUE(t.ok()) << t.error().message();
    transport_ = std::move(*t);
    driver_ = std::make_unique<TestDriver>(*transport_);
    ASSERT_TRUE(driver_->Init(kFeatures, {&ring_}));
  }

  void Header(uint32_t type, uint64_t sector, uint64_t at = kHdr) {
    ASSERT_TRUE(mem_.WriteObj<uint32_t>(GuestAddress(at), type).ok());
    ASSERT_TRUE(mem_.WriteObj<uint32_t>(GuestAddress(at + 4), 0).ok());
    ASSERT_TRUE(mem_.WriteObj<uint64_t>(GuestAddress(at + 8), sector).ok());
  }
  // Submits the chain starting at descriptor `head`; returns the status byte
  // (0xee when the device did not write one) and the used length.
  std::pair<uint8_t, uint32_t> Submit(uint16_t head = 0) {
    EXPECT_TRUE(mem_.WriteObj<uint8_t>(GuestAddress(kStatus), 0xee).ok());
    const uint16_t before = ring_.UsedIdx();
    ring_.Publish(head);
    driver_->Notify(0);
    EXPECT_EQ(ring_.UsedIdx(), static_cast<uint16_t>(before + 1)) << "request not completed";
    EXPECT_EQ(ring_.UsedId(before), head);
    return {*mem_.ReadObj<uint8_t>(GuestAddress(kStatus)), ring_.UsedLen(before)};
  }
  // The classic three-descriptor request: header, one data buffer, status.
  std::pair<uint8_t, uint32_t> Simple(uint32_t type, uint64_t sector, uint32_t len, bool data_writable) {
    Header(type, sector);
    ring_.SetDesc(0, kHdr, 16, kDescNext, 1);
    ring_.SetDesc(1, kData, len, static_cast<uint16_t>(kDescNext | (data_writable ? kDescWrite : 0)), 2);
    ring_.SetDesc(2, kStatus, 1, kDescWrite);
    return Submit();
  }
  std::vector<uint8_t> Guest(uint64_t at, size_t n) {
    std::vector<uint8_t> v(n);
    EXPECT_TRUE(mem_.Read(GuestAddress(at), v).ok());
    return v;
  }
  std::vector<uint8_t> File(uint64_t off, size_t n) {
    std::vector<uint8_t> v(n);
    int fd = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    EXPECT_EQ(pread(fd, v.data(), n, static_cast<off_t>(off)), static_cast<ssize_t>(n));
    close(fd);
    return v;
  }
  bool Healthy() { return (transport_->status() & kStatusNeedsReset) == 0; }

  std::string path_;
  GuestMemory mem_;
  TestRing ring_;
  std::shared_ptr<MmioTransport> transport_;
  std::unique_ptr<TestDriver> driver_;
};

TEST_F(BlockTest, ConfigAndFeatures) {
  Start(false);
  const uint64_t f = driver_->DeviceFeatures();
  EXPECT_EQ(f & kVirtioBlkFRo, 0u);
  EXPECT_NE(f & kVirtioBlkFFlush, 0u);
  EXPECT_NE(f & kVirtioBlkFSegMax, 0u);
  uint8_t cap[8];
  transport_->Read(mmio::kConfig, cap);
  uint64_t capacity;
  memcpy(&capacity, cap, 8);
  EXPECT_EQ(capacity, kDiskSectors);
  EXPECT_EQ(driver_->Read32(mmio::kConfig + 4), 0u);  // high half, as Linux reads it
  EXPECT_EQ(driver_->Read32(mmio::kConfig + 8), VirtioBlock::kSizeMax);
  EXPECT_EQ(driver_->Read32(mmio::kConfig + 12), VirtioBlock::kSegMax);
  uint8_t byte = 0xff;
  transport_->Read(mmio::kConfig, {&byte, 1});
  EXPECT_EQ(byte, kDiskSectors);
  EXPECT_EQ(driver_->Read32(mmio::kConfig + 24), 0u);  // past the config: zeros
}

TEST_F(BlockTest, ReadIntoSplitBuffers) {
  Start(false);
  Header(kVirtioBlkTIn, 3);
  ring_.SetDesc(0, kHdr, 16, kDescNext, 1);
  ring_.SetDesc(1, kData, 700, kDescWrite | kDescNext, 2);
  ring_.SetDesc(2, kData + 0x10000, 324, kDescWrite | kDescNext, 3);
  ring_.SetDesc(3, kStatus, 1, kDescWrite);
  auto [status, used] = Submit();
  EXPECT_EQ(status, kVirtioBlkSOk);
  EXPECT_EQ(used, 1025u);
  std::vector<uint8_t> got = Guest(kData, 700);
  auto tail = Guest(kData + 0x10000, 324);
  got.insert(got.end(), tail.begin(), tail.end());
  EXPECT_EQ(got, File(3 * 512, 1024));
}

TEST_F(BlockTest, WriteThenReadBack) {
  Start(false);
  std::vector<uint8_t> data(1024);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7);
  ASSERT_TRUE(mem_.Write(GuestAddress(kData), data).ok());
  auto [status, used] = Simple(kVirtioBlkTOut, 10, 1024, false);
  EXPECT_EQ(status, kVirtioBlkSOk);
  EXPECT_EQ(used, 1u);
  EXPECT_EQ(File(10 * 512, 1024), data);
  EXPECT_EQ(Simple(kVirtioBlkTFlush, 0, 512, false).first, kVirtioBlkSIoErr);  // flush carrying data
  Header(kVirtioBlkTFlush, 0);
  ring_.SetDesc(0, kHdr, 16, kDescNext, 1);
  ring_.SetDesc(1, kStatus, 1, kDescWrite);
  EXPECT_EQ(Submit(), std::make_pair(kVirtioBlkSOk, 1u));
}

TEST_F(BlockTest, GetIdIsPaddedToTwentyBytes) {
  Start(false, "disk-7");
  std::vector<uint8_t> junk(20, 0xaa);
  ASSERT_TRUE(mem_.Write(GuestAddress(kData), junk).ok());
  auto [status, used] = Simple(kVirtioBlkTGetId, 0, 20, true);
  EXPECT_EQ(status, kVirtioBlkSOk);
  EXPECT_EQ(used, 21u);
  std::vector<uint8_t> want(20, 0);
  memcpy(want.data(), "disk-7", 6);
  EXPECT_EQ(Guest(kData, 20), want);
}

TEST_F(BlockTest, ReadOnlyDiskRefusesWritesButReads) {
  Start(true);
  EXPECT_NE(driver_->DeviceFeatures() & kVirtioBlkFRo, 0u);
  const auto before = File(0, 512);
  std::vector<uint8_t> zeros(512, 0);
  ASSERT_TRUE(mem_.Write(GuestAddress(kData), zeros).ok());
  EXPECT_EQ(Simple(kVirtioBlkTOut, 0, 512, false).first, kVirtioBlkSIoErr);
  EXPECT_EQ(File(0, 512), before);
  EXPECT_EQ(Simple(kVirtioBlkTIn, 0, 512, true).first, kVirtioBlkSOk);
  EXPECT_EQ(Guest(kData, 512), before);
}

TEST_F(BlockTest, ReadOnlyNeedsAReadOnlyFd) {
  int fd = open(path_.c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_FALSE(VirtioBlock::Create(UniqueFd(fd), true, "x").ok());
  EXPECT_FALSE(VirtioBlock::Open(path_, false, std::string(21, 'x')).ok());
  EXPECT_FALSE(VirtioBlock::Open("/nonexistent/disk.img", true, "x").ok());
  auto ok = VirtioBlock::Open(path_, true, std::string(20, 'x'));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)->capacity_sectors(), kDiskSectors);
}

TEST_F(BlockTest, HeaderAndDataMayShareDescriptors) {
  Start(false);
  // One readable descriptor holding header and data, one writable holding
  // nothing but the status: any layout is the same request.
  std::vector<uint8_t> data(512, 0x5c);
  Header(kVirtioBlkTOut, 1, kData);
  ASSERT_TRUE(mem_.Write(GuestAddress(kData + 16), data).ok());
  ring_.SetDesc(0, kData, 16 + 512, kDescNext, 1);
  ring_.SetDesc(1, kStatus, 1, kDescWrite);
  EXPECT_EQ(Submit().first, kVirtioBlkSOk);
  EXPECT_EQ(File(512, 512), data);
  // Header split in two, status at the end of the data buffer.
  Header(kVirtioBlkTIn, 2);
  ring_.SetDesc(0, kHdr, 8, kDescNext, 1);
  ring_.SetDesc(1, kHdr + 8, 8, kDescNext, 2);
  ring_.SetDesc(2, kStatus - 512, 513, kDescWrite);
  auto [status, used] = Submit();
  EXPECT_EQ(status, kVirtioBlkSOk);
  EXPECT_EQ(used, 513u);
  EXPECT_EQ(Guest(kStatus - 512, 512), File(1024, 512));
}

TEST_F(BlockTest, IndirectRequest) {
  Start(false);
  Header(kVirtioBlkTIn, 5);
  const uint64_t table = 0x8000;
  ring_.WriteDescAt(table, kHdr, 16, kDescNext, 1);
  ring_.WriteDescAt(table + 16, kData, 512, kDescWrite | kDescNext, 2);
  ring_.WriteDescAt(table + 32, kStatus, 1, kDescWrite, 0);
  ring_.SetDesc(7, table, 48, kDescIndirect);
  auto [status, used] = Submit(7);
  EXPECT_EQ(status, kVirtioBlkSOk);
  EXPECT_EQ(used, 513u);
  EXPECT_EQ(Guest(kData, 512), File(5 * 512, 512));
}

struct Malformed {
  const char* name;
  uint32_t type;
  uint64_t sector;
  uint32_t header_len;  // readable bytes of descriptor 0
  uint32_t data_len;
  bool data_writable;
  uint8_t want;
};

class BlockMalformed : public BlockTest, public ::testing::WithParamInterface<Malformed> {};

TEST_P(BlockMalformed, AnsweredWithAnErrorStatus) {
  const Malformed& p = GetParam();
  Start(false);
  const auto before = File(0, kDiskSectors * 512);
  Header(p.type, p.sector);
  ring_.SetDesc(0, kHdr, p.header_len, kDescNext, 1);
  ring_.SetDesc(1, kData, p.data_len, static_cast<uint16_t>(kDescNext | (p.data_writable ? kDescWrite : 0)), 2);
  ring_.SetDesc(2, kStatus, 1, kDescWrite);
  auto [status, used] = Submit();
  EXPECT_EQ(status, p.want);
  EXPECT_EQ(used, 1u);
  EXPECT_EQ(File(0, kDiskSectors * 512), before);
  EXPECT_TRUE(Healthy());
  // The queue keeps going.
  EXPECT_EQ(Simple(kVirtioBlkTIn, 0, 512, true).first, kVirtioBlkSOk);
}

INSTANTIATE_TEST_SUITE_P(
    All, BlockMalformed,
    ::testing::Values(
        Malformed{"ShortHeader", kVirtioBlkTIn, 0, 8, 512, true, kVirtioBlkSIoErr},
        Malformed{"NotWholeSectors", kVirtioBlkTIn, 0, 16, 500, true, kVirtioBlkSIoErr},
        Malformed{"WriteNotWholeSectors", kVirtioBlkTOut, 0, 16, 513, false, kVirtioBlkSIoErr},
        Malformed{"ReadPastTheEnd", kVirtioBlkTIn, kDiskSectors - 1, 16, 1024, true, kVirtioBlkSIoErr},
        Malformed{"WritePastTheEnd", kVirtioBlkTOut, kDiskSectors, 16, 512, false, kVirtioBlkSIoErr},
        Malformed{"SectorOverflows", kVirtioBlkTIn, UINT64_MAX / 512 + 2, 16, 512, true, kVirtioBlkSIoErr},
        Malformed{"HugeSector", kVirtioBlkTOut, UINT64_MAX, 16, 512, false, kVirtioBlkSIoErr},
        Malformed{"ReadWithReadableData", kVirtioBlkTIn, 0, 16, 512, false, kVirtioBlkSIoErr},
        Malformed{"WriteWithWritableData", kVirtioBlkTOut, 0, 16, 512, true, kVirtioBlkSIoErr},
        Malformed{"UnknownType", 99, 0, 16, 512, true, kVirtioBlkSUnsupp},
        Malformed{"LegacyScsi", 2, 0, 16, 512, true, kVirtioBlkSUnsupp},
        Malformed{"GetIdWithReadableData", kVirtioBlkTGetId, 0, 16, 20, false, kVirtioBlkSIoErr}),
    [](const auto& test_info) { return std::string(test_info.param.name); });

TEST_F(BlockTest, TooLargeRequestIsRefused) {
  const uint32_t len = static_cast<uint32_t>(VirtioBlock::kMaxDataBytes + 512);
  // A disk big enough that only the size limit refuses it.
  ASSERT_EQ(truncate(path_.c_str(), 64 << 20), 0);
  Start(false);
  EXPECT_EQ(Simple(kVirtioBlkTIn, 0, len, true).first, kVirtioBlkSIoErr);
  EXPECT_EQ(Simple(kVirtioBlkTIn, 0, static_cast<uint32_t>(VirtioBlock::kMaxDataBytes), true).first,
            kVirtioBlkSOk);
}

TEST_F(BlockTest, ChainWithoutStatusIsReturnedEmptyAndTheQueueGoesOn) {
  Start(false);
  Header(kVirtioBlkTIn, 0);
  ring_.SetDesc(0, kHdr, 16, kDescNext, 1);
  ring_.SetDesc(1, kData, 512, 0);
  auto [status, used] = Submit();
  EXPECT_EQ(status, 0xee);
  EXPECT_EQ(used, 0u);
  EXPECT_TRUE(Healthy());
  EXPECT_EQ(Simple(kVirtioBlkTIn, 0, 512, true).first, kVirtioBlkSOk);
}

TEST_F(BlockTest, OnlyAStatusByte) {
  Start(false);
  ring_.SetDesc(0, kStatus, 1, kDescWrite);
  EXPECT_EQ(Submit(), std::make_pair(kVirtioBlkSIoErr, 1u));
}

TEST_F(BlockTest, DiskShrunkUnderneathGivesIoError) {
  Start(false);
  ASSERT_EQ(truncate(path_.c_str(), 512), 0);
  EXPECT_EQ(Simple(kVirtioBlkTIn, 4, 512, true).first, kVirtioBlkSIoErr);
}

}  // namespace
}  // namespace bulkhead::vmm
