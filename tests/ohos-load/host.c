/* The load test of the OpenHarmony builds (tests/ohos-load/run.sh).
 *
 * 1. Loads libarkffi.so the way OpenHarmony's engine does on `import ... from 'libarkffi.so'`:
 *    dlopen with every symbol bound at once (RTLD_NOW; the library is also linked BIND_NOW),
 *    by musl's own dynamic loader, and checks what its constructor registered: one module,
 *    named `arkffi`, whose nm_register_func is inside the library, which also exports
 *    napi_register_module_v1.
 * 2. Initialises the module against a minimal NAPI engine defined here (the dozen functions
 *    registration and one call need; exported from this program, so they take precedence over
 *    the load test's libace_napi.z.so, whose functions all return napi_generic_failure), and
 *    checks that it defined its functions (dlopen, cfunction, ...).
 * 3. Calls two of them: __debugPanic('nope') must throw a TypeError, and __debugPanic('entry'),
 *    which panics inside the native call, must throw an Error and return — proof that Rust's
 *    unwinding (catch_unwind, with the NDK's libunwind) works in this build under musl.
 *
 * Usage: ohos-load <path to libarkffi.so>    exit 0 when all of it holds; 1 naming what not. */
#include <dlfcn.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ---- The NAPI types used (node_api.h; OpenHarmony's napi/native_api.h has the same). */
typedef int napi_status; /* napi_ok 0, napi_invalid_arg 1, napi_generic_failure 9 */
typedef struct value *napi_value;
typedef struct env *napi_env;
typedef struct callback_info *napi_callback_info;
typedef napi_value (*napi_callback)(napi_env, napi_callback_info);
typedef void (*napi_finalize)(napi_env, void *, void *);
typedef struct napi_module {
  int nm_version;
  unsigned int nm_flags;
  const char *nm_filename;
  napi_value (*nm_register_func)(napi_env, napi_value);
  const char *nm_modname;
  void *nm_priv;
  void *reserved[4];
} napi_module;
enum { napi_undefined, napi_null, napi_boolean, napi_number, napi_string, napi_symbol, napi_object, napi_function };

/* ---- The engine: one env; values are static records. */
struct env {
  int unused;
};
struct value {
  int type;
  const char *string;
};
struct callback_info {
  size_t argc;
  napi_value argv[4];
};
static struct env the_env;
static struct value undefined_value = {napi_undefined, NULL};
static struct value exports_value = {napi_object, NULL};
static struct value function_values[64];

static int registrations;
static napi_module *registered;
static struct {
  char name[32];
  napi_callback cb;
} functions[64];
static int function_count;
static void *instance_data;
static bool exception_pending;
static char thrown_kind[16];
static char thrown_message[256];

void napi_module_register(napi_module *mod) {
  registrations++;
  registered = mod;
}

napi_status napi_set_instance_data(napi_env env, void *data, napi_finalize finalize, void *hint) {
  (void)env, (void)finalize, (void)hint;
  instance_data = data;
  return 0;
}

napi_status napi_get_instance_data(napi_env env, void **data) {
  (void)env;
  *data = instance_data;
  return 0;
}

napi_status napi_create_function(napi_env env, const char *name, size_t length, napi_callback cb, void *data,
                                 napi_value *result) {
  (void)env, (void)data;
  if (function_count == 64 || !name || !cb || !result) return 1;
  size_t n = length == SIZE_MAX ? strlen(name) : length;
  if (n >= sizeof functions[0].name) n = sizeof functions[0].name - 1;
  memcpy(functions[function_count].name, name, n);
  functions[function_count].name[n] = 0;
  functions[function_count].cb = cb;
  function_values[function_count].type = napi_function;
  *result = &function_values[function_count++];
  return 0;
}

napi_status napi_set_named_property(napi_env env, napi_value object, const char *name, napi_value value) {
  (void)env;
  return object && name && value ? 0 : 1;
}

napi_status napi_get_cb_info(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv, napi_value *this_arg,
                             void **data) {
  (void)env;
  if (argc) {
    for (size_t i = 0; i < *argc && i < info->argc; i++) argv[i] = info->argv[i];
    *argc = info->argc;
  }
  if (this_arg) *this_arg = &undefined_value;
  if (data) *data = NULL;
  return 0;
}

napi_status napi_get_undefined(napi_env env, napi_value *result) {
  (void)env;
  *result = &undefined_value;
  return 0;
}

napi_status napi_typeof(napi_env env, napi_value value, int *result) {
  (void)env;
  if (!value) return 1;
  *result = value->type;
  return 0;
}

napi_status napi_get_value_string_utf8(napi_env env, napi_value value, char *buf, size_t size, size_t *result) {
  (void)env;
  if (!value || value->type != napi_string) return 3; /* napi_string_expected */
  size_t n = strlen(value->string);
  if (!buf) {
    *result = n;
    return 0;
  }
  if (size == 0) return 1;
  if (n > size - 1) n = size - 1;
  memcpy(buf, value->string, n);
  buf[n] = 0;
  if (result) *result = n;
  return 0;
}

