//! The baseline of the ArkFFI benchmark: the fastest ordinary way to bind the C functions of
//! benches/native/benchlib.c (and libc's strlen) to JS by hand.
//!
//! Every export is a raw Node-API function, `unsafe extern "C" fn(env, info) -> napi_value`,
//! registered with `napi_create_function` + `napi_set_named_property`. Each does, and does
//! only: `napi_get_cb_info`, one `napi_get_value_*` per argument, the C call through a typed
//! function pointer, one `napi_create_*` for the result. Statuses are checked (a failed one
//! throws), which costs a predictable branch on the fast path, as in any real binding.
//!
//! The C functions are resolved once, at module init, with dlopen/dlsym from the library
//! named by the environment variable `ARKFFI_BENCHLIB` (strlen from libc.so.6), and kept in
//! a static as typed function pointers: a call is one indirect call, nothing else.

use std::ffi::{c_char, c_void, CStr};
use std::ptr;
use std::sync::OnceLock;

use napi_derive_ohos::napi;
use napi_ohos::sys::{self, napi_callback_info, napi_env, napi_value, Status, TypedarrayType};

type AddI32 = unsafe extern "C" fn(i32, i32) -> i32;
type AddF64 = unsafe extern "C" fn(f64, f64) -> f64;
type Noop = unsafe extern "C" fn();
type SumI32 = unsafe extern "C" fn(*const i32, usize) -> i64;
type AddI64 = unsafe extern "C" fn(i64, i64) -> i64;
type Mix6 = unsafe extern "C" fn(i32, f64, i32, f64, i64, f32) -> f64;
type Hello = unsafe extern "C" fn() -> *const c_char;
type Strlen = unsafe extern "C" fn(*const c_char) -> usize;
type ComplexAdd = unsafe extern "C" fn(Complex, Complex) -> Complex;
type CbI32 = unsafe extern "C" fn(i32) -> i32;
type CallCb = unsafe extern "C" fn(CbI32, i32) -> i32;
type BenchInts = unsafe extern "C" fn() -> *const i32;

/// `complex_t` of benchlib.c: `struct { double real; double imag; }`.
#[repr(C)]
#[derive(Clone, Copy)]
struct Complex {
    real: f64,
    imag: f64,
}

/// The resolved C functions.
struct Fns {
    add_i32: AddI32,
    add_f64: AddF64,
    noop: Noop,
    sum_i32: SumI32,
    add_i64: AddI64,
    mix6: Mix6,
    hello: Hello,
    strlen: Strlen,
    complex_add: ComplexAdd,
    call_cb: CallCb,
    bench_ints: BenchInts,
}

static FNS: OnceLock<Fns> = OnceLock::new();

/// The resolved functions. Only reachable from the exported functions, which exist only
/// after `init` has filled `FNS`.
#[inline(always)]
fn fns() -> &'static Fns {
    // SAFETY: `init` sets FNS before it registers any function that calls this.
    unsafe { FNS.get().unwrap_unchecked() }
}

/// The size of the stack buffer of `strlen`: longer strings are cut to 1023 bytes.
const STRLEN_BUF: usize = 1024;

/// Throws an Error with `msg` and returns the "no value" of a failed callback.
#[cold]
#[inline(never)]
unsafe fn fail(env: napi_env, msg: &CStr) -> napi_value {
    // SAFETY: env is the live env of the current callback.
    unsafe { sys::napi_throw_error(env, ptr::null(), msg.as_ptr()) };
    ptr::null_mut()
}

/// `if status != napi_ok { throw msg }`.
macro_rules! ok {
    ($env:expr, $call:expr, $msg:expr) => {
        if $call != Status::napi_ok {
            return fail($env, $msg);
        }
    };
}

/// `napi_get_cb_info` for exactly N arguments (missing ones read as undefined, which the
/// value getters then refuse).
macro_rules! args {
    ($env:expr, $info:expr, $n:literal) => {{
        let mut argc: usize = $n;
        let mut argv: [napi_value; $n] = [ptr::null_mut(); $n];
        ok!(
            $env,
            sys::napi_get_cb_info(
                $env,
                $info,
                &mut argc,
                argv.as_mut_ptr(),
                ptr::null_mut(),
                ptr::null_mut()
            ),
            c"napi_get_cb_info failed"
        );
        argv
    }};
}

