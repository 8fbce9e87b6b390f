#include "vmimage/image_cache.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <optional>

#include "base/fs.h"
#include "vmimage/cache_dir.h"
#include "vmimage/mkfs.h"
#include "vmimage/record.h"
#include "vmimage/sha256.h"

namespace bulkhead::vmimage {
namespace {

// What a key covers besides the tree: a format version, the exact mkfs.erofs (the SHA-256 of
// its binary, so an upgrade gives new keys) and the arguments it is run with.
Result<std::string> KeyPreamble(const ImageCache& cache) {
  BH_ASSIGN(std::string binary, ReadFile(cache.mkfs, 256u << 20));
  Sha256 h;
  h.Update(binary);
  Digest d = h.Finish();
  std::vector<std::string> args = MkfsBaseArgs();
  args.insert(args.end(), cache.mkfs_args.begin(), cache.mkfs_args.end());
  Record r;
  r.Bytes("bulkhead vm image 1").Raw(View(d));
  r.U64(args.size());
  for (const std::string& a : args) r.Bytes(a);
  return r.bytes();
}

// A UUID taken from the key: the same tree and tools give the same image bytes.
std::vector<std::string> UuidArgs(const std::string& key) {
  std::string u = key.substr(0, 32);
  for (size_t pos : {20u, 16u, 12u, 8u}) u.insert(pos, "-");
  return {"-U", u};
}

Result<UniqueFd> OpenRootfs(const std::string& rootfs) {
  // The last component must not be a symlink: a bundle's "rootfs -> /" would image the host.
  UniqueFd fd(::open(rootfs.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    int err = errno;
    struct stat st;
    if (::lstat(rootfs.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
      return Error("it is a symlink; pass the directory itself", ELOOP);
    }
    return Error::Errno(err, "opening");
  }
  return fd;
}

Result<std::optional<HeldImage>> TryHold(const CacheDir& dir, const std::string& key,
                                         ImageOrigin origin) {
  BH_ASSIGN(UniqueFd fd, dir.Hold(key));
  if (!fd) return std::optional<HeldImage>();
  return std::optional<HeldImage>(HeldImage{dir.ImagePath(key), key, origin, std::move(fd)});
}

Result<HeldImage> Ensure(const std::string& rootfs, const ImageCache& cache) {
  BH_ASSIGN(CacheDir dir, CacheDir::Open(cache.dir));
  BH_ASSIGN(std::string preamble, KeyPreamble(cache).Context("keying by " + cache.mkfs));
  BH_ASSIGN(UniqueFd root, OpenRootfs(rootfs));
  if (cache.identity_memo) {
    BH_ASSIGN(WalkResult id, HashIdentity(root.get(), preamble, cache.limits));
    std::optional<std::string> key;
    if (id.memo_safe) key = dir.LookupIndex(Hex(id.identity));
    if (key) {
      BH_ASSIGN(auto held, TryHold(dir, *key, ImageOrigin::kSameIdentity));
      if (held) return std::move(*held);
    }
  }
  // Reading and hashing costs a fraction of copying: when the image exists, that is all.
  BH_ASSIGN(WalkResult read, HashContent(root.get(), preamble, cache.limits));
  BH_ASSIGN(auto held, TryHold(dir, Hex(read.content), ImageOrigin::kSameContent));
  if (held) {
    if (cache.identity_memo && read.memo_safe) {
      BH_TRY(dir.RecordIndex(Hex(read.identity), held->key));
    }
    return std::move(*held);
  }
  // The tenant's tree can change under us; the private copy cannot. Hash and image the copy.
  BH_ASSIGN(Staging staging, dir.NewStaging());
  BH_ASSIGN(WalkResult walk, StageTree(root.get(), staging.root_fd(), preamble, cache.limits));
  std::string key = Hex(walk.content);
  BH_ASSIGN(KeyLock lock, dir.LockKey(key));
  BH_ASSIGN(held, TryHold(dir, key, ImageOrigin::kSameContent));  // built meanwhile
  if (!held) {
    std::vector<std::string> args = MkfsBaseArgs();
    args.insert(args.end(), cache.mkfs_args.begin(), cache.mkfs_args.end());
    for (std::string& a : UuidArgs(key)) args.push_back(std::move(a));
    BH_TRY(RunMkfs(cache.mkfs, args, staging.image_path(), staging.root_path()));
    BH_ASSIGN(UniqueFd fd, dir.Publish(staging, key));
    held = HeldImage{dir.ImagePath(key), key, ImageOrigin::kBuilt, std::move(fd)};
  }
  if (cache.identity_memo && walk.memo_safe) BH_TRY(dir.RecordIndex(Hex(walk.identity), key));
  return std::move(*held);
}

}  // namespace

Result<HeldImage> EnsureImage(const std::string& rootfs, const ImageCache& cache) {
  return Ensure(rootfs, cache).Context("image of rootfs " + Shown(rootfs));
}

}  // namespace bulkhead::vmimage