napi_status napi_is_exception_pending(napi_env env, bool *result) {
  (void)env;
  *result = exception_pending;
  return 0;
}

static napi_status throw_as(const char *kind, const char *message) {
  exception_pending = true;
  snprintf(thrown_kind, sizeof thrown_kind, "%s", kind);
  snprintf(thrown_message, sizeof thrown_message, "%s", message ? message : "(null)");
  return 0;
}
napi_status napi_throw_error(napi_env env, const char *code, const char *msg) {
  (void)env, (void)code;
  return throw_as("Error", msg);
}
napi_status napi_throw_type_error(napi_env env, const char *code, const char *msg) {
  (void)env, (void)code;
  return throw_as("TypeError", msg);
}
napi_status napi_throw_range_error(napi_env env, const char *code, const char *msg) {
  (void)env, (void)code;
  return throw_as("RangeError", msg);
}

/* ---- The test. */
static const char *library;

static int fail(const char *what) {
  fprintf(stderr, "ohos-load: %s: %s\n", library, what);
  return 1;
}

static napi_callback function_named(const char *name) {
  for (int i = 0; i < function_count; i++)
    if (strcmp(functions[i].name, name) == 0) return functions[i].cb;
  return NULL;
}

/* Calls a module function with one string argument; returns what it returned. */
static napi_value call_with_string(napi_callback cb, const char *arg) {
  struct value s = {napi_string, arg};
  struct callback_info info = {1, {&s}};
  exception_pending = false;
  thrown_kind[0] = thrown_message[0] = 0;
  return cb(&the_env, &info);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: ohos-load <libarkffi.so>\n");
    return 2;
  }
  library = argv[1];
  setvbuf(stdout, NULL, _IOLBF, 0); /* in order with Rust's panic message on stderr */

  /* 1. Load and registration. */
  void *handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    fprintf(stderr, "ohos-load: %s: dlopen(RTLD_NOW) failed: %s\n", library, dlerror());
    return 1;
  }
  if (registrations != 1) {
    fprintf(stderr, "ohos-load: %s: its constructor called napi_module_register %d times, not once\n", library,
            registrations);
    return 1;
  }
  if (!registered->nm_modname || strcmp(registered->nm_modname, "arkffi") != 0)
    return fail("the registered module is not named 'arkffi'");
  if (registered->nm_version != 1) return fail("the registered module's nm_version is not 1");
  Dl_info init_where, entry_where;
  if (!registered->nm_register_func || !dladdr((void *)registered->nm_register_func, &init_where))
    return fail("the registered module's nm_register_func is not inside a loaded library");
  void *entry = dlsym(handle, "napi_register_module_v1");
  if (!entry || !dladdr(entry, &entry_where) || entry_where.dli_fbase != init_where.dli_fbase)
    return fail("napi_register_module_v1 is missing, or not in the library that registered the module");
  printf("ohos-load: %s: loaded with RTLD_NOW; registered module 'arkffi' (nm_version 1, nm_register_func in %s)\n",
         library, init_where.dli_fname);

  /* 2. Module initialisation. */
  napi_value exports = registered->nm_register_func(&the_env, &exports_value);
  if (exception_pending) {
    fprintf(stderr, "ohos-load: %s: module initialisation threw %s: %s\n", library, thrown_kind, thrown_message);
    return 1;
  }
  if (exports != &exports_value) return fail("module initialisation did not return its exports object");
  const char *expected[] = {"dlopen", "cfunction", "ptr", "structLayout", "callbackCreate", "releasePtr", "__debugPanic"};
  for (size_t i = 0; i < sizeof expected / sizeof *expected; i++) {
    if (!function_named(expected[i])) {
      fprintf(stderr, "ohos-load: %s: module initialisation defined no function '%s'\n", library, expected[i]);
      return 1;
    }
  }
  printf("ohos-load: module initialised: %d functions defined (dlopen, cfunction, ptr, ...)\n", function_count);

  /* 3. Two calls: an argument error, and a panic caught inside the native call. */
  napi_callback debug_panic = function_named("__debugPanic");
  napi_value r = call_with_string(debug_panic, "nope");
  if (r || !exception_pending || strcmp(thrown_kind, "TypeError") != 0)
    return fail("__debugPanic('nope') did not throw a TypeError");
  printf("ohos-load: __debugPanic('nope') threw %s: %s\n", thrown_kind, thrown_message);
  printf("ohos-load: calling __debugPanic('entry'): the panic message Rust prints next is expected\n");
  r = call_with_string(debug_panic, "entry");
  if (r || !exception_pending || strcmp(thrown_kind, "Error") != 0 || !strstr(thrown_message, "panic"))
    return fail("__debugPanic('entry') did not throw an Error about the panic");
  printf("ohos-load: __debugPanic('entry') panicked, unwound, and threw %s: %s\n", thrown_kind, thrown_message);
  return 0;
}
