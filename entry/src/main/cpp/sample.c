/* libsample.so: the sample app's own C library. Plain C, no NAPI: the app calls it through
 * ArkFFI (entry/src/main/ets/showcase/Showcase.ets and the instrumented tests in
 * entry/src/ohosTest/). One or more functions for each kind of value ArkFFI passes:
 * scalars, strings, structs, buffers, pointers, callbacks, C threads, slow calls.
 * Built by CMakeLists.txt next to it (DevEco / hvigor) or by entry/host/libraries.js (host). */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SAMPLE_EXPORT __attribute__((visibility("default")))

/* ---- scalars ---------------------------------------------------------------------------- */

SAMPLE_EXPORT int32_t sample_add(int32_t a, int32_t b) { return a + b; }
SAMPLE_EXPORT int64_t sample_mul_i64(int64_t a, int64_t b) { return a * b; }
SAMPLE_EXPORT uint64_t sample_u64_max(void) { return UINT64_MAX; }
SAMPLE_EXPORT int8_t sample_negate_i8(int8_t v) { return (int8_t)-v; }
SAMPLE_EXPORT uint16_t sample_swap_u16(uint16_t v) { return (uint16_t)((v << 8) | (v >> 8)); }
SAMPLE_EXPORT float sample_half_f32(float v) { return v / 2.0f; }
SAMPLE_EXPORT double sample_average(double a, double b) { return (a + b) / 2.0; }
SAMPLE_EXPORT bool sample_is_even(int32_t v) { return v % 2 == 0; }
/* 2^shift as size_t: a number in JS up to 2^53, a bigint above. */
SAMPLE_EXPORT size_t sample_pow2(int32_t shift) { return (size_t)1 << shift; }

/* ---- strings ---------------------------------------------------------------------------- */

SAMPLE_EXPORT const char *sample_greeting(void) { return "Hello from libsample"; }
SAMPLE_EXPORT const char *sample_no_string(void) { return NULL; }

/* ASCII vowels in a NUL-terminated UTF-8 string (NULL counts none). */
SAMPLE_EXPORT size_t sample_count_vowels(const char *s) {
  size_t n = 0;
  if (!s) return 0;
  for (; *s; s++) {
    if (strchr("aeiouAEIOU", *s)) n++;
  }
  return n;
}

/* An upper-case copy that the caller frees with sample_free. */
SAMPLE_EXPORT char *sample_shout(const char *s) {
  size_t len = strlen(s);
  char *out = malloc(len + 1);
  if (!out) return NULL;
  for (size_t i = 0; i <= len; i++) {
    char c = s[i];
    out[i] = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
  }
  return out;
}
SAMPLE_EXPORT void sample_free(void *p) { free(p); }

/* ---- structs ---------------------------------------------------------------------------- */

typedef struct {
  double x, y;
} Point;

/* A struct with padding, a nested struct array and a char array. */
typedef struct {
  uint8_t kind;
  Point corners[2];
  int32_t id;
  char label[8];
} Box;

SAMPLE_EXPORT Point sample_midpoint(Point a, Point b) {
  Point m = {(a.x + b.x) / 2.0, (a.y + b.y) / 2.0};
  return m;
}

SAMPLE_EXPORT void sample_point_scale(Point *p, double k) {
  p->x *= k;
  p->y *= k;
}

/* The bounding box of n points (by pointer to an array of structs). */
SAMPLE_EXPORT Box sample_bounds(const Point *pts, size_t n, int32_t id) {
  Box b;
  memset(&b, 0, sizeof b);
  b.kind = 2;
  b.id = id;
  memcpy(b.label, "bounds", 7);
  if (n == 0) return b;
  b.corners[0] = pts[0];
  b.corners[1] = pts[0];
  for (size_t i = 1; i < n; i++) {
    if (pts[i].x < b.corners[0].x) b.corners[0].x = pts[i].x;
    if (pts[i].y < b.corners[0].y) b.corners[0].y = pts[i].y;
    if (pts[i].x > b.corners[1].x) b.corners[1].x = pts[i].x;
    if (pts[i].y > b.corners[1].y) b.corners[1].y = pts[i].y;
  }
  return b;
}

SAMPLE_EXPORT double sample_box_area(Box b) {
  return (b.corners[1].x - b.corners[0].x) * (b.corners[1].y - b.corners[0].y);
}

/* The C compiler's layout of Box, to compare with StructSchema on the device's ABI:
 * 0 sizeof, 1 _Alignof, 2 offsetof corners, 3 offsetof id, 4 offsetof label. */
SAMPLE_EXPORT size_t sample_box_layout(int32_t which) {
  switch (which) {
    case 0: return sizeof(Box);
    case 1: return _Alignof(Box);
    case 2: return offsetof(Box, corners);
    case 3: return offsetof(Box, id);
    case 4: return offsetof(Box, label);
    default: return 0;
  }
}

/* ---- buffers ---------------------------------------------------------------------------- */

SAMPLE_EXPORT void sample_fill(uint8_t *buf, size_t n, uint8_t v) { memset(buf, v, n); }

SAMPLE_EXPORT void sample_reverse(uint8_t *buf, size_t n) {
  for (size_t i = 0; i < n / 2; i++) {
    uint8_t t = buf[i];
    buf[i] = buf[n - 1 - i];
    buf[n - 1 - i] = t;
  }
}

/* Adler-32, the checksum zlib's adler32() computes (the tests compare both). */
SAMPLE_EXPORT uint32_t sample_checksum(const uint8_t *buf, size_t n) {
  uint32_t a = 1, b = 0;
  for (size_t i = 0; i < n; i++) {
    a = (a + buf[i]) % 65521u;
    b = (b + a) % 65521u;
  }
  return (b << 16) | a;
}

