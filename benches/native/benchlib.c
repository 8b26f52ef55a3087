/*
 * The C side of the ArkFFI benchmark (benches/run.js). ArkFFI, koffi and the hand-written
 * NAPI baseline (benches/baseline) all call these very functions, so the only difference the
 * benchmark measures is the binding layer.
 *
 * Built by benches/run.sh: cc -O2 -fPIC -shared -o target/bench/libbenchlib.so benchlib.c
 * strlen and qsort are not here: every side takes them from libc.so.6.
 */
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define BENCH_EXPORT __attribute__((visibility("default"), noinline))
#else
#define BENCH_EXPORT
#endif

BENCH_EXPORT int32_t add_i32(int32_t a, int32_t b) { return a + b; }

BENCH_EXPORT double add_f64(double a, double b) { return a + b; }

BENCH_EXPORT void noop(void) {}

/* The sum of the n int32 at p (a 64-bit sum, so 1000 large elements cannot overflow). */
BENCH_EXPORT int64_t sum_i32(const int32_t *p, size_t n) {
  int64_t s = 0;
  for (size_t i = 0; i < n; i++) s += p[i];
  return s;
}

BENCH_EXPORT int64_t add_i64(int64_t a, int64_t b) { return a + b; }

/* Six mixed arguments: integer and float registers both, with a float widened to double. */
BENCH_EXPORT double mix6(int32_t a, double b, int32_t c, double d, int64_t e, float f) {
  return (double)a + b + (double)c + d + (double)e + (double)f;
}

BENCH_EXPORT const char *hello(void) { return "hello from benchlib"; }

/* Two doubles: a 16-byte struct passed and returned by value (in SSE registers on x86_64,
 * in d0..d3 on aarch64). */
typedef struct {
  double real;
  double imag;
} complex_t;

BENCH_EXPORT complex_t complex_add(complex_t a, complex_t b) {
  complex_t r = {a.real + b.real, a.imag + b.imag};
  return r;
}

/* Calls cb once: the cost of a C-to-JS callback round trip inside a JS-to-C call. */
BENCH_EXPORT int32_t call_cb(int32_t (*cb)(int32_t), int32_t x) { return cb(x); }

/* read_i32: memory that C owns, read through the pointer C hands out. */
static int32_t bench_ints_data[4] = {7, -8, 9, -10};
BENCH_EXPORT const int32_t *bench_ints(void) { return bench_ints_data; }

