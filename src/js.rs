//! Thin wrappers over the Node-API / OpenHarmony NAPI calls the crate uses.
//!
//! Only functions that OpenHarmony's NAPI exports are used here (napi-ohos's `sys` layer,
//! napi8 at most). Every wrapper takes a raw `napi_env` that must be the live env of the
//! calling JS thread; that is the one contract all `unsafe` blocks below rely on.

use std::ffi::{c_void, CStr};
use std::ptr;

use napi_ohos::sys;
use napi_ohos::sys::{napi_env, napi_value};

use crate::error::{FfiError, FfiResult};

/// Turn a NAPI status into a result: a pending exception wins over a generic message.
///
/// # Safety
/// `env` must be the live env of this thread.
#[inline(always)]
pub unsafe fn check(env: napi_env, status: sys::napi_status, what: &str) -> FfiResult<()> {
    if status == sys::Status::napi_ok {
        return Ok(());
    }
    // SAFETY: forwarded contract.
    unsafe { failed(env, status, what) }
}

/// The arguments of the current call: fills `argv` (as many as it has room for, the rest
/// left as they are) and returns the number of arguments JS passed and the function's data
/// pointer. OpenHarmony does not pad missing arguments: trust the count, not `argv`.
///
/// # Safety
/// `env` and `info` are those of the current native call.
#[inline(always)]
pub unsafe fn cb_info(
    env: napi_env,
    info: sys::napi_callback_info,
    argv: &mut [napi_value],
) -> FfiResult<(usize, *mut std::ffi::c_void)> {
    // SAFETY: argv has argv.len() writable slots (forwarded contract).
    unsafe { cb_info_raw(env, info, argv.as_mut_ptr(), argv.len()) }
}

/// `cb_info` for a call site that takes exactly N arguments, into an array left
/// uninitialised: the engine writes at most N of them, all N when the count it returns is N
/// (the only count such a site accepts; it reads `argv` only then).
///
/// # Safety
/// As `cb_info`.
#[inline(always)]
pub unsafe fn cb_info_n<const N: usize>(
    env: napi_env,
    info: sys::napi_callback_info,
    argv: &mut [std::mem::MaybeUninit<napi_value>; N],
) -> FfiResult<(usize, *mut std::ffi::c_void)> {
    // No arguments wanted: no array (Node-API allows NULL; Node then skips the copy, ~12
    // instructions of a 0-argument call).
    let argv = if N == 0 {
        ptr::null_mut()
    } else {
        argv.as_mut_ptr().cast()
    };
    // SAFETY: argv has N writable slots (the engine writes pointers into them), or is NULL.
    unsafe { cb_info_raw(env, info, argv, N) }
}

/// # Safety
/// As `cb_info`, with `argv` valid for `cap` writes, or NULL.
#[inline(always)]
unsafe fn cb_info_raw(
    env: napi_env,
    info: sys::napi_callback_info,
    argv: *mut napi_value,
    cap: usize,
) -> FfiResult<(usize, *mut std::ffi::c_void)> {
    let mut argc = cap;
    let mut data = ptr::null_mut();
    // SAFETY: argv has argc writable slots; argc and data are valid out slots (contract).
    unsafe {
        check(
            env,
            sys::napi_get_cb_info(env, info, &mut argc, argv, ptr::null_mut(), &mut data),
            "napi_get_cb_info",
        )?
    };
    Ok((argc, data))
}

/// The out-of-line part of `check`: keeps the error formatting off the hot paths.
///
/// # Safety
/// `env` is live.
#[cold]
#[inline(never)]
unsafe fn failed(env: napi_env, status: sys::napi_status, what: &str) -> FfiResult<()> {
    let mut pending = false;
    // SAFETY: env is live (caller contract).
    unsafe { sys::napi_is_exception_pending(env, &mut pending) };
    if pending || status == sys::Status::napi_pending_exception {
        Err(FfiError::Pending)
    } else {
        Err(FfiError::error(format!(
            "internal NAPI failure in {what} (status {status})"
        )))
    }
}

