// `spec` writes the hardened default config.json; `features` prints what we support.
#include <fcntl.h>

#include "base/fs.h"
#include "oci/default_spec.h"
#include "oci/features.h"
#include "runtime/verbs.h"
#include "seccomp/default_profile.h"

namespace bulkhead::runtime {

Status Spec(const std::string& bundle) {
  std::string dir = bundle.empty() ? "." : bundle;
  std::string path = JoinPath(dir, "config.json");
  // O_EXCL: never overwrite a config someone wrote.
  Result<UniqueFd> fd = OpenFile(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
  if (!fd.ok()) {
    if (fd.error().errno_value() == EEXIST) return Error(path + " already exists; remove it first", EEXIST);
    return std::move(fd).error();
  }
  return WriteAll(fd->get(), oci::DefaultSpecJson(seccomp::DefaultProfile())).Context("writing " + path);
}

std::string Features() { return oci::FeaturesJson(); }

}  // namespace bulkhead::runtime
