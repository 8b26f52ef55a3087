/* Part of the stand-in NDK's libunwind.a (tests/ohos-ndk-standin/README.md).
 *
 * Debian builds LLVM's libunwind for glibc with _FORTIFY_SOURCE, so its objects call
 * glibc's checked printf, __fprintf_chk (on its error-logging paths only). musl has no such
 * function; this defines it, hidden (linked into whatever links libunwind.a, never exported),
 * as the plain fprintf it checks. The real OpenHarmony NDK's libunwind.a is built for musl
 * and needs nothing like it. */
#include <stdarg.h>
#include <stdio.h>

__attribute__((visibility("hidden"))) int __fprintf_chk(FILE *stream, int flag, const char *format, ...) {
  (void)flag;
  va_list ap;
  va_start(ap, format);
  int n = vfprintf(stream, format, ap);
  va_end(ap);
  return n;
}