/// Value type tags of `napi_typeof`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Undefined,
    Null,
    Boolean,
    Number,
    String,
    Object,
    Function,
    External,
    BigInt,
    Symbol,
    Other,
}

/// # Safety
/// `env` live; `v` a value of this env.
pub unsafe fn kind(env: napi_env, v: napi_value) -> Kind {
    let mut t = 0;
    // SAFETY: env live, v valid, t a valid out slot.
    if unsafe { sys::napi_typeof(env, v, &mut t) } != sys::Status::napi_ok {
        return Kind::Other;
    }
    use sys::ValueType as T;
    match t {
        T::napi_undefined => Kind::Undefined,
        T::napi_null => Kind::Null,
        T::napi_boolean => Kind::Boolean,
        T::napi_number => Kind::Number,
        T::napi_string => Kind::String,
        T::napi_object => Kind::Object,
        T::napi_function => Kind::Function,
        T::napi_external => Kind::External,
        T::napi_bigint => Kind::BigInt,
        // napi_symbol: Node-API's 5, which OpenHarmony's napi_typeof returns for symbols too
        // (its js_native_api_types.h); napi-sys-ohos leaves the constant out for ohos.
        5 => Kind::Symbol,
        _ => Kind::Other,
    }
}

/// A short description of a JS value for error messages: `string "ab"`, `number 2.5`, …
///
/// # Safety
/// `env` live; `v` a value of this env.
pub unsafe fn describe(env: napi_env, v: napi_value) -> String {
    // SAFETY: forwarded caller contract.
    unsafe {
        match kind(env, v) {
            Kind::Undefined => "undefined".into(),
            Kind::Null => "null".into(),
            Kind::Boolean => format!("boolean {}", get_bool(env, v).unwrap_or(false)),
            Kind::Number => format!("number {}", fmt_number(get_f64(env, v).unwrap_or(f64::NAN))),
            Kind::String => {
                let s = get_string(env, v).unwrap_or_default();
                let short: String = s.chars().take(32).collect();
                if short.len() < s.len() {
                    format!("string \"{short}…\"")
                } else {
                    format!("string \"{short}\"")
                }
            }
            Kind::BigInt => {
                let mut lossless = false;
                let mut x = 0i64;
                sys::napi_get_value_bigint_int64(env, v, &mut x, &mut lossless);
                if lossless {
                    format!("bigint {x}n")
                } else {
                    let mut u = 0u64;
                    sys::napi_get_value_bigint_uint64(env, v, &mut u, &mut lossless);
                    if lossless {
                        format!("bigint {u}n")
                    } else {
                        "bigint (out of 64-bit range)".into()
                    }
                }
            }
            Kind::Object => describe_object(env, v),
            Kind::Function => "function".into(),
            Kind::External => "external".into(),
            Kind::Symbol => "symbol".into(),
            Kind::Other => "value".into(),
        }
    }
}

/// The kind of object `v` is, in the words the error messages use (`array`, `ArrayBuffer`,
/// `detached ArrayBuffer`, `SharedArrayBuffer`, `TypedArray`, `DataView`, `Proxy of an
/// array`, `object`).
///
/// # Safety
/// `env` live; `v` an object of this env.
unsafe fn describe_object(env: napi_env, v: napi_value) -> String {
    // SAFETY (whole body): forwarded caller contract.
    unsafe {
        if is_array(env, v) {
            "array".into()
        } else if is_arraybuffer(env, v) {
            if is_detached(env, v) {
                "detached ArrayBuffer".into()
            } else {
                "ArrayBuffer".into()
            }
        } else if is_typedarray(env, v) || is_dataview(env, v) {
            let name = if is_dataview(env, v) {
                "DataView"
            } else {
                "TypedArray"
            };
            match view_buffer(env, v) {
                Some(ab) if is_detached(env, ab) => format!("{name} of a detached ArrayBuffer"),
                _ => name.into(),
            }
        } else if is_shared_array_buffer(env, v) {
            "SharedArrayBuffer".into()
        } else if global_call(env, &[c"Array", c"isArray"], v) == Some(true) {
            // Array.isArray sees through proxies, napi_is_array does not.
            "Proxy of an array".into()
        } else {
            "object".into()
        }
    }
}

