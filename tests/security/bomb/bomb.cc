// bh-bomb: resource bombs for tests/security/bombs.sh, and the two ends of the small
// request a neighbour sandbox answers while a bomb goes off next to it.
//
//   bh-bomb respond IN OUT          answer every byte read from fifo IN on fifo OUT
//   bh-bomb ping IN OUT COUNT       COUNT requests (one byte there and back, 5 ms apart) and
//                                   COUNT/4 host spawns of /bin/true; prints their latencies
//   bh-bomb fork|memory|storage|fds|cpu SECONDS
//                                   a bomb, for SECONDS; prints "armed" once it is pressing
//                                   against its limit, then one line of what it met
//
// Static, like bh-escape: the busybox rootfs has no libc.
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <vector>

namespace {

double Now() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

std::string Err(int e) {
  const char* n = strerrorname_np(e);
  return n != nullptr ? n : std::to_string(e);
}

void Say(const std::string& line) {
  std::string l = line + "\n";
  (void)!write(1, l.data(), l.size());
}

// --- the neighbour's request ------------------------------------------------------------

int Respond(const char* in, const char* out) {
  // O_RDWR on both fifos: opening never blocks and a client going away is no EOF.
  int r = open(in, O_RDWR | O_CLOEXEC);
  int w = open(out, O_RDWR | O_CLOEXEC);
  if (r < 0 || w < 0) {
    perror("bh-bomb respond: open");
    return 1;
  }
  char buf[64];
  for (;;) {
    ssize_t n = read(r, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 1;
    (void)!write(w, buf, static_cast<size_t>(n));
  }
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

int Ping(const char* in, const char* out, int count) {
  int w = open(in, O_WRONLY | O_CLOEXEC);
  int r = open(out, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (r < 0 || w < 0) {
    perror("bh-bomb ping: open");
    return 1;
  }
  std::vector<double> rtt, spawn;
  int timeouts = 0;
  char c = 'x', buf[64];
  while (read(r, buf, sizeof buf) > 0) {  // stale answers from an earlier run
  }
  for (int i = 0; i < count; ++i) {
    double t0 = Now();
    (void)!write(w, &c, 1);
    pollfd p{r, POLLIN, 0};
    if (poll(&p, 1, 2000) == 1 && read(r, buf, 1) == 1) {
      rtt.push_back((Now() - t0) * 1e6);
    } else {
      ++timeouts;
    }
    if (i % 4 == 0) {
      // The host's own responsiveness: spawning a process.
      t0 = Now();
      pid_t pid = 0;
      char arg0[] = "true";
      char* argv[] = {arg0, nullptr};
      if (posix_spawn(&pid, "/bin/true", nullptr, nullptr, argv, environ) == 0) {
        waitpid(pid, nullptr, 0);
        spawn.push_back((Now() - t0) * 1e6);
      }
    }
    usleep(5000);
  }
  printf(
      "rtt_median_us=%.0f rtt_p99_us=%.0f rtt_max_us=%.0f timeouts=%d spawn_median_us=%.0f "
      "spawn_p99_us=%.0f\n",
      Percentile(rtt, 0.5), Percentile(rtt, 0.99), Percentile(rtt, 1.0), timeouts,
      Percentile(spawn, 0.5), Percentile(spawn, 0.99));
  return 0;
}

// --- bombs ---------------------------------------------------------------------------------

// Ends every other process of the container and reaps them (the bomb runs as pid 1).
void KillAllAndReap() {
  kill(-1, SIGKILL);
  while (wait(nullptr) > 0 || errno == EINTR) {
  }
}

int ForkBomb(double seconds) {
  double deadline = Now() + seconds;
  // Whichever process meets the limit first says so: at the limit a thousand spinning
  // children share a quarter CPU, and pid 1 may wait many seconds for its next turn.
  void* shared = mmap(nullptr, sizeof(std::atomic<int>), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) {
    perror("bh-bomb fork: mmap");
    return 1;
  }
  auto* said = new (shared) std::atomic<int>(0);
  auto met_limit = [said](int err) {
    if (said->exchange(1) == 0) Say("armed errno=" + Err(err));
  };
  long forks = 0, failures = 0;
  while (Now() < deadline) {
    pid_t pid = fork();
    if (pid == 0) {
      // Every child bombs on, without pause, until the deadline.
      while (Now() < deadline) {
        if (fork() < 0) {
          met_limit(errno);
          sched_yield();
        }
      }
      _exit(0);
    }
    if (pid > 0) {
      ++forks;
    } else {
      ++failures;
      met_limit(errno);
      while (waitpid(-1, nullptr, WNOHANG) > 0) {
      }
    }
  }
  KillAllAndReap();
  Say("forks=" + std::to_string(forks) + " failed=" + std::to_string(failures));
  return 0;
}

int MemoryBomb(double seconds) {
  double deadline = Now() + seconds;
  int children = 0, oom_killed = 0, malloc_failed = 0;
  while (Now() < deadline) {
    pid_t pid = fork();
    if (pid == 0) {
      // Touch 16 MiB at a time and never give it back.
      for (;;) {
        size_t len = 16u << 20;
        char* p = static_cast<char*>(malloc(len));
        if (p == nullptr) _exit(3);
        memset(p, 1, len);
      }
    }
    if (pid < 0) {
      usleep(10000);
      continue;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
      ++oom_killed;
    } else {
      ++malloc_failed;
    }
    if (children++ == 0) Say(oom_killed > 0 ? "armed first=SIGKILL" : "armed first=ENOMEM");
  }
  Say("children=" + std::to_string(children) + " oom_killed=" + std::to_string(oom_killed) +
      " malloc_failed=" + std::to_string(malloc_failed));
  return 0;
}

// Fills one directory with 1 MiB files until a write fails; returns "BYTES:ERRNO".
std::string Fill(const std::string& dir) {
  static char chunk[1 << 20];
  memset(chunk, 0x5a, sizeof chunk);
  long long bytes = 0;
  for (int i = 0;; ++i) {
    std::string path = dir + "/bh-bomb-fill-" + std::to_string(i);
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return std::to_string(bytes) + ":" + Err(errno);
    for (int k = 0; k < 64; ++k) {
      ssize_t n = write(fd, chunk, sizeof chunk);
      if (n < 0) {
        int e = errno;
        close(fd);
        return std::to_string(bytes) + ":" + Err(e);
      }
      bytes += n;
    }
    close(fd);
  }
}

int StorageBomb(double seconds) {
  double deadline = Now() + seconds;
  std::string report;
  for (const char* dir : {"/tmp", "/dev/shm", "/", "/var/tmp"}) {
    report += std::string(report.empty() ? "" : " ") + dir + "=" + Fill(dir);
  }
  Say("armed " + report);
  while (Now() < deadline) usleep(100000);
  Say(report);
  return 0;
}

int FdBomb(double seconds) {
  double deadline = Now() + seconds;
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  rlimit more{lim.rlim_max + 1, lim.rlim_max + 1};
  std::string raise = setrlimit(RLIMIT_NOFILE, &more) == 0 ? "ok" : Err(errno);
  // Eight processes, each to its own limit: the total is bounded by pids x nofile.
  for (int i = 0; i < 8; ++i) {
    if (fork() == 0) {
      while (open("/dev/null", O_RDONLY) >= 0) {
      }
      while (Now() < deadline) pause();
      _exit(0);
    }
  }
  int opened = 0;
  while (open("/dev/null", O_RDONLY) >= 0) ++opened;
  std::string seen = "fds=" + std::to_string(opened) + ":" + Err(errno) +
                     " nofile=" + std::to_string(lim.rlim_cur) + " raise=" + raise;
  Say("armed " + seen);
  while (Now() < deadline) usleep(100000);
  KillAllAndReap();
  Say(seen);
  return 0;
}

double g_deadline = 0;
void* Spin(void*) {
  volatile unsigned long n = 0;
  while (Now() < g_deadline) n = n + 1;
  return nullptr;
}

int CpuBomb(double seconds) {
  g_deadline = Now() + seconds;
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  int threads = static_cast<int>(std::max(2L, 2 * cpus));
  std::vector<pthread_t> ids(static_cast<size_t>(threads));
  for (auto& t : ids) pthread_create(&t, nullptr, Spin, nullptr);
  Say("armed threads=" + std::to_string(threads));
  for (auto& t : ids) pthread_join(t, nullptr);
  Say("threads=" + std::to_string(threads));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string_view verb = argc > 1 ? argv[1] : "";
  if (verb == "respond" && argc == 4) return Respond(argv[2], argv[3]);
  if (verb == "ping" && argc == 5) return Ping(argv[2], argv[3], atoi(argv[4]));
  double seconds = argc == 3 ? atof(argv[2]) : 0;
  if (seconds > 0) {
    if (verb == "fork") return ForkBomb(seconds);
    if (verb == "memory") return MemoryBomb(seconds);
    if (verb == "storage") return StorageBomb(seconds);
    if (verb == "fds") return FdBomb(seconds);
    if (verb == "cpu") return CpuBomb(seconds);
  }
  fprintf(stderr,
          "usage: bh-bomb respond IN OUT | ping IN OUT COUNT | "
          "fork|memory|storage|fds|cpu SECONDS\n");
  return 2;
}
