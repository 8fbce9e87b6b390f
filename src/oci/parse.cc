#include "oci/parse.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdint>

#include "base/fs.h"
#include "oci/json_reader.h"
#include "oci/parse_internal.h"

namespace bulkhead::oci {

using internal::ForEach;
using internal::Node;
using internal::ReadBool;
using internal::ReadInt;
using internal::ReadList;
using internal::ReadString;
using internal::ReadStringMap;
using internal::ReadStrings;
using internal::Require;

namespace {

Status ParseUser(const Node& n, User* out) {
  BH_TRY(n.ExpectObject());
  BH_TRY(ReadInt(n, "uid", &out->uid));
  BH_TRY(ReadInt(n, "gid", &out->gid));
  BH_TRY(ReadInt(n, "umask", &out->umask));
  return ForEach(n, "additionalGids", [&](const Node& e) -> Status {
    BH_ASSIGN(uint32_t gid, e.Int<uint32_t>());
    out->additional_gids.push_back(gid);
    return Ok();
  });
}

Status ParseCapabilities(const Node& n, Capabilities* out) {
  BH_TRY(n.ExpectObject());
  BH_TRY(ReadStrings(n, "bounding", &out->bounding));
  BH_TRY(ReadStrings(n, "effective", &out->effective));
  BH_TRY(ReadStrings(n, "inheritable", &out->inheritable));
  BH_TRY(ReadStrings(n, "permitted", &out->permitted));
  return ReadStrings(n, "ambient", &out->ambient);
}

Status ParseRlimit(const Node& n, Rlimit* out) {
  BH_TRY(n.ExpectObject());
  // All three are required: a missing hard limit must not silently become 0.
  BH_ASSIGN(Node type, Require(n, "type"));
  BH_ASSIGN(out->type, type.String());
  BH_ASSIGN(Node soft, Require(n, "soft"));
  BH_ASSIGN(out->soft, soft.Int<uint64_t>());
  BH_ASSIGN(Node hard, Require(n, "hard"));
  BH_ASSIGN(out->hard, hard.Int<uint64_t>());
  return Ok();
}

Status ParseProcess(const Node& n, Process* out) {
  BH_TRY(n.ExpectObject());
  BH_TRY(ReadBool(n, "terminal", &out->terminal));
  if (auto cs = n.Member("consoleSize")) {
    BH_TRY(cs->ExpectObject());
    ConsoleSize size;
    BH_TRY(ReadInt(*cs, "height", &size.height));
    BH_TRY(ReadInt(*cs, "width", &size.width));
    out->console_size = size;
  }
  if (auto user = n.Member("user")) BH_TRY(ParseUser(*user, &out->user));
  BH_TRY(ReadStrings(n, "args", &out->args));
  BH_TRY(ReadStrings(n, "env", &out->env));
  // cwd is required by the spec; leaving it empty lets Validate report it.
  out->cwd.clear();
  BH_TRY(ReadString(n, "cwd", &out->cwd));
  if (auto caps = n.Member("capabilities")) {
    Capabilities c;
    BH_TRY(ParseCapabilities(*caps, &c));
    out->capabilities = std::move(c);
  }
  BH_TRY(ReadList(n, "rlimits", &out->rlimits, ParseRlimit));
  BH_TRY(ReadBool(n, "noNewPrivileges", &out->no_new_privileges));
  BH_TRY(ReadString(n, "apparmorProfile", &out->apparmor_profile));
  BH_TRY(ReadString(n, "selinuxLabel", &out->selinux_label));
  return ReadInt(n, "oomScoreAdj", &out->oom_score_adj);
}

Status ParseMount(const Node& n, Mount* out) {
  BH_TRY(n.ExpectObject());
  BH_TRY(ReadString(n, "destination", &out->destination));
  BH_TRY(ReadString(n, "type", &out->type));
  BH_TRY(ReadString(n, "source", &out->source));
  BH_TRY(ReadStrings(n, "options", &out->options));
  // Idmapped mounts change file ownership; silently ignoring them would be worse
  // than refusing.
  for (const char* key : {"uidMappings", "gidMappings"}) {
    if (auto m = n.Member(key)) return m->Fail("idmapped mounts are not supported");
  }
  return Ok();
}

Status ParseHook(const Node& n, Hook* out) {
  BH_TRY(n.ExpectObject());
  BH_TRY(ReadString(n, "path", &out->path));
  BH_TRY(ReadStrings(n, "args", &out->args));
  BH_TRY(ReadStrings(n, "env", &out->env));
  return ReadInt(n, "timeout", &out->timeout);
}

Status ParseHooks(const Node& n, Hooks* out) {
  BH_TRY(n.ExpectObject());
  BH_TRY(ReadList(n, "prestart", &out->prestart, ParseHook));
  BH_TRY(ReadList(n, "createRuntime", &out->create_runtime, ParseHook));
  BH_TRY(ReadList(n, "createContainer", &out->create_container, ParseHook));
  BH_TRY(ReadList(n, "startContainer", &out->start_container, ParseHook));
  BH_TRY(ReadList(n, "poststart", &out->poststart, ParseHook));
  return ReadList(n, "poststop", &out->poststop, ParseHook);
}

Status ParseTop(const Node& doc, Config* out) {
  BH_TRY(doc.ExpectObject());
  BH_TRY(ReadString(doc, "ociVersion", &out->oci_version));
  if (auto root = doc.Member("root")) {
    BH_TRY(root->ExpectObject());
    BH_TRY(ReadString(*root, "path", &out->root.path));
    BH_TRY(ReadBool(*root, "readonly", &out->root.readonly));
  }
  if (auto process = doc.Member("process")) {
    BH_TRY(ParseProcess(*process, &out->process));
    out->has_process = true;
  }
  BH_TRY(ReadString(doc, "hostname", &out->hostname));
  BH_TRY(ReadString(doc, "domainname", &out->domainname));
  BH_TRY(ReadList(doc, "mounts", &out->mounts, ParseMount));
  if (auto hooks = doc.Member("hooks")) BH_TRY(ParseHooks(*hooks, &out->hooks));
  BH_TRY(ReadStringMap(doc, "annotations", &out->annotations));
  if (auto linux = doc.Member("linux")) BH_TRY(internal::ParseLinux(*linux, &out->linux));
  return Ok();
}

}  // namespace

Result<Config> ParseConfig(std::string_view json) {
  BH_ASSIGN(nlohmann::json doc, internal::ParseDocument(json));
  Config config;
  BH_TRY(ParseTop(Node(doc, ""), &config));
  return config;
}

Result<Process> ParseProcessDocument(std::string_view json) {
  BH_ASSIGN(nlohmann::json doc, internal::ParseDocument(json));
  Process process;
  BH_TRY(ParseProcess(Node(doc, "process"), &process));
  return process;
}

Result<Resources> ParseResourcesDocument(std::string_view json) {
  BH_ASSIGN(nlohmann::json doc, internal::ParseDocument(json));
  Resources resources;
  BH_TRY(internal::ParseResources(Node(doc, "linux.resources"), &resources));
  return resources;
}

Result<Config> LoadConfig(const std::string& bundle_dir, std::string* text_out) {
  const std::string where = "bundle " + bundle_dir;
  struct stat st {};
  if (::stat(bundle_dir.c_str(), &st) != 0) {
    if (errno == ENOENT) return Error(where + " does not exist", ENOENT);
    return Error::FromErrno(where);
  }
  if (!S_ISDIR(st.st_mode)) return Error(where + " is not a directory", ENOTDIR);
  const std::string path = JoinPath(bundle_dir, "config.json");
  // Look before opening for reading: a FIFO planted as config.json would hang us waiting for
  // a writer, and opening some devices has effects of its own. O_PATH pins the file without
  // opening it; only a regular file is then reopened to read, and one over the limit is
  // refused before a byte of it is read.
  Result<UniqueFd> pinned = OpenFile(path, O_PATH);
  if (!pinned.ok()) {
    if (pinned.error().errno_value() == ENOENT) {
      return Error(where + ": config.json does not exist", ENOENT);
    }
    return std::move(pinned).error().Context(where + ": config.json");
  }
  if (::fstat(pinned->get(), &st) != 0) return Error::FromErrno(where + ": config.json");
  if (!S_ISREG(st.st_mode)) return Error(where + ": config.json is not a regular file", EINVAL);
  if (static_cast<uint64_t>(st.st_size) > internal::kMaxDocumentBytes) {
    return Error(where + ": config.json is " + std::to_string(st.st_size) +
                     " bytes, larger than the limit of " +
                     std::to_string(internal::kMaxDocumentBytes),
                 EFBIG);
  }
  Result<UniqueFd> fd = OpenFile("/proc/self/fd/" + std::to_string(pinned->get()), O_RDONLY);
  if (!fd.ok()) return std::move(fd).error().Context(where + ": config.json");
  Result<std::string> text = ReadFd(fd->get(), internal::kMaxDocumentBytes);
  if (!text.ok()) return std::move(text).error().Context(where + ": config.json");
  Result<Config> config = ParseConfig(*text).Context(where + ": config.json");
  if (config.ok() && text_out != nullptr) *text_out = std::move(*text);
  return config;
}

}  // namespace bulkhead::oci