/// Whether an ArrayBuffer is detached (false for anything else).
///
/// # Safety
/// `env` live; `v` a value of this env.
pub unsafe fn is_detached(env: napi_env, v: napi_value) -> bool {
    let mut r = false;
    // SAFETY: env live, v valid, r a valid out slot; fails with a status for non-buffers.
    (unsafe { sys::napi_is_detached_arraybuffer(env, v, &mut r) } == sys::Status::napi_ok) && r
}

/// Whether an ArrayBuffer is resizable (`new ArrayBuffer(n, { maxByteLength })`): its
/// memory can shrink under C. False for anything else, and on engines without resizable
/// buffers (no `resizable` property).
///
/// # Safety
/// `env` live; `v` a value of this env.
pub unsafe fn is_resizable(env: napi_env, v: napi_value) -> bool {
    // SAFETY: env live; v an object of it (checked first).
    unsafe {
        kind(env, v) == Kind::Object
            && get_named(env, v, c"resizable")
                .ok()
                .and_then(|r| get_bool(env, r))
                .unwrap_or(false)
    }
}

/// The ArrayBuffer (or SharedArrayBuffer) under a typed array or DataView.
///
/// # Safety
/// `env` live; `v` a value of this env.
pub unsafe fn view_buffer(env: napi_env, v: napi_value) -> Option<napi_value> {
    let mut ab = ptr::null_mut();
    let (mut len, mut off, mut kind) = (0usize, 0usize, 0);
    let mut data = ptr::null_mut();
    // SAFETY: env live, v valid, every out pointer a valid slot; a call on a value of another
    // kind fails with a status and touches nothing.
    unsafe {
        if sys::napi_get_typedarray_info(env, v, &mut kind, &mut len, &mut data, &mut ab, &mut off)
            == sys::Status::napi_ok
            || sys::napi_get_dataview_info(env, v, &mut len, &mut data, &mut ab, &mut off)
                == sys::Status::napi_ok
        {
            return (!ab.is_null()).then_some(ab);
        }
    }
    None
}

/// A property of the global object by path (`["Array", "isArray"]`), or None.
///
/// # Safety
/// `env` live.
pub unsafe fn global_path(env: napi_env, path: &[&CStr]) -> Option<napi_value> {
    // SAFETY: env live; every value read belongs to it.
    unsafe {
        let mut v = ptr::null_mut();
        if sys::napi_get_global(env, &mut v) != sys::Status::napi_ok {
            return None;
        }
        for name in path {
            if kind(env, v) != Kind::Object && kind(env, v) != Kind::Function {
                return None;
            }
            v = get_named(env, v, name).ok()?;
        }
        Some(v)
    }
}

/// Call a global function (`Array.isArray`) with one argument and read a boolean result.
/// A throw (a revoked Proxy, say) is cleared and gives None: this serves error messages
/// and checks that must not raise.
///
/// # Safety
/// `env` live; `arg` a value of this env.
pub unsafe fn global_call(env: napi_env, path: &[&CStr], arg: napi_value) -> Option<bool> {
    // SAFETY: env live; every value read belongs to it.
    unsafe {
        if exception_pending(env) {
            return None;
        }
        let f = global_path(env, path)?;
        if kind(env, f) != Kind::Function {
            return None;
        }
        let mut recv = ptr::null_mut();
        sys::napi_get_undefined(env, &mut recv);
        let mut out = ptr::null_mut();
        let st = sys::napi_call_function(env, recv, f, 1, &arg, &mut out);
        if st != sys::Status::napi_ok {
            let mut e = ptr::null_mut();
            sys::napi_get_and_clear_last_exception(env, &mut e);
            return None;
        }
        get_bool(env, out)
    }
}

/// Whether `v` is a SharedArrayBuffer: `new Uint8Array(v)` over it has `v` itself as its
/// buffer (an object that only claims SharedArrayBuffer's prototype fails this).
///
/// # Safety
/// `env` live; `v` a value of this env.
pub unsafe fn is_shared_array_buffer(env: napi_env, v: napi_value) -> bool {
    // SAFETY: forwarded contract.
    unsafe { shared_array_buffer_bytes(env, v).is_some() }
}