unsafe extern "C" fn js_add_i32(env: napi_env, info: napi_callback_info) -> napi_value {
    // SAFETY: called by Node with this call\'s env and info; argv holds exactly the slots
    // asked for; the C function pointers were resolved at init with the matching prototypes.
    unsafe {
        let argv = args!(env, info, 2);
        let (mut a, mut b) = (0i32, 0i32);
        ok!(
            env,
            sys::napi_get_value_int32(env, argv[0], &mut a),
            c"add_i32: a must be a number"
        );
        ok!(
            env,
            sys::napi_get_value_int32(env, argv[1], &mut b),
            c"add_i32: b must be a number"
        );
        let r = (fns().add_i32)(a, b);
        let mut out = ptr::null_mut();
        ok!(
            env,
            sys::napi_create_int32(env, r, &mut out),
            c"add_i32: napi_create_int32 failed"
        );
        out
    }
}

unsafe extern "C" fn js_add_f64(env: napi_env, info: napi_callback_info) -> napi_value {
    // SAFETY: called by Node with this call\'s env and info; argv holds exactly the slots
    // asked for; the C function pointers were resolved at init with the matching prototypes.
    unsafe {
        let argv = args!(env, info, 2);
        let (mut a, mut b) = (0f64, 0f64);
        ok!(
            env,
            sys::napi_get_value_double(env, argv[0], &mut a),
            c"add_f64: a must be a number"
        );
        ok!(
            env,
            sys::napi_get_value_double(env, argv[1], &mut b),
            c"add_f64: b must be a number"
        );
        let r = (fns().add_f64)(a, b);
        let mut out = ptr::null_mut();
        ok!(
            env,
            sys::napi_create_double(env, r, &mut out),
            c"add_f64: napi_create_double failed"
        );
        out
    }
}

unsafe extern "C" fn js_noop(env: napi_env, info: napi_callback_info) -> napi_value {
    // SAFETY: called by Node with this call\'s env and info; argv holds exactly the slots
    // asked for; the C function pointers were resolved at init with the matching prototypes.
    unsafe {
        // No arguments to read, but the call still asks for its callback info, as every
        // function of both sides does.
        let mut argc: usize = 0;
        ok!(
            env,
            sys::napi_get_cb_info(
                env,
                info,
                &mut argc,
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null_mut()
            ),
            c"napi_get_cb_info failed"
        );
        (fns().noop)();
        let mut out = ptr::null_mut();
        ok!(
            env,
            sys::napi_get_undefined(env, &mut out),
            c"noop: napi_get_undefined failed"
        );
        out
    }
}

unsafe extern "C" fn js_strlen(env: napi_env, info: napi_callback_info) -> napi_value {
    // SAFETY: called by Node with this call\'s env and info; argv holds exactly the slots
    // asked for; the C function pointers were resolved at init with the matching prototypes.
    unsafe {
        let argv = args!(env, info, 1);
        let mut buf = [0u8; STRLEN_BUF];
        let mut copied = 0usize;
        ok!(
            env,
            sys::napi_get_value_string_utf8(
                env,
                argv[0],
                buf.as_mut_ptr().cast(),
                STRLEN_BUF,
                &mut copied
            ),
            c"strlen: s must be a string"
        );
        let r = (fns().strlen)(buf.as_ptr().cast());
        let mut out = ptr::null_mut();
        ok!(
            env,
            sys::napi_create_int64(env, r as i64, &mut out),
            c"strlen: napi_create_int64 failed"
        );
        out
    }
}

