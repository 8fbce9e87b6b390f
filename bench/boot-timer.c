// boot-timer: times one micro-VM boot and samples the monitor's memory. Built static by
// bench/vmm.sh, so it runs in the test host, which has busybox and nothing else.
//
//   boot-timer -m MARKER -g GUEST_MIB [-s SAMPLE_MS] [-t TIMEOUT_S] [-c] [-l LOG] [-T] -- CMD...
//
// Starts CMD with stdout and stderr on a pipe (stdin /dev/null) and measures, with
// CLOCK_MONOTONIC, from just before the fork to the first appearance of MARKER in that output.
// SAMPLE_MS after the marker it reads /proc/PID/smaps of the monitor: CMD's process, or with
// -c its child (bulkhead-vmm runs the VM in a jailed child and keeps the parent waiting).
// The guest's RAM is the anonymous mapping of exactly GUEST_MIB; its Rss is reported apart
// and left out of the monitor's. Then it drains the output until CMD exits, killing CMD's
// process group at TIMEOUT_S. Everything CMD printed goes to LOG; with -T each line there
// starts with the milliseconds since the start at which it arrived (to see where a boot
// spends its time).
//
// Prints one line:  boot_ms=.. rc=.. rss_kib=.. pss_kib=.. guest_rss_kib=.. guest_maps=..
//                   parent_rss_kib=.. parent_pss_kib=..   (the parent's only with -c)
// boot_ms is -1 when the marker never came, the memory fields -1 when no sample was taken.
// rc is CMD's exit status, 128+N for signal N. Exit status: 0 when the marker came and CMD
// exited 0, 1 otherwise, 2 on bad usage.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct mem {
  long rss_kib, pss_kib, guest_rss_kib, guest_maps;
};

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static int usage(void) {
  fprintf(stderr,
          "usage: boot-timer -m MARKER -g GUEST_MIB [-s SAMPLE_MS] [-t TIMEOUT_S] [-c] "
          "[-l LOG] [-T] -- CMD...\n");
  return 2;
}

// The first process whose parent is `parent`, or -1. /proc/PID/stat holds the parent as the
// second field after the command name, which is in parentheses and may hold anything.
static pid_t find_child(pid_t parent) {
  DIR* d = opendir("/proc");
  if (d == NULL) return -1;
  pid_t found = -1;
  struct dirent* e;
  while (found < 0 && (e = readdir(d)) != NULL) {
    char* end;
    long pid = strtol(e->d_name, &end, 10);
    if (*end != '\0' || pid <= 0) continue;
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) continue;
    buf[n] = '\0';
    char* paren = strrchr(buf, ')');
    char state;
    long ppid;
    if (paren != NULL && sscanf(paren + 1, " %c %ld", &state, &ppid) == 2 && ppid == parent)
      found = (pid_t)pid;
  }
  closedir(d);
  return found;
}

// Sums Rss and Pss over the mappings of `pid`, keeping the guest RAM mapping (anonymous, no
// file, exactly guest_bytes long) apart.
static int sample(pid_t pid, uint64_t guest_bytes, struct mem* m) {
  char path[64], line[1024];
  snprintf(path, sizeof path, "/proc/%d/smaps", (int)pid);
  FILE* f = fopen(path, "re");
  if (f == NULL) return -1;
  memset(m, 0, sizeof *m);
  int in_guest = 0;
  while (fgets(line, sizeof line, f) != NULL) {
    unsigned long long start, end, inode;
    char perms[8], offset[32], dev[16];
    int name_at = 0;
    if (sscanf(line, "%llx-%llx %7s %31s %15s %llu %n", &start, &end, perms, offset, dev,
               &inode, &name_at) == 6) {
      const char* name = line + name_at;
      int anonymous = inode == 0 && (name[0] == '\n' || name[0] == '\0' ||
                                     strncmp(name, "[anon", 5) == 0);
      in_guest = anonymous && end - start == guest_bytes;
      if (in_guest) m->guest_maps++;
      continue;
    }
    long kib;
    if (sscanf(line, "Rss: %ld kB", &kib) == 1) {
      if (in_guest) m->guest_rss_kib += kib;
      else m->rss_kib += kib;
    } else if (sscanf(line, "Pss: %ld kB", &kib) == 1 && !in_guest) {
      m->pss_kib += kib;
    }
  }
  fclose(f);
  return 0;
}

