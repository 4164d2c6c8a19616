// A first program for the sandbox: greets, shows its arguments, lists the mounted /data,
// and proves the host is out of reach (no host path, nothing above the sandbox root).
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
  printf("hello from the sandbox\n");
  for (int i = 1; i < argc; i++) printf("  arg %d: %s\n", i, argv[i]);
  DIR *d = opendir("/data");
  if (d) {
    printf("/data holds:\n");
    struct dirent *e;
    while ((e = readdir(d))) if (e->d_name[0] != '.') printf("  %s\n", e->d_name);
    closedir(d);
  } else {
    printf("/data is not mounted (run with --dir DIR::/data)\n");
  }
  FILE *f = fopen("/etc/passwd", "r");
  printf("/etc/passwd from the host: %s\n", f ? "visible (!)" : strerror(errno));
  return 0;
}