SAMPLE_EXPORT int64_t sample_sum_i32(const int32_t *v, size_t n) {
  int64_t s = 0;
  for (size_t i = 0; i < n; i++) s += v[i];
  return s;
}

/* ---- pointers ----------------------------------------------------------------------------- */

static const int32_t primes[8] = {2, 3, 5, 7, 11, 13, 17, 19};
SAMPLE_EXPORT const int32_t *sample_primes(void) { return primes; }

/* An exported variable (getSymbolPtr finds it) and a function that changes it. */
SAMPLE_EXPORT int32_t sample_counter = 0;
SAMPLE_EXPORT int32_t sample_bump(int32_t by) { return sample_counter += by; }

/* Function pointers handed out by C, for CFunction. */
static int32_t op_add(int32_t a, int32_t b) { return a + b; }
static int32_t op_sub(int32_t a, int32_t b) { return a - b; }
static int32_t op_mul(int32_t a, int32_t b) { return a * b; }
typedef int32_t (*binop)(int32_t, int32_t);
SAMPLE_EXPORT binop sample_op(int32_t which) {
  switch (which) {
    case 0: return op_add;
    case 1: return op_sub;
    case 2: return op_mul;
    default: return NULL;
  }
}

/* ---- callbacks ---------------------------------------------------------------------------- */

SAMPLE_EXPORT int32_t sample_apply(int32_t (*f)(int32_t), int32_t v) { return f(v); }

SAMPLE_EXPORT int32_t sample_fold(const int32_t *v, size_t n, int32_t init, int32_t (*f)(int32_t, int32_t)) {
  int32_t acc = init;
  for (size_t i = 0; i < n; i++) acc = f(acc, v[i]);
  return acc;
}

/* Calls f once per space-separated word (words longer than 63 bytes are cut). */
SAMPLE_EXPORT int32_t sample_each_word(const char *s, void (*f)(const char *, int32_t)) {
  char word[64];
  int32_t count = 0;
  while (*s) {
    while (*s == ' ') s++;
    if (!*s) break;
    size_t len = 0;
    while (s[len] && s[len] != ' ') len++;
    size_t keep = len < sizeof word - 1 ? len : sizeof word - 1;
    memcpy(word, s, keep);
    word[keep] = 0;
    f(word, count++);
    s += len;
  }
  return count;
}

/* A struct by value into a callback and back. */
SAMPLE_EXPORT Point sample_map_point(Point p, Point (*f)(Point)) { return f(p); }

/* A callback that returns a string: C measures it. */
SAMPLE_EXPORT size_t sample_measure(const char *(*f)(int32_t), int32_t v) {
  const char *s = f(v);
  return s ? strlen(s) : 0;
}

/* ---- C threads calling back ---------------------------------------------------------------- */

#define SAMPLE_MAX_THREADS 16

typedef struct {
  int32_t (*f)(int32_t);
  void (*g)(int32_t);
  int32_t first;
  int32_t calls;
  int64_t sum;
} Job;

static void *job_main(void *arg) {
  Job *job = arg;
  for (int32_t k = 0; k < job->calls; k++) {
    if (job->f) job->sum += job->f(job->first + k);
    if (job->g) job->g(job->first + k);
  }
  return NULL;
}

static int64_t run_jobs(int32_t (*f)(int32_t), void (*g)(int32_t), int32_t threads, int32_t calls) {
  pthread_t ids[SAMPLE_MAX_THREADS];
  Job jobs[SAMPLE_MAX_THREADS];
  int32_t started = 0;
  if (threads > SAMPLE_MAX_THREADS) threads = SAMPLE_MAX_THREADS;
  for (int32_t t = 0; t < threads; t++) {
    jobs[t] = (Job){f, g, t * 100, calls, 0};
    if (pthread_create(&ids[t], NULL, job_main, &jobs[t]) != 0) break;
    started++;
  }
  int64_t total = 0;
  for (int32_t t = 0; t < started; t++) {
    pthread_join(ids[t], NULL);
    total += jobs[t].sum;
  }
  return started == threads ? total : -1;
}

/* Starts `threads` C threads; thread t calls f(t*100 + k) for k < calls; returns the sum of
 * every result (-1 if a thread could not be started). Waits for the threads: call it with
 * nonblocking so the JS thread can serve the threadsafe callback meanwhile. */
SAMPLE_EXPORT int64_t sample_run_threads(int32_t (*f)(int32_t), int32_t threads, int32_t calls) {
  return run_jobs(f, NULL, threads, calls);
}

/* The same with a void callback, which C threads do not wait for. */
SAMPLE_EXPORT int32_t sample_notify_threads(void (*g)(int32_t), int32_t threads, int32_t calls) {
  return run_jobs(NULL, g, threads, calls) < 0 ? -1 : threads * calls;
}

/* ---- slow calls (for nonblocking) ----------------------------------------------------------- */

static void sleep_ms(int32_t ms) {
  if (ms <= 0) return;
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

SAMPLE_EXPORT int32_t sample_slow_square(int32_t v, int32_t ms) {
  sleep_ms(ms);
  return v * v;
}

SAMPLE_EXPORT size_t sample_slow_count_vowels(const char *s, int32_t ms) {
  sleep_ms(ms);
  return sample_count_vowels(s);
}

SAMPLE_EXPORT void sample_slow_fill(uint8_t *buf, size_t n, uint8_t v, int32_t ms) {
  sleep_ms(ms);
  memset(buf, v, n);
}

SAMPLE_EXPORT Point sample_slow_midpoint(Point a, Point b, int32_t ms) {
  sleep_ms(ms);
  return sample_midpoint(a, b);
}
