/* LD_PRELOAD interposer that enforces HarmonyOS 5's rule on this host: no anonymous
 * executable memory and no writable+executable memory. mmap/mmap64/mprotect/pkey_mprotect
 * fail with EPERM when PROT_EXEC is asked for anonymous memory, together with PROT_WRITE, or
 * (mprotect) on a mapping that is anonymous or currently writable. File-backed code (what
 * the dynamic loader maps, and libffi's static trampolines) passes.
 * Every refusal is counted; with NOEXEC_GUARD_LOG=1 each is reported on stderr.
 * Build: cc -O2 -fPIC -shared -o libnoexec.so noexec.c -ldl */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile long refusals;

static void report(const char *what, void *addr, size_t len, int prot) {
  __sync_fetch_and_add(&refusals, 1);
  const char *log = getenv("NOEXEC_GUARD_LOG");
  if (log && log[0] == '1') {
    char buf[160];
    int n = snprintf(buf, sizeof buf, "noexec-guard: refused %s(%p, %zu, prot=%d)\n", what, addr, len, prot);
    if (n > 0) (void)!write(2, buf, (size_t)n);
  }
}

/* Is [addr, addr+len) inside a mapping that is anonymous or writable? Reads /proc/self/maps
 * with raw syscalls only (no malloc: this may run inside the allocator). */
static int anonymous_or_writable(uintptr_t addr) {
  int fd = (int)syscall(SYS_openat, -100 /* AT_FDCWD */, "/proc/self/maps", 0 /* O_RDONLY */);
  if (fd < 0) return 1;
  char buf[8192];
  char line[512];
  size_t used = 0;
  int result = 1;
  long n;
  while ((n = syscall(SYS_read, fd, buf, sizeof buf)) > 0) {
    for (long i = 0; i < n; i++) {
      if (buf[i] != '\n') {
        if (used < sizeof line - 1) line[used++] = buf[i];
        continue;
      }
      line[used] = 0;
      used = 0;
      uintptr_t lo = strtoull(line, NULL, 16);
      char *dash = strchr(line, '-');
      if (!dash) continue;
      uintptr_t hi = strtoull(dash + 1, NULL, 16);
      if (addr < lo || addr >= hi) continue;
      char *perms = strchr(dash, ' ');
      if (!perms) break;
      perms++;
      int writable = perms[1] == 'w';
      /* fields: perms offset dev inode path */
      char *p = perms;
      for (int field = 0; field < 4 && p; field++) p = strchr(p + 1, ' ');
      while (p && *p == ' ') p++;
      int anonymous = !p || *p == 0 || *p == '[';
      result = anonymous || writable;
      syscall(SYS_close, fd);
      return result;
    }
  }
  syscall(SYS_close, fd);
  return result;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  if ((prot & PROT_EXEC) && ((flags & MAP_ANONYMOUS) || (prot & PROT_WRITE))) {
    report("mmap", addr, len, prot);
    errno = EPERM;
    return MAP_FAILED;
  }
  return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  return mmap(addr, len, prot, flags, fd, off);
}

int mprotect(void *addr, size_t len, int prot) {
  if ((prot & PROT_EXEC) && ((prot & PROT_WRITE) || anonymous_or_writable((uintptr_t)addr))) {
    report("mprotect", addr, len, prot);
    errno = EPERM;
    return -1;
  }
  return (int)syscall(SYS_mprotect, addr, len, prot);
}

int pkey_mprotect(void *addr, size_t len, int prot, int pkey) {
  if ((prot & PROT_EXEC) && ((prot & PROT_WRITE) || anonymous_or_writable((uintptr_t)addr))) {
    report("pkey_mprotect", addr, len, prot);
    errno = EPERM;
    return -1;
  }
  return (int)syscall(SYS_pkey_mprotect, addr, len, prot, pkey);
}

/* How many requests were refused so far (tests read it through the FFI). */
long noexec_guard_refusals(void) { return refusals; }