/// The bytes of a SharedArrayBuffer (NAPI has no call for it: a Uint8Array over it is made
/// and checked to be over `v` itself). None for anything else, without raising.
///
/// # Safety
/// `env` live; `v` a value of this env.
pub unsafe fn shared_array_buffer_bytes(
    env: napi_env,
    v: napi_value,
) -> Option<(*mut c_void, usize)> {
    // SAFETY (whole body): env live; every value read belongs to it.
    unsafe {
        if kind(env, v) != Kind::Object || exception_pending(env) {
            return None;
        }
        let sab = global_path(env, &[c"SharedArrayBuffer"])?;
        let mut is = false;
        if kind(env, sab) != Kind::Function
            || sys::napi_instanceof(env, v, sab, &mut is) != sys::Status::napi_ok
            || !is
        {
            clear_exception(env);
            return None;
        }
        let u8a = global_path(env, &[c"Uint8Array"])?;
        let mut view = ptr::null_mut();
        if sys::napi_new_instance(env, u8a, 1, &v, &mut view) != sys::Status::napi_ok {
            clear_exception(env);
            return None;
        }
        let mut ab = ptr::null_mut();
        let (mut len, mut off, mut k) = (0usize, 0usize, 0);
        let mut data = ptr::null_mut();
        if sys::napi_get_typedarray_info(env, view, &mut k, &mut len, &mut data, &mut ab, &mut off)
            != sys::Status::napi_ok
        {
            return None;
        }
        let mut same = false;
        if sys::napi_strict_equals(env, ab, v, &mut same) != sys::Status::napi_ok || !same {
            return None;
        }
        Some((data, len))
    }
}

/// Whether a JS exception is pending.
///
/// # Safety
/// `env` live.
unsafe fn exception_pending(env: napi_env) -> bool {
    let mut pending = false;
    // SAFETY: env live; out slot valid.
    unsafe { sys::napi_is_exception_pending(env, &mut pending) };
    pending
}

/// Drop a pending exception (raised by a check this module made), if any.
///
/// # Safety
/// `env` live.
unsafe fn clear_exception(env: napi_env) {
    // SAFETY: env live; out slots valid.
    unsafe {
        if exception_pending(env) {
            let mut e = ptr::null_mut();
            sys::napi_get_and_clear_last_exception(env, &mut e);
        }
    }
}