unsafe extern "C" fn js_sum_i32(env: napi_env, info: napi_callback_info) -> napi_value {
    // SAFETY: called by Node with this call\'s env and info; argv holds exactly the slots
    // asked for; the C function pointers were resolved at init with the matching prototypes.
    unsafe {
        let argv = args!(env, info, 2);
        let mut kind = 0;
        let mut len = 0usize;
        let mut data: *mut c_void = ptr::null_mut();
        ok!(
            env,
            sys::napi_get_typedarray_info(
                env,
                argv[0],
                &mut kind,
                &mut len,
                &mut data,
                ptr::null_mut(),
                ptr::null_mut()
            ),
            c"sum_i32: p must be an Int32Array"
        );
        let mut n = 0i64;
        ok!(
            env,
            sys::napi_get_value_int64(env, argv[1], &mut n),
            c"sum_i32: n must be a number"
        );
        if kind != TypedarrayType::int32_array || n < 0 || n as usize > len {
            return fail(
                env,
                c"sum_i32: p must be an Int32Array of at least n elements",
            );
        }
        let r = (fns().sum_i32)(data as *const i32, n as usize);
        let mut out = ptr::null_mut();
        ok!(
            env,
            sys::napi_create_bigint_int64(env, r, &mut out),
            c"sum_i32: napi_create_bigint_int64 failed"
        );
        out
    }
}

unsafe extern "C" fn js_add_i64(env: napi_env, info: napi_callback_info) -> napi_value {
    // SAFETY: called by Node with this call\'s env and info; argv holds exactly the slots
    // asked for; the C function pointers were resolved at init with the matching prototypes.
    unsafe {
        let argv = args!(env, info, 2);
        let (mut a, mut b) = (0i64, 0i64);
        let mut lossless = false;
        ok!(
            env,
            sys::napi_get_value_bigint_int64(env, argv[0], &mut a, &mut lossless),
            c"add_i64: a must be a bigint"
        );
        ok!(
            env,
            sys::napi_get_value_bigint_int64(env, argv[1], &mut b, &mut lossless),
            c"add_i64: b must be a bigint"
        );
        let r = (fns().add_i64)(a, b);
        let mut out = ptr::null_mut();
        ok!(
            env,
            sys::napi_create_bigint_int64(env, r, &mut out),
            c"add_i64: napi_create_bigint_int64 failed"
        );
        out
    }
}

unsafe extern "C" fn js_mix6(env: napi_env, info: napi_callback_info) -> napi_value {
    // SAFETY: called by Node with this call\'s env and info; argv holds exactly the slots
    // asked for; the C function pointers were resolved at init with the matching prototypes.
    unsafe {
        let argv = args!(env, info, 6);
        let (mut a, mut c) = (0i32, 0i32);
        let (mut b, mut d, mut f) = (0f64, 0f64, 0f64);
        let mut e = 0i64;
        let mut lossless = false;
        ok!(
            env,
            sys::napi_get_value_int32(env, argv[0], &mut a),
            c"mix6: a must be a number"
        );
        ok!(
            env,
            sys::napi_get_value_double(env, argv[1], &mut b),
            c"mix6: b must be a number"
        );
        ok!(
            env,
            sys::napi_get_value_int32(env, argv[2], &mut c),
            c"mix6: c must be a number"
        );
        ok!(
            env,
            sys::napi_get_value_double(env, argv[3], &mut d),
            c"mix6: d must be a number"
        );
        ok!(
            env,
            sys::napi_get_value_bigint_int64(env, argv[4], &mut e, &mut lossless),
            c"mix6: e must be a bigint"
        );
        ok!(
            env,
            sys::napi_get_value_double(env, argv[5], &mut f),
            c"mix6: f must be a number"
        );
        let r = (fns().mix6)(a, b, c, d, e, f as f32);
        let mut out = ptr::null_mut();
        ok!(
            env,
            sys::napi_create_double(env, r, &mut out),
            c"mix6: napi_create_double failed"
        );
        out
    }
}

unsafe extern "C" fn js_hello(env: napi_env, info: napi_callback_info) -> napi_value {
    // SAFETY: called by Node with this call\'s env and info; argv holds exactly the slots
    // asked for; the C function pointers were resolved at init with the matching prototypes.
    unsafe {
        let mut argc: usize = 0;
        ok!(
            env,
            sys::napi_get_cb_info(
                env,
                info,
                &mut argc,
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null_mut()
            ),
            c"napi_get_cb_info failed"
        );
        let s = (fns().hello)();
        let mut out = ptr::null_mut();
        // NAPI_AUTO_LENGTH: the string is NUL-terminated.
        ok!(
            env,
            sys::napi_create_string_utf8(env, s, -1, &mut out),
            c"hello: napi_create_string_utf8 failed"
        );
        out
    }
}

