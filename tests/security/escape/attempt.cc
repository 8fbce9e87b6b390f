#include "attempt.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace bulkhead::escape {

int g_report_fd = -1;

std::string ErrnoName(int err) {
  const char* name = strerrorname_np(err);
  return name != nullptr ? name : "errno=" + std::to_string(err);
}

std::string Outcome(long rc) { return rc >= 0 ? "ok" : ErrnoName(errno); }

std::string Setup(std::string_view why) { return "setup:" + std::string(why); }

void Probes::Add(std::string_view label, const std::string& outcome) {
  if (outcome != "ENOENT") ++found_;
  std::string token = outcome;
  if (outcome == "ok" || outcome.starts_with("read")) token += ":" + std::string(label);
  if (std::find(tokens_.begin(), tokens_.end(), token) == tokens_.end()) {
    tokens_.push_back(token);
  }
}

std::string Probes::Result() const {
  std::vector<std::string> sorted = tokens_;
  std::sort(sorted.begin(), sorted.end());
  std::string out;
  for (const auto& t : sorted) out += (out.empty() ? "" : "+") + t;
  return out.empty() ? Setup("no probe ran") : out;
}

bool Matches(std::string_view observed, std::string_view expected) {
  auto allowed = [expected](std::string_view token) {
    size_t pos = 0;
    while (pos <= expected.size()) {
      size_t bar = expected.find('|', pos);
      if (bar == std::string_view::npos) bar = expected.size();
      if (expected.substr(pos, bar - pos) == token) return true;
      pos = bar + 1;
    }
    return false;
  };
  if (observed.empty()) return false;
  size_t pos = 0;
  while (pos <= observed.size()) {
    size_t plus = observed.find('+', pos);
    if (plus == std::string_view::npos) plus = observed.size();
    if (!allowed(observed.substr(pos, plus - pos))) return false;
    pos = plus + 1;
  }
  return true;
}

std::string Env(const char* name) {
  const char* v = getenv(name);
  return v != nullptr ? v : "";
}

std::string RunCapture(const std::vector<std::string>& argv) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return Setup("pipe: " + ErrnoName(errno));
  pid_t pid = fork();
  if (pid < 0) return Setup("fork: " + ErrnoName(errno));
  if (pid == 0) {
    dup2(p[1], 1);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    dprintf(1, "exec=%s", ErrnoName(errno).c_str());
    _exit(127);
  }
  close(p[1]);
  std::string out;
  char buf[512];
  ssize_t n;
  while ((n = read(p[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(p[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

}  // namespace bulkhead::escape
