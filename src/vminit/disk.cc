#include "vminit/disk.h"

#include <dirent.h>

#include <algorithm>
#include <vector>

#include "base/fs.h"

namespace bulkhead::vminit {

namespace {

// A serial is at most 20 bytes (VIRTIO_BLK_ID_BYTES); sysfs adds a newline.
constexpr size_t kMaxSerialFile = 64;

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

Result<std::vector<std::string>> VirtioDisks(const std::string& sys_block) {
  DIR* d = opendir(sys_block.c_str());
  if (d == nullptr) return Error::FromErrno("listing " + sys_block);
  std::vector<std::string> names;
  while (struct dirent* e = readdir(d)) {
    std::string_view name = e->d_name;
    if (name.size() > 2 && name.substr(0, 2) == "vd") names.emplace_back(name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

Result<std::string> FindDiskBySerial(const std::string& sys_block, std::string_view serial) {
  BH_ASSIGN(std::vector<std::string> disks, VirtioDisks(sys_block));
  std::string found;
  std::string seen;
  for (const std::string& name : disks) {
    Result<std::string> text = ReadFile(JoinPath(JoinPath(sys_block, name), "serial"),
                                        kMaxSerialFile);
    std::string value = text.ok() ? Trimmed(std::move(*text)) : "(no serial)";
    if (!seen.empty()) seen += ", ";
    seen += name + "=\"" + value + "\"";
    if (!text.ok() || value != serial) continue;
    if (!found.empty()) {
      return Error("disks " + found + " and " + name + " both have serial \"" +
                       std::string(serial) + "\"",
                   EEXIST);
    }
    found = name;
  }
  if (found.empty()) {
    return Error("no virtio disk has serial \"" + std::string(serial) + "\" (disks: " +
                     (seen.empty() ? "none" : seen) + ")",
                 ENODEV);
  }
  return found;
}

}  // namespace bulkhead::vminit
