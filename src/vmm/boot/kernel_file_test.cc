#include "vmm/boot/kernel_file.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/unique_fd.h"

namespace bulkhead::vmm {
namespace {

TEST(KernelFile, BytesAndFileReadAlikeWithinBounds) {
  std::vector<uint8_t> bytes(5000);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 7);
  UniqueFd fd(memfd_create("kernel", MFD_CLOEXEC));
  ASSERT_TRUE(fd.valid());
  ASSERT_EQ(write(fd.get(), bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  for (const KernelFile& f : {KernelFile::FromBytes(bytes), KernelFile::FromFd(fd.get(), bytes.size())}) {
    auto part = f.Read(4990, 10);
    ASSERT_TRUE(part.ok()) << part.error().message();
    EXPECT_EQ(*part, std::vector<uint8_t>(bytes.begin() + 4990, bytes.end()));
    EXPECT_TRUE(f.Read(5000, 0).ok());
    EXPECT_FALSE(f.Read(4991, 10).ok());
    EXPECT_FALSE(f.Read(UINT64_MAX, 2).ok()) << "no wrap-around";
    EXPECT_FALSE(f.Contains(1, UINT64_MAX));
  }
}

TEST(KernelFile, AFileThatShrankIsAnError) {
  UniqueFd fd(memfd_create("kernel", MFD_CLOEXEC));
  ASSERT_EQ(ftruncate(fd.get(), 8192), 0);
  KernelFile f = KernelFile::FromFd(fd.get(), 8192);
  ASSERT_EQ(ftruncate(fd.get(), 100), 0);
  auto r = f.Read(0, 8192);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("shrank"), std::string::npos) << r.error().message();
}

}  // namespace
}  // namespace bulkhead::vmm
