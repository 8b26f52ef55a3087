//! Value conversion between JS values and C values, one function per direction.
//!
//! Arguments are written into 8-byte slots (the low bytes hold the C value: every supported
//! target is little-endian), results are read from libffi's return buffer. Nothing here
//! allocates for scalars; C strings of arguments use a per-call stack arena and fall back to
//! the heap only when it is full.

use std::ffi::{c_char, c_void, CStr};
use std::ptr;

use napi_ohos::sys;
use napi_ohos::sys::{napi_env, napi_value};

use crate::arena::has_nul;
use crate::arena::Scratch;
use crate::error::{FfiError, FfiResult};
use crate::js;
use crate::types::{FfiType, MAX_EXACT};

#[cfg(target_endian = "big")]
compile_error!("arkffi's value slots assume a little-endian target");

/// `d` as an i64 if it is a whole number in `lo..=hi` (NaN and out-of-range values fail the
/// range check, fractions the round trip), in a few instructions: no saturating conversion.
///
/// # Safety
/// `lo..=hi` lies within i64's range (the direct calls' `Op::Int` bounds and the address
/// range do: at most ±2^53).
#[inline(always)]
pub unsafe fn whole_in(d: f64, lo: f64, hi: f64) -> Option<i64> {
    if !(d >= lo && d <= hi) {
        return None;
    }
    // SAFETY: d lies in lo..=hi, which lies within i64 (the contract).
    let n: i64 = unsafe { d.to_int_unchecked() };
    (n as f64 == d).then_some(n)
}

/// `d` as an address or size: a whole number in 0..=2^53 (above that a number may already
/// have been rounded). The round trip through u64 is exact only for whole numbers (NaN fails
/// every comparison) and, unlike `fract()`, calls nothing in libm.
#[inline(always)]
pub fn exact_whole(d: f64) -> Option<usize> {
    (d >= 0.0 && d <= MAX_EXACT as f64 && (d as u64) as f64 == d).then_some(d as usize)
}

/// `d` as an i32 C slot (sign-extended to 64 bits, as libffi and the registers want it), if
/// it is a whole number in i32's range.
#[inline(always)]
pub fn i32_slot(d: f64) -> Option<u64> {
    whole_i32(d).map(|n| n as i64 as u64)
}

/// `d` as an i32, if it is a whole number in i32's range: one truncating conversion and its
/// round trip (NaN, fractions and numbers out of range do not come back equal). On x86_64 the
/// conversion is the bare `cvttsd2si`, whose out-of-range answer (i32::MIN) comes back equal
/// only for i32::MIN itself, so Rust's saturating fix-ups are not needed; on aarch64 `as` is
/// already the one instruction (`fcvtzs` saturates, NaN gives 0).
#[inline(always)]
pub fn whole_i32(d: f64) -> Option<i32> {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: SSE2, which the two intrinsics need, is part of the x86_64 baseline.
    let n = unsafe { core::arch::x86_64::_mm_cvttsd_si32(core::arch::x86_64::_mm_set_sd(d)) };
    #[cfg(not(target_arch = "x86_64"))]
    let n = d as i32;
    (n as f64 == d).then_some(n)
}

/// Why an argument was refused; the caller adds the function name and argument index.
fn refuse(env: napi_env, v: napi_value, ty: FfiType, range: bool) -> FfiError {
    refuse_as(env, v, ty, &ty.expectation(), range)
}

/// `refuse` with the expectation spelled out by the caller.
fn refuse_as(env: napi_env, v: napi_value, ty: FfiType, expected: &str, range: bool) -> FfiError {
    // SAFETY: env and v come from the current call (every caller's contract).
    let got = unsafe { js::describe(env, v) };
    let msg = format!("must be {} ({expected}), got {got}", ty.name());
    if range {
        FfiError::range_error(msg)
    } else {
        FfiError::type_error(msg)
    }
}

