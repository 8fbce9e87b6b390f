#include "runtime/vm_volumes.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/defer.h"
#include "base/fs.h"
#include "vmimage/stage_copy.h"

namespace bulkhead::runtime {

namespace {

// The staged directory's own metadata is part of the image: it is made the same every time
// (mode 0755, the file's mtime), so an unchanged file maps to the same image.
Status SettleStageDir(const std::string& stage, const std::string& file) {
  struct stat st {};
  if (stat(file.c_str(), &st) != 0) return Error::FromErrno("stat of the staged " + file);
  timespec times[2] = {st.st_mtim, st.st_mtim};
  if (chmod(stage.c_str(), 0755) != 0 || utimensat(AT_FDCWD, stage.c_str(), times, 0) != 0) {
    return Error::FromErrno("settling the staged directory " + stage);
  }
  return Ok();
}

// A directory in `state_dir` holding the file under its own name: a hard link where the file
// system allows, else a copy.
Result<std::string> StageFile(const vmtier::Volume& v, const std::string& state_dir) {
  std::string stage = JoinPath(state_dir, v.serial);
  if (mkdir(stage.c_str(), 0700) != 0) return Error::FromErrno("staging volume " + v.source);
  std::string name = v.GuestSource().substr(v.guest_dir.size() + 1);
  std::string target = JoinPath(stage, name);
  if (link(v.source.c_str(), target.c_str()) == 0) {
    BH_TRY(SettleStageDir(stage, target));
    return stage;
  }
  BH_ASSIGN(UniqueFd src, OpenFile(v.source, O_RDONLY | O_NOFOLLOW));
  struct stat st {};
  if (fstat(src.get(), &st) != 0) return Error::FromErrno("stat of " + v.source);
  if (!S_ISREG(st.st_mode)) return Error(v.source + ": no longer a regular file", EINVAL);
  BH_ASSIGN(UniqueFd dst, OpenFile(target, O_WRONLY | O_CREAT | O_EXCL, st.st_mode & 07777));
  std::vector<uint8_t> buffer;
  BH_TRY(vmimage::CopyAndHash(src.get(), dst.get(), static_cast<uint64_t>(st.st_size), buffer)
             .Context("copying " + v.source));
  if (fchown(dst.get(), st.st_uid, st.st_gid) != 0 || fchmod(dst.get(), st.st_mode & 07777) != 0) {
    return Error::FromErrno("copying the owner and mode of " + v.source);
  }
  timespec times[2] = {st.st_atim, st.st_mtim};
  if (futimens(dst.get(), times) != 0) return Error::FromErrno("copying the times of " + v.source);
  dst.reset();
  BH_TRY(SettleStageDir(stage, target));
  return stage;
}

}  // namespace

Result<std::vector<vmimage::HeldImage>> ImageVolumes(const std::vector<vmtier::Volume>& volumes,
                                                     const vmimage::ImageCache& cache,
                                                     const std::string& state_dir) {
  std::vector<vmimage::HeldImage> images;
  for (const vmtier::Volume& v : volumes) {
    const std::string what = "imaging the volume " + v.source;
    if (!v.file) {
      BH_ASSIGN(vmimage::HeldImage image, vmimage::EnsureImage(v.source, cache).Context(what));
      images.push_back(std::move(image));
      continue;
    }
    BH_ASSIGN(std::string stage, StageFile(v, state_dir).Context(what));
    Defer unstage([&] { (void)RemoveAll(stage); });
    BH_ASSIGN(vmimage::HeldImage image, vmimage::EnsureImage(stage, cache).Context(what));
    images.push_back(std::move(image));
  }
  return images;
}

}  // namespace bulkhead::runtime
