// bh-escape list            every attempt: name, expected outcome, why, what it tries
//                           (tab-separated)
// bh-escape run NAME        performs one attempt and prints
//                           "attempt=NAME expected=E observed=O result=PASS|FAIL"
// bh-escape whoami          prints "euid=N" (what a setuid copy of this binary runs as)
// bh-escape listen-abstract NAME LOG
//                           the host's side of abstract_unix where no python is (the vm
//                           tier's test host): listens on the abstract unix socket NAME,
//                           creates LOG once listening and appends a line per connection
//
// `run` performs the attempt in a child, so an attempt the sandbox kills (SIGSYS from a
// seccomp KILL action, SIGSEGV) is still reported, as "SIG<name>".
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "attempt.h"

namespace bulkhead::escape {
namespace {

Attempts All() {
  Attempts all;
  AddMountAttempts(all);
  AddProcessAttempts(all);
  AddKernelAttempts(all);
  AddFileAttempts(all);
  AddRuntimeAttempts(all);
  AddNetworkAttempts(all);
  return all;
}

std::string Perform(const Attempt& a) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return Setup("pipe: " + ErrnoName(errno));
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) return Setup("fork: " + ErrnoName(errno));
  if (pid == 0) {
    close(p[0]);
    g_report_fd = p[1];
    std::string seen = a.run();
    (void)!write(p[1], seen.data(), seen.size());
    _exit(0);
  }
  close(p[1]);
  std::string seen;
  char buf[512];
  ssize_t n;
  while ((n = read(p[0], buf, sizeof buf)) > 0) seen.append(buf, static_cast<size_t>(n));
  close(p[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) {
    const char* sig = sigabbrev_np(WTERMSIG(status));
    return std::string("SIG") + (sig != nullptr ? sig : std::to_string(WTERMSIG(status)));
  }
  if (seen.empty()) return "exit=" + std::to_string(WEXITSTATUS(status));
  return seen;
}

int Run(std::string_view name) {
  for (const Attempt& a : All()) {
    if (a.name != name) continue;
    std::string seen = Perform(a);
    bool pass = Matches(seen, a.expected);
    printf("attempt=%.*s expected=%.*s observed=%s result=%s\n", static_cast<int>(a.name.size()),
           a.name.data(), static_cast<int>(a.expected.size()), a.expected.data(), seen.c_str(),
           pass ? "PASS" : "FAIL");
    fflush(stdout);
    return pass ? 0 : 1;
  }
  fprintf(stderr, "bh-escape: no attempt named '%.*s' (see `bh-escape list`)\n",
          static_cast<int>(name.size()), name.data());
  return 2;
}

int List() {
  for (const Attempt& a : All()) {
    const std::string_view fields[] = {a.name, a.expected, a.why, a.tries};
    for (size_t i = 0; i < 4; ++i) {
      printf("%.*s%c", static_cast<int>(fields[i].size()), fields[i].data(), i == 3 ? '\n' : '\t');
    }
  }
  return 0;
}

int ListenAbstract(const std::string& name, const char* log) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (name.size() + 1 > sizeof addr.sun_path) return 2;
  memcpy(addr.sun_path + 1, name.data(), name.size());
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || listen(fd, 8) != 0) {
    perror("listen-abstract");
    return 1;
  }
  FILE* f = fopen(log, "a");
  if (f == nullptr) return 1;
  fflush(f);
  for (;;) {
    int c = accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    fputs("connection\n", f);
    fflush(f);
    close(c);
  }
}

}  // namespace
}  // namespace bulkhead::escape

int main(int argc, char** argv) {
  using namespace bulkhead::escape;
  std::string_view verb = argc > 1 ? argv[1] : "";
  if (verb == "list" && argc == 2) return List();
  if (verb == "run" && argc == 3) return Run(argv[2]);
  if (verb == "whoami" && argc == 2) {
    printf("euid=%u\n", geteuid());
    return 0;
  }
  if (verb == "listen-abstract" && argc == 4) return ListenAbstract(argv[2], argv[3]);
  fprintf(stderr, "usage: bh-escape list | run NAME | whoami | listen-abstract NAME LOG\n");
  return 2;
}