/// Classify a number refused for an integer type: non-integral/NaN is a TypeError, a whole
/// number (or ±Infinity) outside the range is a RangeError.
fn refuse_number(env: napi_env, v: napi_value, ty: FfiType, d: f64) -> FfiError {
    let out_of_range = d.is_infinite() || (!d.is_nan() && d.fract() == 0.0);
    refuse(env, v, ty, out_of_range)
}

/// An integer value for an integer type from a number or a bigint, range-checked.
#[inline]
unsafe fn integer(env: napi_env, v: napi_value, ty: FfiType) -> FfiResult<i128> {
    let (lo, hi) = ty.int_range().unwrap_or((0, 0));
    // SAFETY: env/v from the current call.
    if let Some(d) = unsafe { js::get_f64(env, v) } {
        // fract() is NaN for NaN and ±Infinity, so only finite whole numbers pass; `as i128`
        // is exact for them (and saturates far outside every range we check).
        if d.fract() == 0.0 {
            let i = d as i128;
            if i >= lo && i <= hi {
                return Ok(i);
            }
        }
        return Err(refuse_number(env, v, ty, d));
    }
    // SAFETY: env/v from the current call.
    if let Some((x, lossless)) = unsafe { js::get_bigint_i64(env, v) } {
        if lossless && (x as i128) >= lo && (x as i128) <= hi {
            return Ok(x as i128);
        }
        // SAFETY: env/v from the current call.
        if let Some((u, true)) = unsafe { js::get_bigint_u64(env, v) } {
            if (u as i128) <= hi {
                return Ok(u as i128);
            }
        }
        return Err(refuse(env, v, ty, true));
    }
    Err(refuse(env, v, ty, false))
}

/// A pointer-sized address from null, a number or a bigint. Numbers above 2^53 are refused:
/// they may already have been rounded, and a pointer is never rounded.
///
/// # Safety
/// `env` is the live env of this call and `v` one of its values.
#[inline]
pub unsafe fn address(env: napi_env, v: napi_value, ty: FfiType) -> FfiResult<usize> {
    // SAFETY: forwarded contract.
    unsafe { address_as(env, v, ty, None) }
}

/// An address for the memory helpers (`read.*`, `toArrayBuffer`, `CString`, `releasePtr`),
/// which take addresses only, not buffers: `address` with an error message that says so.
///
/// # Safety
/// As `address`.
#[inline]
pub unsafe fn bare_address(env: napi_env, v: napi_value) -> FfiResult<usize> {
    // SAFETY: forwarded contract.
    unsafe {
        address_as(
            env,
            v,
            FfiType::Ptr,
            Some("an address: number, bigint or null"),
        )
        .map_err(|e| {
            // A buffer where an address was expected: say how to get its address.
            if !matches!(buffer_arg(env, v), Ok(None)) {
                FfiError::type_error(format!(
                    "{}; ptr(view) gives the address of a buffer's bytes",
                    e.message()
                ))
            } else {
                e
            }
        })
    }
}

/// `address`, with the expectation of its error messages given (None: the type's own).
///
/// # Safety
/// As `address`.
#[inline(always)]
unsafe fn address_as(
    env: napi_env,
    v: napi_value,
    ty: FfiType,
    expected: Option<&str>,
) -> FfiResult<usize> {
    // The expectation its error messages name (built only on error).
    let expectation = || expected.map_or_else(|| ty.expectation(), str::to_owned);
    // SAFETY: env/v from the current call.
    if let Some(d) = unsafe { js::get_f64(env, v) } {
        if let Some(a) = exact_whole(d) {
            return Ok(a);
        }
        // The bigint hint only where it helps: a whole number too large to be exact.
        let hint = if d.fract() == 0.0 && d > MAX_EXACT as f64 {
            "; addresses above 2^53 must be passed as bigint"
        } else {
            ""
        };
        let msg = format!(
            "must be {} ({}), got {}{hint}",
            ty.name(),
            expectation(),
            js::describe(env, v)
        );
        return Err(if d.fract() == 0.0 || d.is_infinite() {
            FfiError::range_error(msg)
        } else {
            FfiError::type_error(msg)
        });
    }
    // SAFETY: env/v from the current call.
    if let Some((u, lossless)) = unsafe { js::get_bigint_u64(env, v) } {
        if lossless && u <= usize::MAX as u64 {
            return Ok(u as usize);
        }
        return Err(refuse_as(env, v, ty, &expectation(), true));
    }
    // SAFETY: env/v from the current call.
    if unsafe { js::kind(env, v) } == js::Kind::Null {
        return Ok(0);
    }
    Err(refuse_as(env, v, ty, &expectation(), false))
}

