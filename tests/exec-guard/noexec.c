/* LD_PRELOAD interposer that enforces the strictest form of HarmonyOS's code-signing rule on
 * this host: no code is mapped at run time at all. Every mmap/mmap64/mprotect/pkey_mprotect
 * request for PROT_EXEC made through libc fails with EPERM, whether the memory is anonymous,
 * writable or backed by a file (a device maps executable pages only from signed files, and a
 * re-mapped page of a library, as libffi's static trampolines make, is not something to rely
 * on). The dynamic loader maps libraries with its own internal calls, which this does not
 * see, so dlopen still works.
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

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  if (prot & PROT_EXEC) {
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
  if (prot & PROT_EXEC) {
    report("mprotect", addr, len, prot);
    errno = EPERM;
    return -1;
  }
  return (int)syscall(SYS_mprotect, addr, len, prot);
}

int pkey_mprotect(void *addr, size_t len, int prot, int pkey) {
  if (prot & PROT_EXEC) {
    report("pkey_mprotect", addr, len, prot);
    errno = EPERM;
    return -1;
  }
  return (int)syscall(SYS_pkey_mprotect, addr, len, prot, pkey);
}

/* How many requests were refused so far (tests read it through the FFI). */
long noexec_guard_refusals(void) { return refusals; }
