#include "seccomp/cache.h"

#include <dirent.h>
#include <seccomp.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstring>
#include <functional>

#include "base/fs.h"
#include "base/log.h"

namespace bulkhead::seccomp {

namespace {

constexpr std::string_view kMagic = "bulkhead-seccomp-cache 1\n";
// More distinct profiles than this in one root is unusual; the cache is then emptied
// rather than left to grow without bound.
constexpr size_t kMaxEntries = 64;

void Field(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += '=';
  out += std::to_string(value.size());
  out += ':';
  out += value;
  out += '\n';
}

void PutU32(std::string& out, uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); }

bool GetU32(const std::string& in, size_t* pos, uint32_t* v) {
  if (in.size() - *pos < 4) return false;
  std::memcpy(v, in.data() + *pos, 4);
  *pos += 4;
  return true;
}

std::string EntryName(const std::string& key) {
  char buf[32];
  snprintf(buf, sizeof buf, "%016zx", std::hash<std::string>{}(key));
  return buf;
}

void TrimCache(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return;
  std::vector<std::string> names;
  while (struct dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') names.emplace_back(e->d_name);
  }
  closedir(d);
  if (names.size() < kMaxEntries) return;
  for (const std::string& n : names) unlink(JoinPath(dir, n).c_str());
}

}  // namespace

std::string CacheKey(const oci::Seccomp& p) {
  std::string k(kMagic);
  const scmp_version* v = seccomp_version();
  Field(k, "libseccomp", std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                             std::to_string(v->micro));
  struct utsname u {};
  if (uname(&u) == 0) Field(k, "kernel", std::string(u.release) + " " + u.machine);
  Field(k, "defaultAction", p.default_action);
  Field(k, "defaultErrnoRet",
        p.default_errno_ret ? std::to_string(*p.default_errno_ret) : std::string("-"));
  for (const auto& a : p.architectures) Field(k, "arch", a);
  for (const auto& f : p.flags) Field(k, "flag", f);
  for (const auto& s : p.syscalls) {
    Field(k, "rule", s.action);
    Field(k, "errnoRet", s.errno_ret ? std::to_string(*s.errno_ret) : std::string("-"));
    for (const auto& n : s.names) Field(k, "name", n);
    for (const auto& a : s.args) {
      Field(k, "arg", std::to_string(a.index) + " " + std::to_string(a.value) + " " +
                          std::to_string(a.value_two) + " " + a.op);
    }
  }
  return k;
}

std::string EncodeEntry(const std::string& key, const Program& program) {
  std::string out;
  PutU32(out, static_cast<uint32_t>(key.size()));
  out += key;
  PutU32(out, program.flags);
  PutU32(out, program.has_notify ? 1 : 0);
  PutU32(out, static_cast<uint32_t>(program.filter.size()));
  out.append(reinterpret_cast<const char*>(program.filter.data()),
             program.filter.size() * sizeof(struct sock_filter));
  return out;
}

Result<Program> DecodeEntry(const std::string& key, const std::string& bytes) {
  size_t pos = 0;
  uint32_t key_len = 0;
  if (!GetU32(bytes, &pos, &key_len) || key_len != key.size() ||
      bytes.compare(pos, key_len, key) != 0) {
    return Error("seccomp cache entry is for another profile", ESTALE);
  }
  pos += key_len;
  Program p;
  uint32_t notify = 0, count = 0;
  if (!GetU32(bytes, &pos, &p.flags) || !GetU32(bytes, &pos, &notify) ||
      !GetU32(bytes, &pos, &count) || notify > 1 || count == 0 || count > BPF_MAXINSNS ||
      bytes.size() - pos != size_t{count} * sizeof(struct sock_filter)) {
    return Error("seccomp cache entry is damaged", EINVAL);
  }
  p.has_notify = notify == 1;
  p.filter.resize(count);
  std::memcpy(p.filter.data(), bytes.data() + pos, bytes.size() - pos);
  return p;
}

Result<Program> CompileCached(const oci::Seccomp& profile, const std::string& dir) {
  std::string key = CacheKey(profile);
  std::string path = JoinPath(dir, EntryName(key));
  if (Result<std::string> bytes = ReadFile(path); bytes.ok()) {
    Result<Program> hit = DecodeEntry(key, *bytes);
    if (hit.ok()) return hit;
    LogDebug("seccomp cache: " + hit.error().message() + "; recompiling");
  }
  BH_ASSIGN(Program program, Compile(profile));
  Status st = MkdirAll(dir, 0700);
  if (st.ok()) {
    TrimCache(dir);
    st = WriteFileAtomic(path, EncodeEntry(key, program), 0600);
  }
  if (!st.ok()) LogDebug("seccomp cache: not saved: " + st.error().message());
  return program;
}

}  // namespace bulkhead::seccomp
