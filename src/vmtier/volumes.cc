#include "vmtier/volumes.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>

#include "base/fs.h"
#include "vminit/layout.h"

namespace bulkhead::vmtier {

namespace {

bool HasOption(const oci::Mount& m, const std::string& option) {
  return std::find(m.options.begin(), m.options.end(), option) != m.options.end();
}

// The last "ro"/"rw" wins, as mount(8) reads them.
bool ReadOnly(const oci::Mount& m) {
  bool ro = false;
  for (const std::string& o : m.options) {
    if (o == "ro") ro = true;
    if (o == "rw") ro = false;
  }
  return ro;
}

std::string BaseName(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  size_t slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

}  // namespace

std::string Volume::GuestSource() const {
  return file ? guest_dir + "/" + BaseName(source) : guest_dir;
}

bool IsBindMount(const oci::Mount& m) {
  return m.type == "bind" || HasOption(m, "bind") || HasOption(m, "rbind");
}

Result<std::vector<Volume>> PlanVolumes(const oci::Config& config, const std::string& bundle) {
  std::vector<Volume> out;
  for (size_t i = 0; i < config.mounts.size(); ++i) {
    const oci::Mount& m = config.mounts[i];
    if (!IsBindMount(m)) continue;
    const std::string what = "mounts[" + std::to_string(i) + "] (" + m.destination + ")";
    if (m.source.empty()) return Error(what + ": a bind mount needs a source", EINVAL);
    Volume v;
    v.mount_index = i;
    v.writable = !ReadOnly(m);
    v.source = m.source[0] == '/' ? m.source : JoinPath(bundle, m.source);
    struct stat st {};
    if (stat(v.source.c_str(), &st) != 0) {
      return Error::FromErrno(what + ": the source " + v.source);
    }
    if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
      return Error(what + ": the source " + v.source +
                       " is neither a directory nor a regular file, which is all a volume "
                       "image can hold",
                   ENOTSUP);
    }
    v.file = S_ISREG(st.st_mode);
    // Imaged where it really is: a bind follows a symlinked source, and so does the image.
    char* real = realpath(v.source.c_str(), nullptr);
    if (real == nullptr) return Error::FromErrno(what + ": resolving the source " + v.source);
    v.source = real;
    free(real);
    if (out.size() == kMaxVolumes) {
      return Error(what + ": more than " + std::to_string(kMaxVolumes) +
                       " bind mounts; a VM has disks for " + std::to_string(kMaxVolumes),
                   E2BIG);
    }
    v.number = static_cast<uint32_t>(out.size());
    v.serial = "vol" + std::to_string(out.size());
    v.guest_dir = std::string(vminit::kVolumesDir) + "/" + std::to_string(out.size());
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace bulkhead::vmtier