// Appends output to the log, with the arrival time before each line when at_ms >= 0. The log
// is for diagnosis only: timing goes on when it cannot be written.
static void log_output(FILE* f, const char* buf, size_t n, double at_ms, int* line_start) {
  for (size_t i = 0; i < n; i++) {
    if (*line_start && at_ms >= 0) fprintf(f, "[%9.1f] ", at_ms);
    fputc(buf[i], f);
    *line_start = buf[i] == '\n';
  }
}

int main(int argc, char** argv) {
  const char* marker = NULL;
  const char* log_path = "/dev/null";
  long guest_mib = 0, sample_ms = 500, timeout_s = 300;
  int use_child = 0, stamp = 0, opt;
  while ((opt = getopt(argc, argv, "+m:g:s:t:cl:T")) != -1) {
    switch (opt) {
      case 'm': marker = optarg; break;
      case 'g': guest_mib = atol(optarg); break;
      case 's': sample_ms = atol(optarg); break;
      case 't': timeout_s = atol(optarg); break;
      case 'c': use_child = 1; break;
      case 'l': log_path = optarg; break;
      case 'T': stamp = 1; break;
      default: return usage();
    }
  }
  if (marker == NULL || marker[0] == '\0' || guest_mib <= 0 || optind >= argc) return usage();
  size_t marker_len = strlen(marker);
  uint64_t guest_bytes = (uint64_t)guest_mib << 20;

  FILE* log = fopen(log_path, "we");
  if (log == NULL) {
    fprintf(stderr, "boot-timer: opening %s: %s\n", log_path, strerror(errno));
    return 1;
  }
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) {
    perror("boot-timer: pipe");
    return 1;
  }
  double t0 = now_ms();
  pid_t pid = fork();
  if (pid < 0) {
    perror("boot-timer: fork");
    return 1;
  }
  if (pid == 0) {
    // Its own process group, so a timeout kills the monitor and anything it started.
    setpgid(0, 0);
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(p[1], 1) < 0 || dup2(p[1], 2) < 0) _exit(127);
    execvp(argv[optind], argv + optind);
    dprintf(p[1], "boot-timer: exec %s: %s\n", argv[optind], strerror(errno));
    _exit(127);
  }
  setpgid(pid, pid);
  close(p[1]);

  // The marker may straddle two reads: keep the last marker_len - 1 bytes seen.
  char* window = calloc(marker_len * 2 + 4096, 1);
  if (window == NULL) return 1;
  size_t kept = 0;
  int line_start = 1;
  double boot_ms = -1, deadline = t0 + (double)timeout_s * 1000.0, sample_at = -1;
  struct mem m = {-1, -1, -1, -1}, parent = {-1, -1, -1, -1};
  int timed_out = 0;
  for (;;) {
    double now = now_ms();
    if (now >= deadline) {
      kill(-pid, SIGKILL);
      timed_out = 1;
      break;
    }
    double until = sample_at >= 0 && sample_at < deadline ? sample_at : deadline;
    int wait_ms = until > now ? (int)(until - now) + 1 : 0;
    struct pollfd pfd = {.fd = p[0], .events = POLLIN};
    int r = poll(&pfd, 1, wait_ms);
    if (r < 0 && errno != EINTR) break;
    if (sample_at >= 0 && now_ms() >= sample_at) {
      sample_at = -1;
      pid_t target = use_child ? find_child(pid) : pid;
      if (target > 0) sample(target, guest_bytes, &m);
      if (use_child) sample(pid, guest_bytes, &parent);
    }
    if (r <= 0) continue;
    char buf[4096];
    ssize_t n = read(p[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    log_output(log, buf, (size_t)n, stamp ? now_ms() - t0 : -1, &line_start);
    if (boot_ms >= 0) continue;
    memcpy(window + kept, buf, (size_t)n);
    size_t len = kept + (size_t)n;
    if (memmem(window, len, marker, marker_len) != NULL) {
      boot_ms = now_ms() - t0;
      sample_at = now_ms() + (double)sample_ms;
      continue;
    }
    kept = len < marker_len - 1 ? len : marker_len - 1;
    memmove(window, window + len - kept, kept);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (timed_out) rc = 124;
  printf("boot_ms=%.1f rc=%d rss_kib=%ld pss_kib=%ld guest_rss_kib=%ld guest_maps=%ld", boot_ms,
         rc, m.rss_kib, m.pss_kib, m.guest_rss_kib, m.guest_maps);
  if (use_child) printf(" parent_rss_kib=%ld parent_pss_kib=%ld", parent.rss_kib, parent.pss_kib);
  printf("\n");
  free(window);
  fclose(log);
  return boot_ms >= 0 && rc == 0 ? 0 : 1;
}