/// Reads the number property `name` of the object `obj` (a non-number throws).
///
/// # Safety
/// `env` is the live env of the current callback and `obj` a value of it.
#[inline(always)]
unsafe fn get_f64(env: napi_env, obj: napi_value, name: &CStr, out: &mut f64) -> sys::napi_status {
    let mut v = ptr::null_mut();
    // SAFETY: the caller's contract; name is NUL-terminated.
    unsafe {
        let s = sys::napi_get_named_property(env, obj, name.as_ptr(), &mut v);
        if s != Status::napi_ok {
            return s;
        }
        sys::napi_get_value_double(env, v, out)
    }
}

/// Sets the number property `name` of the object `obj`.
///
/// # Safety
/// `env` is the live env of the current callback and `obj` a value of it.
#[inline(always)]
unsafe fn set_f64(env: napi_env, obj: napi_value, name: &CStr, x: f64) -> sys::napi_status {
    let mut v = ptr::null_mut();
    // SAFETY: the caller's contract; name is NUL-terminated.
    unsafe {
        let s = sys::napi_create_double(env, x, &mut v);
        if s != Status::napi_ok {
            return s;
        }
        sys::napi_set_named_property(env, obj, name.as_ptr(), v)
    }
}

/// `complex_add({ real, imag }, { real, imag })` -> `{ real, imag }`: the struct fields read
/// from and written to plain JS objects, one property call each.
unsafe extern "C" fn js_complex_add(env: napi_env, info: napi_callback_info) -> napi_value {
    // SAFETY: called by Node with this call\'s env and info; argv holds exactly the slots
    // asked for; the C function pointers were resolved at init with the matching prototypes.
    unsafe {
        let argv = args!(env, info, 2);
        let mut a = Complex {
            real: 0.0,
            imag: 0.0,
        };
        let mut b = a;
        ok!(
            env,
            get_f64(env, argv[0], c"real", &mut a.real),
            c"complex_add: a.real must be a number"
        );
        ok!(
            env,
            get_f64(env, argv[0], c"imag", &mut a.imag),
            c"complex_add: a.imag must be a number"
        );
        ok!(
            env,
            get_f64(env, argv[1], c"real", &mut b.real),
            c"complex_add: b.real must be a number"
        );
        ok!(
            env,
            get_f64(env, argv[1], c"imag", &mut b.imag),
            c"complex_add: b.imag must be a number"
        );
        let r = (fns().complex_add)(a, b);
        let mut out = ptr::null_mut();
        ok!(
            env,
            sys::napi_create_object(env, &mut out),
            c"complex_add: napi_create_object failed"
        );
        ok!(
            env,
            set_f64(env, out, c"real", r.real),
            c"complex_add: setting real failed"
        );
        ok!(
            env,
            set_f64(env, out, c"imag", r.imag),
            c"complex_add: setting imag failed"
        );
        out
    }
}

/// The JS function of the `call_cb` in progress on this thread, and its env (valid only
/// during that call: napi_values live as long as the callback scope they came from).
#[derive(Clone, Copy)]
struct CbTarget {
    env: napi_env,
    func: napi_value,
    /// Set when the JS function threw or returned a non-number; the C side then got 0.
    failed: bool,
}

thread_local! {
    static CB_TARGET: std::cell::Cell<Option<CbTarget>> = const { std::cell::Cell::new(None) };
}

/// The C trampoline handed to `call_cb`: calls the JS function stored by `js_call_cb` with
/// one int32 and returns its int32 result (0 when it throws or returns a non-number).
unsafe extern "C" fn cb_trampoline(x: i32) -> i32 {
    let Some(mut t) = CB_TARGET.with(|c| c.get()) else {
        return 0;
    };
    // SAFETY: t was stored by js_call_cb, whose callback scope (env and func) is still open:
    // call_cb calls this synchronously, on the same thread, before js_call_cb returns.
    unsafe {
        let mut arg = ptr::null_mut();
        let mut recv = ptr::null_mut();
        let mut out = ptr::null_mut();
        let mut r = 0i32;
        if sys::napi_create_int32(t.env, x, &mut arg) == Status::napi_ok
            && sys::napi_get_undefined(t.env, &mut recv) == Status::napi_ok
            && sys::napi_call_function(t.env, recv, t.func, 1, &arg, &mut out) == Status::napi_ok
            && sys::napi_get_value_int32(t.env, out, &mut r) == Status::napi_ok
        {
            return r;
        }
    }
    t.failed = true;
    CB_TARGET.with(|c| c.set(Some(t)));
    0
}

