// The image cache directory: its layout, locks and atomic publication. Root-only: the
// directory is 0700 and must belong to the caller, images are 0600.
//
//   <dir>/<key>.erofs            an image; its mtime is its last use (for Prune)
//   <dir>/index/<identity>       the key last staged for a tree identity (tree_walk.h)
//   <dir>/locks/<key>.lock       flocked while <key> is built; removed by the builder after
//   <dir>/tmp/<random>/          a build in progress, flocked: root/ (the staged copy), image
#pragma once

#include <optional>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace bulkhead::vmimage {

// A build's private directory; removed with everything in it when this object goes.
class Staging {
 public:
  Staging(Staging&&) = default;
  Staging& operator=(Staging&&) = delete;
  ~Staging();

  int root_fd() const { return root_.get(); }
  const std::string& root_path() const { return root_path_; }
  const std::string& image_path() const { return image_path_; }

 private:
  friend class CacheDir;
  Staging() = default;
  std::string path_, root_path_, image_path_;
  UniqueFd dir_, root_;
};

// An exclusive build lock on one key. Released and its file removed when this object goes;
// a waiter that then finds its file gone retries on a fresh one (LockKey). It must not
// outlive the CacheDir that made it.
class KeyLock {
 public:
  KeyLock(KeyLock&&) = default;
  KeyLock& operator=(KeyLock&&) = delete;
  ~KeyLock();

 private:
  friend class CacheDir;
  KeyLock() = default;
  int dir_ = -1;
  std::string name_;
  UniqueFd fd_;
};

class CacheDir {
 public:
  // Creates the directory (0700; missing parents 0755) and its subdirectories.
  static Result<CacheDir> Open(const std::string& path);

  int fd() const { return dir_.get(); }
  const std::string& path() const { return path_; }
  std::string ImagePath(const std::string& key) const { return path_ + "/" + key + ".erofs"; }

  // Opens <key>.erofs with a shared flock and marks it used now; an invalid fd if absent.
  Result<UniqueFd> Hold(const std::string& key) const;
  Result<KeyLock> LockKey(const std::string& key) const;
  Result<Staging> NewStaging() const;
  // fsyncs the staged image, makes it 0600 and renames it to <key>.erofs, holding it (as
  // Hold does) from before the rename, so that no Prune can take it from its builder.
  Result<UniqueFd> Publish(const Staging& staging, const std::string& key) const;

  std::optional<std::string> LookupIndex(const std::string& identity) const;
  Status RecordIndex(const std::string& identity, const std::string& key) const;

  int index_fd() const { return index_.get(); }
  int locks_fd() const { return locks_.get(); }
  int tmp_fd() const { return tmp_.get(); }

 private:
  std::string path_;
  UniqueFd dir_, index_, locks_, tmp_;
};

// A key is 64 lowercase hex digits; anything else in the cache directory is not an image.
bool IsKey(std::string_view s);

}  // namespace bulkhead::vmimage