/// The address of the bytes of an ArrayBuffer, typed array or DataView (view offset
/// included), with its byte length. None if `v` is none of those.
///
/// OpenHarmony's ArkNAPI differs from Node-API in two answers here (arkui_napi's
/// `native_api.cpp`): the typed array `length` is already the byte length (Node: elements),
/// and a DataView's `data` is the start of its ArrayBuffer, not of the view (Node: the view).
/// Both are handled per target, so the bytes and their bound are the same on both.
///
/// # Safety
/// `env` is the live env of this call and `v` one of its values.
#[inline]
pub unsafe fn buffer_bytes(env: napi_env, v: napi_value) -> Option<(*mut c_void, usize)> {
    let mut data: *mut c_void = ptr::null_mut();
    let mut len = 0usize;
    let mut kind = 0;
    let mut offset = 0usize;
    // SAFETY: env/v from the current call; every out pointer is a valid slot; a call on a
    // value of another kind fails with a status and touches nothing.
    unsafe {
        if sys::napi_get_typedarray_info(
            env,
            v,
            &mut kind,
            &mut len,
            &mut data,
            ptr::null_mut(),
            ptr::null_mut(),
        ) == sys::Status::napi_ok
        {
            let bytes = if cfg!(target_env = "ohos") {
                len
            } else {
                len * typed_array_element_size(kind)
            };
            return Some((data, bytes));
        }
        if sys::napi_get_arraybuffer_info(env, v, &mut data, &mut len) == sys::Status::napi_ok {
            return Some((data, len));
        }
        if sys::napi_get_dataview_info(env, v, &mut len, &mut data, ptr::null_mut(), &mut offset)
            == sys::Status::napi_ok
        {
            if cfg!(target_env = "ohos") {
                data = data.cast::<u8>().wrapping_add(offset).cast();
            }
            return Some((data, len));
        }
    }
    None
}