/// `call_cb(fn, x)`: calls C `call_cb(cb_trampoline, x)`, whose one call of the trampoline
/// calls `fn(x)` through napi_call_function.
unsafe extern "C" fn js_call_cb(env: napi_env, info: napi_callback_info) -> napi_value {
    // SAFETY: called by Node with this call\'s env and info; argv holds exactly the slots
    // asked for; the C function pointers were resolved at init with the matching prototypes.
    unsafe {
        let argv = args!(env, info, 2);
        let mut kind = 0;
        ok!(
            env,
            sys::napi_typeof(env, argv[0], &mut kind),
            c"call_cb: napi_typeof failed"
        );
        if kind != sys::ValueType::napi_function {
            return fail(env, c"call_cb: cb must be a function");
        }
        let mut x = 0i32;
        ok!(
            env,
            sys::napi_get_value_int32(env, argv[1], &mut x),
            c"call_cb: x must be a number"
        );
        let target = CbTarget {
            env,
            func: argv[0],
            failed: false,
        };
        let outer = CB_TARGET.with(|c| c.replace(Some(target)));
        let r = (fns().call_cb)(cb_trampoline, x);
        let inner = CB_TARGET.with(|c| c.replace(outer));
        if inner.is_some_and(|t| t.failed) {
            // The JS exception, if any, is pending and propagates; else throw one.
            let mut pending = false;
            if sys::napi_is_exception_pending(env, &mut pending) != Status::napi_ok || !pending {
                return fail(env, c"call_cb: the callback must return a number");
            }
            return ptr::null_mut();
        }
        let mut out = ptr::null_mut();
        ok!(
            env,
            sys::napi_create_int32(env, r, &mut out),
            c"call_cb: napi_create_int32 failed"
        );
        out
    }
}

/// `bench_ints()`: the address of C's int32 array, as a number (the setup of read_i32).
unsafe extern "C" fn js_bench_ints(env: napi_env, _info: napi_callback_info) -> napi_value {
    // SAFETY: called by Node with this call's env; bench_ints was resolved at init with the
    // matching prototype.
    unsafe {
        let p = (fns().bench_ints)();
        let mut out = ptr::null_mut();
        ok!(
            env,
            sys::napi_create_double(env, p as usize as f64, &mut out),
            c"bench_ints: napi_create_double failed"
        );
        out
    }
}

/// `read_i32(address)`: the floor of a typed read — the address as a number, one unaligned
/// int32 read there, no checks beyond the engine's.
unsafe extern "C" fn js_read_i32(env: napi_env, info: napi_callback_info) -> napi_value {
    // SAFETY: called by Node with this call's env and info; the address is the one
    // bench_ints returned (the benchmark passes nothing else).
    unsafe {
        let argv = args!(env, info, 1);
        let mut addr = 0f64;
        ok!(
            env,
            sys::napi_get_value_double(env, argv[0], &mut addr),
            c"read_i32: address must be a number"
        );
        let v = ptr::read_unaligned(addr as usize as *const i32);
        let mut out = ptr::null_mut();
        ok!(
            env,
            sys::napi_create_int32(env, v, &mut out),
            c"read_i32: napi_create_int32 failed"
        );
        out
    }
}

/// dlsym `name` from `handle` as a function pointer of type `F`.
///
/// # Safety
/// `handle` is a live dlopen handle and `F` is the true type of the symbol.
unsafe fn sym<F: Copy>(handle: *mut c_void, lib: &str, name: &CStr) -> Result<F, String> {
    assert_eq!(std::mem::size_of::<F>(), std::mem::size_of::<*mut c_void>());
    // SAFETY: handle is live; name is NUL-terminated.
    let p = unsafe { libc::dlsym(handle, name.as_ptr()) };
    if p.is_null() {
        return Err(format!(
            "{lib}: symbol {} not found",
            name.to_string_lossy()
        ));
    }
    // SAFETY: F is a function pointer type of the symbol (the caller's contract).
    Ok(unsafe { std::mem::transmute_copy::<*mut c_void, F>(&p) })
}

