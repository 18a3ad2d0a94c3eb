/* sysw: write a string to a (sys)fs file with one write() and print the
 * outcome as an errno name ("0" on success), because shells hide errnos
 * (busybox printf ignores write errors, dash only says "I/O error").
 *
 * usage: sysw [-n] PATH DATA      -n appends "\n" (as echo does)
 * Always exits 0 once it could report; 2 on usage or safety refusal.
 *
 * Safety: this machine's own /sys must never be written (unbinding its disk
 * or network kills it), so paths under /sys are refused unless the kernel
 * command line carries the test VM's marker. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VM_MARKER "vmtest.guest=1"

static int in_test_vm(void)
{
  char buf[4096];
  FILE *f = fopen("/proc/cmdline", "re");
  size_t n;

  if (!f)
    return 0;
  n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  return strstr(buf, VM_MARKER) != NULL;
}

static int is_real_sys(const char *path)
{
  char dir[PATH_MAX], real[PATH_MAX];
  char *slash;

  /* The file may not exist (that is an outcome to report), so resolve its
   * directory; fall back to the literal path. */
  snprintf(dir, sizeof dir, "%s", path);
  slash = strrchr(dir, '/');
  if (slash == dir)
    dir[1] = '\0';
  else if (slash)
    *slash = '\0';
  else
    snprintf(dir, sizeof dir, ".");
  if (!realpath(dir, real))
    snprintf(real, sizeof real, "%s", path);
  return strcmp(real, "/sys") == 0 || strncmp(real, "/sys/", 5) == 0;
}

static const char *errname(int e)
{
  const char *n = strerrorname_np(e);
  return n ? n : "EUNKNOWN";
}

int main(int argc, char **argv)
{
  int newline = 0, fd;
  const char *path, *data;
  char *buf;
  size_t len;
  ssize_t r;

  if (argc > 1 && strcmp(argv[1], "-n") == 0) {
    newline = 1;
    argv++;
    argc--;
  }
  if (argc != 3) {
    fprintf(stderr, "usage: sysw [-n] PATH DATA\n");
    return 2;
  }
  path = argv[1];
  data = argv[2];
  if (is_real_sys(path) && !in_test_vm()) {
    fprintf(stderr, "sysw: refusing to write %s outside the test VM\n", path);
    return 2;
  }
  len = strlen(data);
  buf = malloc(len + 2);
  if (!buf)
    return 2;
  memcpy(buf, data, len);
  if (newline)
    buf[len++] = '\n';
  fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    printf("%s\n", errname(errno));
    free(buf);
    return 0;
  }
  r = write(fd, buf, len);
  if (r < 0)
    printf("%s\n", errname(errno));
  else if ((size_t)r != len)
    printf("SHORT%zd\n", r);
  else
    printf("0\n");
  close(fd);
  free(buf);
  return 0;
}