/// The address of the bytes of a non-empty typed array, the common buffer argument of a hot
/// call: one engine call that asks for neither the element type (Node-API tests up to eleven
/// kinds for it) nor the offset. None for everything else (ArrayBuffers, DataViews, empty
/// views, other values), which `buffer_arg` then takes.
///
/// # Safety
/// `env` is the live env of this call and `v` one of its values.
#[inline(always)]
pub unsafe fn typed_array_data(env: napi_env, v: napi_value) -> Option<*mut c_void> {
    let mut data: *mut c_void = ptr::null_mut();
    // Elements on Node-API, bytes on ArkNAPI: non-zero for a non-empty view on both.
    let mut len = 0usize;
    // SAFETY: env/v from the current call; the out pointers are valid slots or NULL (every
    // out parameter of napi_get_typedarray_info may be NULL, on both engines).
    let st = unsafe {
        sys::napi_get_typedarray_info(
            env,
            v,
            ptr::null_mut(),
            &mut len,
            &mut data,
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    (st == sys::Status::napi_ok && len > 0).then_some(data)
}

/// `buffer_bytes` for arguments: a detached buffer (or a view of one) is an error, not a
/// NULL pointer, and a SharedArrayBuffer counts as a buffer (its memory never moves). The
/// extra checks run only for empty views and for objects that are no view at all, so a
/// non-empty buffer costs what `buffer_bytes` costs.
///
/// # Safety
/// `env` is the live env of this call and `v` one of its values.
#[inline]
pub unsafe fn buffer_arg(
    env: napi_env,
    v: napi_value,
) -> Result<Option<(*mut c_void, usize)>, Detached> {
    // SAFETY: forwarded contract.
    unsafe {
        match buffer_bytes(env, v) {
            Some((data, len)) if len > 0 => Ok(Some((data, len))),
            Some(empty) => {
                let backing = js::view_buffer(env, v).unwrap_or(v);
                if js::is_detached(env, backing) {
                    Err(Detached)
                } else {
                    Ok(Some(empty))
                }
            }
            None => Ok(js::shared_array_buffer_bytes(env, v)),
        }
    }
}

/// A detached buffer, or a view of one, where bytes were wanted: callers say what they
/// expected (`js::describe` names it "detached ArrayBuffer").
#[derive(Debug)]
pub struct Detached;

fn typed_array_element_size(kind: sys::napi_typedarray_type) -> usize {
    use sys::TypedarrayType as T;
    match kind {
        T::int8_array | T::uint8_array | T::uint8_clamped_array => 1,
        T::int16_array | T::uint16_array => 2,
        T::int32_array | T::uint32_array | T::float32_array => 4,
        _ => 8,
    }
}

/// Copy a JS string (or null) into NUL-terminated UTF-8 that lives as long as `scratch`.
/// Runs no JS.
///
/// # Safety
/// `env` live; `v` a value of this env.
#[inline]
pub unsafe fn c_string(
    env: napi_env,
    v: napi_value,
    scratch: &mut Scratch,
) -> FfiResult<*const c_char> {
    if let Some(arena) = scratch.arena() {
        // SAFETY: forwarded contract (the arena of this env's JS thread).
        if let Some(p) = unsafe { arena.push_c_string(env, v) } {
            return Ok(p);
        }
    }
    // A long string, a NUL inside, or no string at all (null is NULL, the rest refused):
    // ask for the length, then copy into an exact heap buffer.
    let mut len = 0usize;
    // SAFETY: a NULL buffer asks only for the length.
    if unsafe { sys::napi_get_value_string_utf8(env, v, ptr::null_mut(), 0, &mut len) }
        != sys::Status::napi_ok
    {
        return null_or_refuse(env, v);
    }
    let mut heap = vec![0u8; len + 1].into_boxed_slice();
    let mut written = 0usize;
    // SAFETY: heap has len + 1 bytes, the size passed.
    let st = unsafe {
        sys::napi_get_value_string_utf8(env, v, heap.as_mut_ptr().cast(), len + 1, &mut written)
    };
    // SAFETY: env from the current call.
    unsafe { js::check(env, st, "napi_get_value_string_utf8")? };
    // SAFETY: the engine initialised `written` bytes of heap.
    if unsafe { has_nul(heap.as_ptr(), written) } {
        return Err(nul_inside());
    }
    heap[written] = 0;
    let p = heap.as_ptr().cast();
    scratch.keep(heap);
    Ok(p)
}

/// Addresses 1..4096 are in the first page, which is never mapped: no data and no code lives
/// there (NULL itself is 0).
#[inline(always)]
pub fn in_first_page(a: usize) -> bool {
    a != 0 && a < 4096
}

/// A function pointer: an address, NULL allowed, the rest of the first page refused (C
/// would jump there).
///
/// # Safety
/// As `address`.
pub unsafe fn function_address(env: napi_env, v: napi_value) -> FfiResult<usize> {
    // SAFETY: forwarded contract.
    let a = unsafe { address(env, v, FfiType::Callback)? };
    if in_first_page(a) {
        return Err(FfiError::range_error(format!(
            "must be callback (a function pointer: number, bigint, null or a JSCallback), got 0x{a:x}, an address in the first page, which holds no code"
        )));
    }
    Ok(a)
}

#[cold]
fn closed_callback() -> FfiError {
    FfiError::error(
        "is a closed JSCallback (its ptr is null since close()); pass null itself for a NULL function pointer",
    )
}

fn nul_inside() -> FfiError {
    FfiError::type_error(
        "must be CString (a string or null), got a string with a NUL character inside",
    )
}

unsafe fn null_or_refuse(env: napi_env, v: napi_value) -> FfiResult<*const c_char> {
    // SAFETY: env/v from the current call.
    if unsafe { js::kind(env, v) } == js::Kind::Null {
        Ok(ptr::null())
    } else {
        Err(refuse(env, v, FfiType::CString, false))
    }
}

/// Convert one JS argument into its C slot.
///
/// # Safety
/// `env` is the live env of this call and `v` one of its values.
#[inline]
pub unsafe fn to_c(
    env: napi_env,
    ty: FfiType,
    v: napi_value,
    slot: &mut u64,
    scratch: &mut Scratch,
) -> FfiResult<()> {
    // SAFETY (whole body): env/v come from the current call, per this function's contract.
    unsafe {
        *slot = match ty {
            FfiType::F64 => match js::get_f64(env, v) {
                Some(d) => d.to_bits(),
                None => return Err(refuse(env, v, ty, false)),
            },
            FfiType::F32 => match js::get_f64(env, v) {
                Some(d) => (d as f32).to_bits() as u64,
                None => return Err(refuse(env, v, ty, false)),
            },
            FfiType::I32 => match js::get_f64(env, v).and_then(i32_slot) {
                Some(slot) => slot,
                None => integer(env, v, ty)? as i64 as u64,
            },
            FfiType::Bool => match js::get_bool(env, v) {
                Some(b) => b as u64,
                None => return Err(refuse(env, v, ty, false)),
            },
            FfiType::Ptr => match buffer_arg(env, v) {
                Ok(Some((p, _))) => p as u64,
                Ok(None) => address(env, v, ty)? as u64,
                Err(_) => return Err(refuse(env, v, ty, false)),
            },
            FfiType::Callback => match js::kind(env, v) {
                // A JSCallback object stands for its pointer.
                js::Kind::Object => {
                    let p = js::get_named(env, v, c"ptr")?;
                    match js::kind(env, p) {
                        js::Kind::Number | js::Kind::BigInt => function_address(env, p)? as u64,
                        // A closed JSCallback: passing it would hand C a NULL function
                        // pointer that it may call. (A NULL pointer is passed as null.)
                        js::Kind::Null => return Err(closed_callback()),
                        _ => return Err(refuse(env, v, ty, false)),
                    }
                }
                _ => function_address(env, v)? as u64,
            },
            FfiType::CString => c_string(env, v, scratch)? as u64,
            FfiType::Buffer => match buffer_arg(env, v) {
                Ok(Some((p, _))) => p as u64,
                Ok(None) if js::kind(env, v) == js::Kind::Null => 0,
                _ => return Err(refuse(env, v, ty, false)),
            },
            FfiType::Void => return Err(FfiError::type_error("void is not an argument type")),
            // Every other type is an integer; the slot holds its two's-complement low bytes.
            _ => encode_int(integer(env, v, ty)?),
        };
    }
    Ok(())
}

/// The slot of an integer argument: its two's-complement 64-bit pattern (the low bytes are
/// the C value for every narrower type; little-endian targets only).
#[inline]
pub fn encode_int(v: i128) -> u64 {
    v as i64 as u64
}

/// The integer a result or field of type `ty` holds in its raw 64-bit slot (only the
/// type's own low bytes count: the rest of a register is undefined). None for non-integers.
#[inline]
pub fn decode_int(ty: FfiType, raw: u64) -> Option<i128> {
    Some(match ty {
        FfiType::Char if crate::types::CHAR_IS_SIGNED => raw as u8 as i8 as i128,
        FfiType::Char | FfiType::U8 => raw as u8 as i128,
        FfiType::I8 => raw as u8 as i8 as i128,
        FfiType::I16 => raw as u16 as i16 as i128,
        FfiType::U16 => raw as u16 as i128,
        FfiType::I32 => raw as u32 as i32 as i128,
        FfiType::U32 => raw as u32 as i128,
        FfiType::I64 | FfiType::I64Fast | FfiType::ISize => raw as i64 as i128,
        FfiType::U64 | FfiType::U64Fast | FfiType::USize => raw as i128,
        _ => return None,
    })
}

/// A pointer as JS: null for NULL, a number up to 2^53, a bigint above (tagged pointers
/// survive the round trip unchanged).
///
/// # Safety
/// `env` is the live env of this call.
#[inline]
pub unsafe fn pointer_to_js(env: napi_env, p: usize) -> FfiResult<napi_value> {
    // SAFETY: env from the current call; a pointer result is any u64 (`make_value`'s rule).
    unsafe { to_js(env, FfiType::Ptr, p as u64) }
}

/// A C string as a JS string (invalid UTF-8 replaced by U+FFFD); NULL gives null. The C
/// memory is only read, never freed.
///
/// # Safety
/// `env` live; `p` NULL or a NUL-terminated string readable for the whole call.
pub unsafe fn c_string_to_js(env: napi_env, p: *const c_char) -> FfiResult<napi_value> {
    if p.is_null() {
        // SAFETY: env from the current call.
        return unsafe { js::null(env) };
    }
    // SAFETY: the caller promises a readable NUL-terminated string.
    let bytes = unsafe { CStr::from_ptr(p) }.to_bytes();
    // SAFETY: env from the current call.
    unsafe { utf8_to_js(env, bytes) }
}

/// Bytes as a JS string, with invalid UTF-8 replaced.
///
/// # Safety
/// `env` live.
pub unsafe fn utf8_to_js(env: napi_env, bytes: &[u8]) -> FfiResult<napi_value> {
    // SAFETY: env from the current call.
    unsafe {
        if bytes.is_ascii() {
            // ASCII is Latin-1 too, and engines make a one-byte string of it without decoding.
            return js::latin1(env, bytes);
        }
        match std::str::from_utf8(bytes) {
            Ok(s) => js::string(env, s),
            Err(_) => js::string(env, &String::from_utf8_lossy(bytes)),
        }
    }
}

/// Convert a C result held in libffi's return buffer (integers widened to 64 bits).
///
/// # Safety
/// `env` live; `raw` written by a call whose return type is `ty`; a CString result must be
/// NULL or a readable C string.
#[inline(always)]
pub unsafe fn to_js(env: napi_env, ty: FfiType, raw: u64) -> FfiResult<napi_value> {
    // SAFETY (whole body): env from the current call; the string contract is forwarded.
    unsafe {
        if ty == FfiType::CString {
            return c_string_to_js(env, raw as usize as *const c_char);
        }
        let mut r = ptr::null_mut();
        let (status, what) = make_value(env, ty, raw, &mut r);
        js::check(env, status, what)?;
        Ok(r)
    }
}

/// `to_js` for the hot call paths: the value, or null with the error thrown. The engine
/// call's status is tested in place, so no `FfiResult` goes through memory; an engine
/// failure takes `to_js` out of line for its error.
///
/// # Safety
/// As `to_js`.
#[inline(always)]
pub unsafe fn to_js_or_throw(env: napi_env, ty: FfiType, raw: u64) -> napi_value {
    if ty == FfiType::CString {
        // SAFETY: forwarded contract.
        return match unsafe { c_string_to_js(env, raw as usize as *const c_char) } {
            Ok(v) => v,
            // SAFETY: env is live.
            Err(e) => unsafe { crate::boundary::thrown(env, e) },
        };
    }
    let mut r = ptr::null_mut();
    // SAFETY: forwarded contract.
    if unsafe { make_value(env, ty, raw, &mut r) }.0 == sys::Status::napi_ok {
        return r;
    }
    // SAFETY: forwarded contract.
    unsafe { to_js_thrown(env, ty, raw) }
}

/// The out-of-line part of `to_js_or_throw`.
///
/// # Safety
/// As `to_js`.
#[cold]
#[inline(never)]
unsafe fn to_js_thrown(env: napi_env, ty: FfiType, raw: u64) -> napi_value {
    // SAFETY: forwarded contract.
    match unsafe { to_js(env, ty, raw) } {
        Ok(v) => v,
        // SAFETY: env is live.
        Err(e) => unsafe { crate::boundary::thrown(env, e) },
    }
}

/// The one engine call that makes the JS value of a non-string C result into `out`: its
/// status, and its name for the error message.
///
/// # Safety
/// `env` live; `raw` a result of type `ty` (not CString).
#[inline(always)]
unsafe fn make_value(
    env: napi_env,
    ty: FfiType,
    raw: u64,
    out: &mut napi_value,
) -> (sys::napi_status, &'static str) {
    const DOUBLE: &str = "napi_create_double";
    const INT32: &str = "napi_create_int32";
    // Numbers within 2^53 for the `_fast`, size and pointer types, bigints beyond.
    let exact = |v: u64| v <= MAX_EXACT;
    // SAFETY (whole body): env live, out a valid out slot.
    unsafe {
        match ty {
            FfiType::Void => (sys::napi_get_undefined(env, out), "napi_get_undefined"),
            FfiType::Bool => (
                sys::napi_get_boolean(env, raw as u8 != 0, out),
                "napi_get_boolean",
            ),
            // The narrow types from their low bytes (the rest of the register is undefined).
            FfiType::I8 => (
                sys::napi_create_int32(env, raw as u8 as i8 as i32, out),
                INT32,
            ),
            FfiType::U8 => (sys::napi_create_int32(env, raw as u8 as i32, out), INT32),
            FfiType::I16 => (
                sys::napi_create_int32(env, raw as u16 as i16 as i32, out),
                INT32,
            ),
            FfiType::U16 => (sys::napi_create_int32(env, raw as u16 as i32, out), INT32),
            FfiType::I32 => (sys::napi_create_int32(env, raw as u32 as i32, out), INT32),
            // char: signed or not as the target's C ABI says (within i32 either way).
            FfiType::Char => {
                let c = decode_int(ty, raw).unwrap_or(0) as i32;
                (sys::napi_create_int32(env, c, out), INT32)
            }
            FfiType::U32 => (
                sys::napi_create_uint32(env, raw as u32, out),
                "napi_create_uint32",
            ),
            FfiType::I64Fast | FfiType::ISize if exact((raw as i64).unsigned_abs()) => {
                (sys::napi_create_double(env, raw as i64 as f64, out), DOUBLE)
            }
            FfiType::I64 | FfiType::I64Fast | FfiType::ISize => (
                sys::napi_create_bigint_int64(env, raw as i64, out),
                "napi_create_bigint_int64",
            ),
            FfiType::U64Fast | FfiType::USize if exact(raw) => {
                (sys::napi_create_double(env, raw as f64, out), DOUBLE)
            }
            FfiType::U64 | FfiType::U64Fast | FfiType::USize => (
                sys::napi_create_bigint_uint64(env, raw, out),
                "napi_create_bigint_uint64",
            ),
            FfiType::F32 => {
                let f = f32::from_bits(raw as u32) as f64;
                (sys::napi_create_double(env, f, out), DOUBLE)
            }
            FfiType::F64 => (
                sys::napi_create_double(env, f64::from_bits(raw), out),
                DOUBLE,
            ),
            // A pointer: NULL is null, an address a number (a bigint above 2^53).
            FfiType::Ptr | FfiType::Buffer | FfiType::Callback if raw == 0 => {
                (sys::napi_get_null(env, out), "napi_get_null")
            }
            FfiType::Ptr | FfiType::Buffer | FfiType::Callback if exact(raw) => {
                (sys::napi_create_double(env, raw as f64, out), DOUBLE)
            }
            FfiType::Ptr | FfiType::Buffer | FfiType::Callback => (
                sys::napi_create_bigint_uint64(env, raw, out),
                "napi_create_bigint_uint64",
            ),
            // Not reached: `to_js` converts strings itself.
            FfiType::CString => (sys::Status::napi_invalid_arg, "a C string result"),
        }
    }
}