/// dlopen `path` (RTLD_NOW) and keep it open for the life of the process.
fn open(path: &str) -> Result<*mut c_void, String> {
    let c = std::ffi::CString::new(path).map_err(|_| format!("bad library path {path:?}"))?;
    // SAFETY: c is NUL-terminated.
    let h = unsafe { libc::dlopen(c.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
    if h.is_null() {
        // SAFETY: dlerror returns NULL or a NUL-terminated message.
        let why = unsafe {
            let e = libc::dlerror();
            if e.is_null() {
                "unknown error".to_owned()
            } else {
                CStr::from_ptr(e).to_string_lossy().into_owned()
            }
        };
        return Err(format!("dlopen {path}: {why}"));
    }
    Ok(h)
}

fn resolve() -> Result<Fns, String> {
    let path = std::env::var("ARKFFI_BENCHLIB").map_err(|_| {
        "ARKFFI_BENCHLIB is not set: it must name libbenchlib.so (see benches/README.md)".to_owned()
    })?;
    let lib = open(&path)?;
    let libc_so = open("libc.so.6")?;
    // SAFETY: both handles are live, and every type below is the C signature of its symbol
    // (benches/native/benchlib.c; strlen from <string.h>).
    unsafe {
        Ok(Fns {
            add_i32: sym(lib, &path, c"add_i32")?,
            add_f64: sym(lib, &path, c"add_f64")?,
            noop: sym(lib, &path, c"noop")?,
            sum_i32: sym(lib, &path, c"sum_i32")?,
            add_i64: sym(lib, &path, c"add_i64")?,
            mix6: sym(lib, &path, c"mix6")?,
            hello: sym(lib, &path, c"hello")?,
            strlen: sym(libc_so, "libc.so.6", c"strlen")?,
            complex_add: sym(lib, &path, c"complex_add")?,
            call_cb: sym(lib, &path, c"call_cb")?,
            bench_ints: sym(lib, &path, c"bench_ints")?,
        })
    }
}

type RawFn = unsafe extern "C" fn(napi_env, napi_callback_info) -> napi_value;

const EXPORTS: &[(&CStr, RawFn)] = &[
    (c"add_i32", js_add_i32),
    (c"add_f64", js_add_f64),
    (c"noop", js_noop),
    (c"strlen", js_strlen),
    (c"sum_i32", js_sum_i32),
    (c"add_i64", js_add_i64),
    (c"mix6", js_mix6),
    (c"hello", js_hello),
    (c"complex_add", js_complex_add),
    (c"call_cb", js_call_cb),
    (c"bench_ints", js_bench_ints),
    (c"read_i32", js_read_i32),
];

/// Module init: resolve the C functions, then export one raw function per entry of EXPORTS.
#[napi(module_exports)]
pub fn init(exports: napi_ohos::bindgen_prelude::Object) -> napi_ohos::Result<()> {
    use napi_ohos::JsValue;
    if FNS.get().is_none() {
        let fns = resolve().map_err(napi_ohos::Error::from_reason)?;
        let _ = FNS.set(fns);
    }
    let v = exports.value();
    let (env, obj) = (v.env, v.value);
    for (name, cb) in EXPORTS {
        let mut f = ptr::null_mut();
        // SAFETY: env and obj are the live env and exports object handed to module init.
        let status = unsafe {
            let s = sys::napi_create_function(
                env,
                name.as_ptr(),
                name.count_bytes() as isize,
                Some(*cb),
                ptr::null_mut(),
                &mut f,
            );
            if s != Status::napi_ok {
                s
            } else {
                sys::napi_set_named_property(env, obj, name.as_ptr(), f)
            }
        };
        if status != Status::napi_ok {
            return Err(napi_ohos::Error::from_reason(format!(
                "registering {} failed (napi status {status})",
                name.to_string_lossy()
            )));
        }
    }
    Ok(())
}
