/* The load test's control (tests/ohos-load/run.sh): a library with one undefined symbol that
 * nothing defines, as libarkffi.so had __clear_cache on aarch64. The host must fail to load it
 * with musl's "symbol not found", or the load test could not catch that bug. */
extern void arkffi_load_test_undefined(void);

void arkffi_load_test_control(void) { arkffi_load_test_undefined(); }
