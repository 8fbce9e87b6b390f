#include "vmimage/xattrs.h"

#include <sys/xattr.h>

#include <algorithm>
#include <cerrno>
#include <string_view>

namespace bulkhead::vmimage {
namespace {

// An entry named either by fd (f* calls) or by a /proc path (l* calls).
struct Target {
  int fd = -1;
  std::string path;

  ssize_t List(char* buf, size_t size) const {
    return path.empty() ? ::flistxattr(fd, buf, size) : ::llistxattr(path.c_str(), buf, size);
  }
  ssize_t Get(const char* name, void* buf, size_t size) const {
    return path.empty() ? ::fgetxattr(fd, name, buf, size)
                        : ::lgetxattr(path.c_str(), name, buf, size);
  }
  int Set(const std::string& name, const std::string& value) const {
    return path.empty() ? ::fsetxattr(fd, name.c_str(), value.data(), value.size(), 0)
                        : ::lsetxattr(path.c_str(), name.c_str(), value.data(), value.size(), 0);
  }
};

Target At(int dirfd, const std::string& name) {
  return Target{-1, "/proc/self/fd/" + std::to_string(dirfd) + "/" + name};
}

// Size, then contents; the entry can change between the two calls (ERANGE), so retry a few
// times rather than loop for as long as someone keeps changing it.
template <class Call>
Result<std::string> SizedRead(Call call, std::string_view what) {
  for (int attempt = 0; attempt < 4; ++attempt) {
    ssize_t n = call(nullptr, 0);
    if (n < 0) return Error::FromErrno(what);
    std::string buf(static_cast<size_t>(n), '\0');
    if (n == 0) return buf;
    ssize_t got = call(buf.data(), buf.size());
    if (got >= 0) {
      buf.resize(static_cast<size_t>(got));
      return buf;
    }
    if (errno != ERANGE) return Error::FromErrno(what);
  }
  return Error(std::string(what) + ": keeps changing size", ERANGE);
}

Result<Xattrs> Read(const Target& t) {
  auto names = SizedRead([&](char* b, size_t s) { return t.List(b, s); }, "listing xattrs");
  if (!names.ok()) {
    // A filesystem without xattrs has none to keep.
    if (names.error().errno_value() == ENOTSUP) return Xattrs{};
    return std::move(names).error();
  }
  Xattrs out;
  std::string_view rest = *names;
  while (!rest.empty()) {
    size_t end = rest.find('\0');
    std::string name(rest.substr(0, end));
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
    if (name.empty()) continue;
    auto value = SizedRead([&](char* b, size_t s) { return t.Get(name.c_str(), b, s); },
                           "reading xattr " + name);
    if (!value.ok()) {
      if (value.error().errno_value() == ENODATA) continue;  // removed since the listing
      return std::move(value).error();
    }
    out.emplace_back(std::move(name), std::move(*value));
  }
  std::sort(out.begin(), out.end());
  return out;
}

Status Write(const Target& t, const Xattrs& xattrs) {
  for (const auto& [name, value] : xattrs) {
    if (t.Set(name, value) != 0) return Error::FromErrno("setting xattr " + name);
  }
  return Ok();
}

}  // namespace

Result<Xattrs> ReadXattrs(int fd) { return Read(Target{fd, {}}); }
Result<Xattrs> ReadXattrsAt(int dirfd, const std::string& name) { return Read(At(dirfd, name)); }
Status WriteXattrs(int fd, const Xattrs& xattrs) { return Write(Target{fd, {}}, xattrs); }
Status WriteXattrsAt(int dirfd, const std::string& name, const Xattrs& xattrs) {
  return Write(At(dirfd, name), xattrs);
}

}  // namespace bulkhead::vmimage
