/* A small header whose generated module is committed next to it (golden.ets): a change of
 * arkffi-bindgen's output shows in review. tests/host/bindgen.test.js regenerates and compares. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GOLDEN_VERSION "1.2.3"
#define GOLDEN_MAX 64
#define GOLDEN_FLAGS (GOLDEN_MAX | 0x100)
#define GOLDEN_RATIO 1.5
#define GOLDEN_NOT_A_CONSTANT(x) ((x) + 1)

/** The colours. */
enum golden_color { GOLDEN_RED, GOLDEN_GREEN = 5, GOLDEN_BLUE = -1 };
enum { GOLDEN_ANON = 7 };

/** A handle whose layout the header hides. */
typedef struct golden_db golden_db;

/** A point. */
typedef struct {
  int32_t x;
  int32_t y;
} golden_point;

/** Nested struct, fixed arrays, pointer fields, 64-bit and target-sized integers. */
struct golden_shape {
  golden_point origin;
  golden_point corners[4];
  char label[8];
  const char *name;
  void *user;
  int64_t id;
  int64_t stamps[2];
  size_t count;
  long delta;
  bool visible;
};

union golden_union { int i; float f; };
struct golden_bits { unsigned a : 3; unsigned b : 5; };

/** Called for each row: return 0 to go on. */
typedef int (*golden_row_cb)(void *ctx, int ncols, char **values, const char *table);

/** Opens a database: *out receives the handle. */
int golden_open(const char *path, golden_db **out);
/** Closes it. */
int golden_close(golden_db *db);
/** Runs `sql`, calling cb for each row. */
int golden_exec(golden_db *db, const char *sql, golden_row_cb cb, void *ctx);
/* Writes into buf (non-const char *: a buffer). */
size_t golden_format(char *buf, size_t cap, double value);
golden_point golden_midpoint(golden_point a, golden_point b);
bool golden_is_visible(const struct golden_shape *shape);
unsigned long golden_hash(const void *data, size_t len, uint64_t seed);
int golden_printf(const char *fmt, ...);
long double golden_precise(long double x);
int golden_union_get(union golden_union u);