/// Numbers in messages as JS prints them (`-0`, `NaN`, `Infinity`, `2.5`, `3`).
pub fn fmt_number(d: f64) -> String {
    if d.is_nan() {
        "NaN".into()
    } else if d.is_infinite() {
        if d > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else if d == 0.0 && d.is_sign_negative() {
        "-0".into()
    } else {
        format!("{d}")
    }
}

/// # Safety
/// `env` live; `v` a value of this env.
#[inline]
pub unsafe fn get_f64(env: napi_env, v: napi_value) -> Option<f64> {
    let mut d = 0f64;
    // SAFETY: env live, v valid, d a valid out slot.
    (unsafe { sys::napi_get_value_double(env, v, &mut d) } == sys::Status::napi_ok).then_some(d)
}

/// # Safety
/// `env` live; `v` a value of this env.
#[inline]
pub unsafe fn get_bool(env: napi_env, v: napi_value) -> Option<bool> {
    let mut b = false;
    // SAFETY: env live, v valid, b a valid out slot.
    (unsafe { sys::napi_get_value_bool(env, v, &mut b) } == sys::Status::napi_ok).then_some(b)
}

/// A bigint as i64 if it is one and fits exactly.
///
/// # Safety
/// `env` live; `v` a value of this env.
#[inline]
pub unsafe fn get_bigint_i64(env: napi_env, v: napi_value) -> Option<(i64, bool)> {
    let mut x = 0i64;
    let mut lossless = false;
    // SAFETY: env live, v valid, out slots valid.
    let st = unsafe { sys::napi_get_value_bigint_int64(env, v, &mut x, &mut lossless) };
    (st == sys::Status::napi_ok).then_some((x, lossless))
}

/// A bigint as u64 if it is one; `lossless` false when negative or too wide.
///
/// # Safety
/// `env` live; `v` a value of this env.
#[inline]
pub unsafe fn get_bigint_u64(env: napi_env, v: napi_value) -> Option<(u64, bool)> {
    let mut x = 0u64;
    let mut lossless = false;
    // SAFETY: env live, v valid, out slots valid.
    let st = unsafe { sys::napi_get_value_bigint_uint64(env, v, &mut x, &mut lossless) };
    (st == sys::Status::napi_ok).then_some((x, lossless))
}

/// A JS string as a Rust `String` (UTF-8).
///
/// # Safety
/// `env` live; `v` a value of this env.
pub unsafe fn get_string(env: napi_env, v: napi_value) -> Option<String> {
    let mut len = 0usize;
    // SAFETY: a NULL buffer asks for the UTF-8 length only.
    if unsafe { sys::napi_get_value_string_utf8(env, v, ptr::null_mut(), 0, &mut len) }
        != sys::Status::napi_ok
    {
        return None;
    }
    let mut buf = vec![0u8; len + 1];
    let mut written = 0usize;
    // SAFETY: buf has len + 1 bytes, the size passed.
    let st = unsafe {
        sys::napi_get_value_string_utf8(env, v, buf.as_mut_ptr().cast(), len + 1, &mut written)
    };
    if st != sys::Status::napi_ok {
        return None;
    }
    buf.truncate(written);
    Some(
        String::from_utf8(buf)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
    )
}

macro_rules! is_fn {
    ($name:ident, $sys:ident) => {
        /// # Safety
        /// `env` live; `v` a value of this env.
        #[inline]
        pub unsafe fn $name(env: napi_env, v: napi_value) -> bool {
            let mut r = false;
            // SAFETY: env live, v valid, r a valid out slot.
            (unsafe { sys::$sys(env, v, &mut r) } == sys::Status::napi_ok) && r
        }
    };
}
is_fn!(is_array, napi_is_array);
is_fn!(is_arraybuffer, napi_is_arraybuffer);
is_fn!(is_typedarray, napi_is_typedarray);
is_fn!(is_dataview, napi_is_dataview);

/// # Safety
/// `env` live.
#[inline(always)]
pub unsafe fn undefined(env: napi_env) -> FfiResult<napi_value> {
    let mut r = ptr::null_mut();
    // SAFETY: env live, r a valid out slot.
    unsafe {
        check(
            env,
            sys::napi_get_undefined(env, &mut r),
            "napi_get_undefined",
        )?
    };
    Ok(r)
}

/// # Safety
/// `env` live.
#[inline]
pub unsafe fn null(env: napi_env) -> FfiResult<napi_value> {
    let mut r = ptr::null_mut();
    // SAFETY: env live, r a valid out slot.
    unsafe { check(env, sys::napi_get_null(env, &mut r), "napi_get_null")? };
    Ok(r)
}

/// # Safety
/// `env` live.
#[inline(always)]
pub unsafe fn boolean(env: napi_env, b: bool) -> FfiResult<napi_value> {
    let mut r = ptr::null_mut();
    // SAFETY: env live, r a valid out slot.
    unsafe {
        check(
            env,
            sys::napi_get_boolean(env, b, &mut r),
            "napi_get_boolean",
        )?
    };
    Ok(r)
}

/// # Safety
/// `env` live.
#[inline(always)]
pub unsafe fn number(env: napi_env, d: f64) -> FfiResult<napi_value> {
    let mut r = ptr::null_mut();
    // SAFETY: env live, r a valid out slot.
    unsafe {
        check(
            env,
            sys::napi_create_double(env, d, &mut r),
            "napi_create_double",
        )?
    };
    Ok(r)
}

/// # Safety
/// `env` live.
#[inline(always)]
pub unsafe fn int32(env: napi_env, i: i32) -> FfiResult<napi_value> {
    let mut r = ptr::null_mut();
    // SAFETY: env live, r a valid out slot.
    unsafe {
        check(
            env,
            sys::napi_create_int32(env, i, &mut r),
            "napi_create_int32",
        )?
    };
    Ok(r)
}

/// # Safety
/// `env` live.
#[inline(always)]
pub unsafe fn uint32(env: napi_env, i: u32) -> FfiResult<napi_value> {
    let mut r = ptr::null_mut();
    // SAFETY: env live, r a valid out slot.
    unsafe {
        check(
            env,
            sys::napi_create_uint32(env, i, &mut r),
            "napi_create_uint32",
        )?
    };
    Ok(r)
}

/// # Safety
/// `env` live.
#[inline]
pub unsafe fn bigint_i64(env: napi_env, i: i64) -> FfiResult<napi_value> {
    let mut r = ptr::null_mut();
    // SAFETY: env live, r a valid out slot.
    unsafe {
        check(
            env,
            sys::napi_create_bigint_int64(env, i, &mut r),
            "napi_create_bigint_int64",
        )?
    };
    Ok(r)
}

/// # Safety
/// `env` live.
#[inline]
pub unsafe fn bigint_u64(env: napi_env, i: u64) -> FfiResult<napi_value> {
    let mut r = ptr::null_mut();
    // SAFETY: env live, r a valid out slot.
    unsafe {
        check(
            env,
            sys::napi_create_bigint_uint64(env, i, &mut r),
            "napi_create_bigint_uint64",
        )?
    };
    Ok(r)
}

/// A JS string from Latin-1 bytes (ASCII included).
///
/// # Safety
/// `env` live.
#[inline]
pub unsafe fn latin1(env: napi_env, bytes: &[u8]) -> FfiResult<napi_value> {
    let mut r = ptr::null_mut();
    // SAFETY: env live; bytes.as_ptr() points at bytes.len() valid bytes.
    unsafe {
        check(
            env,
            sys::napi_create_string_latin1(
                env,
                bytes.as_ptr().cast(),
                bytes.len() as isize,
                &mut r,
            ),
            "napi_create_string_latin1",
        )?
    };
    Ok(r)
}

/// A JS string from UTF-8 bytes that are known to be valid.
///
/// # Safety
/// `env` live.
pub unsafe fn string(env: napi_env, s: &str) -> FfiResult<napi_value> {
    let mut r = ptr::null_mut();
    // SAFETY: env live; s.as_ptr() points at s.len() valid bytes.
    unsafe {
        check(
            env,
            sys::napi_create_string_utf8(env, s.as_ptr().cast(), s.len() as isize, &mut r),
            "napi_create_string_utf8",
        )?
    };
    Ok(r)
}

/// # Safety
/// `env` live.
pub unsafe fn object(env: napi_env) -> FfiResult<napi_value> {
    let mut r = ptr::null_mut();
    // SAFETY: env live, r a valid out slot.
    unsafe {
        check(
            env,
            sys::napi_create_object(env, &mut r),
            "napi_create_object",
        )?
    };
    Ok(r)
}

/// # Safety
/// `env` live; `obj` an object of this env.
pub unsafe fn get_named(env: napi_env, obj: napi_value, name: &CStr) -> FfiResult<napi_value> {
    let mut r = ptr::null_mut();
    // SAFETY: env live, obj valid, name NUL-terminated.
    unsafe {
        check(
            env,
            sys::napi_get_named_property(env, obj, name.as_ptr(), &mut r),
            "napi_get_named_property",
        )?
    };
    Ok(r)
}

/// # Safety
/// `env` live; `obj` an object of this env; `key` a value of this env.
pub unsafe fn get_property(
    env: napi_env,
    obj: napi_value,
    key: napi_value,
) -> FfiResult<napi_value> {
    let mut r = ptr::null_mut();
    // SAFETY: env live, obj and key valid.
    unsafe {
        check(
            env,
            sys::napi_get_property(env, obj, key, &mut r),
            "napi_get_property",
        )?
    };
    Ok(r)
}

/// # Safety
/// `env` live; `obj` an object of this env.
pub unsafe fn set_named(
    env: napi_env,
    obj: napi_value,
    name: &CStr,
    v: napi_value,
) -> FfiResult<()> {
    // SAFETY: env live, obj and v valid, name NUL-terminated.
    unsafe {
        check(
            env,
            sys::napi_set_named_property(env, obj, name.as_ptr(), v),
            "napi_set_named_property",
        )
    }
}

/// # Safety
/// `env` live; `obj`, `key` and `v` values of this env.
pub unsafe fn set_property(
    env: napi_env,
    obj: napi_value,
    key: napi_value,
    v: napi_value,
) -> FfiResult<()> {
    // SAFETY: env live, all values valid.
    unsafe {
        check(
            env,
            sys::napi_set_property(env, obj, key, v),
            "napi_set_property",
        )
    }
}

/// Own enumerable string keys of an object, in property order.
///
/// # Safety
/// `env` live; `obj` an object of this env.
pub unsafe fn property_names(env: napi_env, obj: napi_value) -> FfiResult<napi_value> {
    let mut r = ptr::null_mut();
    // SAFETY: env live, obj valid, r a valid out slot.
    unsafe {
        check(
            env,
            sys::napi_get_property_names(env, obj, &mut r),
            "napi_get_property_names",
        )?
    };
    Ok(r)
}

/// # Safety
/// `env` live; `arr` an array of this env.
pub unsafe fn array_len(env: napi_env, arr: napi_value) -> FfiResult<u32> {
    let mut n = 0u32;
    // SAFETY: env live, arr valid, n a valid out slot.
    unsafe {
        check(
            env,
            sys::napi_get_array_length(env, arr, &mut n),
            "napi_get_array_length",
        )?
    };
    Ok(n)
}

/// # Safety
/// `env` live; `arr` an object of this env.
pub unsafe fn element(env: napi_env, arr: napi_value, i: u32) -> FfiResult<napi_value> {
    let mut r = ptr::null_mut();
    // SAFETY: env live, arr valid, r a valid out slot.
    unsafe {
        check(
            env,
            sys::napi_get_element(env, arr, i, &mut r),
            "napi_get_element",
        )?
    };
    Ok(r)
}

/// Create a native function whose `data` is handed back to `cb` on every call.
///
/// # Safety
/// `env` live; `data` must stay valid for as long as the function can be called.
pub unsafe fn function(
    env: napi_env,
    name: &str,
    cb: sys::napi_callback,
    data: *mut c_void,
) -> FfiResult<napi_value> {
    let mut r = ptr::null_mut();
    // SAFETY: env live; name points at name.len() bytes; data contract forwarded.
    unsafe {
        check(
            env,
            sys::napi_create_function(
                env,
                name.as_ptr().cast(),
                name.len() as isize,
                cb,
                data,
                &mut r,
            ),
            "napi_create_function",
        )?
    };
    Ok(r)
}

/// Tie `Box<T>` to the lifetime of `obj`: it is dropped by the finalizer when `obj` is
/// collected. No reference is returned (OpenHarmony hands back strong ones).
///
/// # Safety
/// `env` live; `obj` an object of this env; nothing else may free `data`.
pub unsafe fn attach_box<T>(env: napi_env, obj: napi_value, data: *mut T) -> FfiResult<()> {
    unsafe extern "C" fn finalize<T>(_env: napi_env, data: *mut c_void, _hint: *mut c_void) {
        // Finalizers must not unwind into the engine.
        let _ = std::panic::catch_unwind(|| {
            // SAFETY: data came from Box::into_raw::<T> in attach_box and is finalized once.
            drop(unsafe { Box::from_raw(data.cast::<T>()) });
        });
    }
    // SAFETY: env live, obj valid, finalize has the napi_finalize signature; result NULL.
    let status = unsafe {
        sys::napi_add_finalizer(
            env,
            obj,
            data.cast(),
            Some(finalize::<T>),
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    if status != sys::Status::napi_ok {
        // SAFETY: the finalizer was not registered, so ownership of data is still ours.
        drop(unsafe { Box::from_raw(data) });
    }
    // SAFETY: env live.
    unsafe { check(env, status, "napi_add_finalizer") }
}
