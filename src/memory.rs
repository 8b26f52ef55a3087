//! Memory helpers: addresses of JS buffers, typed reads of C memory, copies of C memory into
//! ArrayBuffers, and C strings read at an address. Reads never free anything.

use std::ffi::{c_char, c_void};
use std::ptr;

use napi_ohos::sys;
use napi_ohos::sys::{napi_env, napi_value};

use crate::convert;
use crate::error::{FfiError, FfiResult};
use crate::js;
use crate::types::FfiType;
use std::fmt::Display;

/// An error label made of three parts, joined only when an error message needs it (so the
/// hot paths format nothing).
#[derive(Clone, Copy)]
pub struct Label<'a>(pub &'a str, pub &'a str, pub &'a str);

impl Display for Label<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}{}", self.0, self.1, self.2)
    }
}

/// Addresses below this are never valid data (the first page is unmapped on every
/// supported OS); reads there are refused instead of crashing.
const FIRST_VALID_ADDRESS: usize = 4096;

/// The largest ArrayBuffer ArkFFI allocates (1 GiB): an engine that cannot allocate a buffer
/// aborts the process instead of throwing, so larger requests are refused before that.
pub const MAX_ARRAY_BUFFER: usize = 1 << 30;

/// A byte offset / length argument: a whole number in 0..=2^53, or undefined for `default`.
///
/// # Safety
/// `env` live; `v` a value of it.
pub unsafe fn size_arg(
    env: napi_env,
    v: napi_value,
    what: impl Display,
    default: Option<usize>,
) -> FfiResult<usize> {
    // SAFETY: forwarded contract.
    unsafe {
        // A number is the common case: one engine call. Anything else is asked whether it
        // is undefined (for the default) only then.
        let number = js::get_f64(env, v);
        if number.is_none() && js::kind(env, v) == js::Kind::Undefined {
            if let Some(d) = default {
                return Ok(d);
            }
        }
        if let Some(n) = number.and_then(convert::exact_whole) {
            return Ok(n);
        }
        match number {
            Some(d) if d.fract() == 0.0 || d.is_infinite() => Err(FfiError::range_error(format!(
                "{what} must be a whole number >= 0, got {}",
                js::describe(env, v)
            ))),
            _ => Err(FfiError::type_error(format!(
                "{what} must be a whole number >= 0, got {}",
                js::describe(env, v)
            ))),
        }
    }
}

/// `address + offset`, refusing NULL, the first page and overflow.
pub fn checked_address(
    base: usize,
    offset: usize,
    len: usize,
    what: impl Display,
) -> FfiResult<*const u8> {
    checked_access(base, offset, len, what, Access::Read)
}

/// What is done at a checked address (for the messages of refusals).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// `checked_address` for an access of the given kind.
pub fn checked_access(
    base: usize,
    offset: usize,
    len: usize,
    what: impl Display,
    access: Access,
) -> FfiResult<*const u8> {
    let (verb, able) = match access {
        Access::Read => ("read", "readable"),
        Access::Write => ("write", "writable"),
    };
    let start = base
        .checked_add(offset)
        .filter(|a| a.checked_add(len).is_some())
        .ok_or_else(|| {
            FfiError::range_error(format!(
                "{what}: address 0x{base:x} + offset {offset} overflows"
            ))
        })?;
    if base == 0 {
        return Err(FfiError::error(format!(
            "{what}: cannot {verb} through a NULL pointer"
        )));
    }
    // A base in the first page is never a pointer (a NULL struct pointer plus a field
    // offset, a small integer): refused whatever the offset.
    if base < FIRST_VALID_ADDRESS || start < FIRST_VALID_ADDRESS {
        return Err(FfiError::error(format!(
            "{what}: address 0x{base:x} is not {able} memory"
        )));
    }
    Ok(start as *const u8)
}

/// `ptr(view, byteOffset?)`: the address of a buffer's bytes (plus an offset within it).
///
/// # Safety
/// `env` live; values of it.
pub unsafe fn buffer_address(
    env: napi_env,
    view: napi_value,
    offset: napi_value,
) -> FfiResult<napi_value> {
    // SAFETY (whole body): forwarded contract.
    unsafe {
        let Ok(Some((data, len))) = convert::buffer_arg(env, view) else {
            return Err(FfiError::type_error(format!(
                "ptr: argument 0 must be an ArrayBuffer, SharedArrayBuffer, typed array or DataView, got {}",
                js::describe(env, view)
            )));
        };
        let off = size_arg(env, offset, "ptr: byteOffset", Some(0))?;
        if off > len {
            return Err(FfiError::range_error(format!(
                "ptr: byteOffset {off} is past the end of a {len}-byte buffer"
            )));
        }
        if data.is_null() {
            return js::null(env);
        }
        convert::pointer_to_js(env, data as usize + off)
    }
}

/// `read.<type>(ptr, byteOffset?)`.
///
/// # Safety
/// `env` live; values of it. The address must be readable for the type's size: that is the
/// user's promise, as in C (NULL and the first page are refused).
#[inline(always)] // into each type's entry (surface::READ_ENTRIES), where `ty` is a constant
pub unsafe fn read(
    env: napi_env,
    ty: FfiType,
    p: napi_value,
    offset: Option<napi_value>,
) -> FfiResult<napi_value> {
    // The error labels are formatted only when there is an error.
    let what = Label("read.", ty.name(), "");
    // SAFETY (whole body): env/values forwarded; the read address contract is the user's.
    unsafe {
        let base =
            convert::bare_address(env, p).map_err(|e| e.subject(&format!("{what}: argument 0")))?;
        // No byteOffset argument at all (`read.i32(p)`): 0, without asking the engine.
        let off = match offset {
            Some(v) => size_arg(env, v, Label("read.", ty.name(), ": byteOffset"), Some(0))?,
            None => 0,
        };
        let at = checked_address(base, off, ty.size(), what)?;
        load(env, ty, at).unwrap_or_else(|| {
            Err(FfiError::type_error(format!(
                "{what} is not a readable type"
            )))
        })
    }
}

/// `read`'s fast path, for an address given as a number and no byteOffset: None when the
/// number is no address `read` would read through (not whole, above 2^53, in the first
/// page), so that the general path gives the error.
///
/// # Safety
/// As `read`.
#[inline(always)]
pub unsafe fn read_at_number(
    env: napi_env,
    ty: FfiType,
    p: napi_value,
) -> Option<FfiResult<napi_value>> {
    // SAFETY: forwarded contract.
    let d = unsafe { js::get_f64(env, p) }?;
    // SAFETY: 4096..=2^53 lies within i64.
    let a = unsafe {
        convert::whole_in(
            d,
            FIRST_VALID_ADDRESS as f64,
            crate::types::MAX_EXACT as f64,
        )
    }?;
    // SAFETY: a whole address above the first page, within 2^53 (so a + size cannot
    // overflow): what `read` checks; the memory is the user's promise, as in `read`.
    unsafe { load(env, ty, a as usize as *const u8) }
}

/// The value of type `ty` at `at`, as JS (a CString is read as the pointer it is); None for
/// a type of no readable size.
///
/// # Safety
/// `env` live; `at` readable for `ty.size()` bytes.
#[inline(always)]
unsafe fn load(env: napi_env, ty: FfiType, at: *const u8) -> Option<FfiResult<napi_value>> {
    // SAFETY: per the contract.
    unsafe {
        let raw: u64 = match ty.size() {
            1 => ptr::read_unaligned(at) as u64,
            2 => ptr::read_unaligned(at.cast::<u16>()) as u64,
            4 => ptr::read_unaligned(at.cast::<u32>()) as u64,
            8 => ptr::read_unaligned(at.cast::<u64>()),
            _ => return None,
        };
        let ty = if ty == FfiType::CString {
            FfiType::Ptr
        } else {
            ty
        };
        Some(convert::to_js(env, ty, raw))
    }
}

/// `write.<type>(ptr, byteOffset, value)`: one value into C memory, converted by the rules
/// of arguments (`convert::to_c`), with the checks of `read`.
///
/// # Safety
/// `env` live; values of it. The address must be writable for the type's size: that is the
/// user's promise, as in C (NULL and the first page are refused).
#[inline(always)] // into each type's entry (surface::WRITE_ENTRIES), where `ty` is a constant
pub unsafe fn write(
    env: napi_env,
    ty: FfiType,
    p: napi_value,
    offset: napi_value,
    value: napi_value,
) -> FfiResult<()> {
    let what = Label("write.", ty.name(), "");
    // SAFETY (whole body): env/values forwarded; the write address contract is the user's.
    unsafe {
        let base =
            convert::bare_address(env, p).map_err(|e| e.subject(&format!("{what}: argument 0")))?;
        let off = size_arg(
            env,
            offset,
            Label("write.", ty.name(), ": byteOffset"),
            Some(0),
        )?;
        let at = checked_access(base, off, ty.size(), what, Access::Write)?.cast_mut();
        let mut slot = 0u64;
        // Strings are not among the written types: the scratch stays unused.
        convert::to_c(
            env,
            ty,
            value,
            &mut slot,
            &mut crate::arena::Scratch::heap(),
        )
        .map_err(|e| e.subject(&format!("{what}: value")))?;
        match ty.size() {
            1 => ptr::write_unaligned(at, slot as u8),
            2 => ptr::write_unaligned(at.cast::<u16>(), slot as u16),
            4 => ptr::write_unaligned(at.cast::<u32>(), slot as u32),
            8 => ptr::write_unaligned(at.cast::<u64>(), slot),
            _ => {
                return Err(FfiError::type_error(format!(
                    "{what} is not a writable type"
                )))
            }
        }
        Ok(())
    }
}

/// The longest view: OpenHarmony's engine keeps an external ArrayBuffer's length in an
/// `int32_t`.
pub const MAX_VIEW: usize = i32::MAX as usize;

/// `view(ptr, byteOffset, byteLength)`: an ArrayBuffer over the C memory itself (an external
/// ArrayBuffer: no copy; writes go to C). ArkFFI never frees the memory, and has no
/// finalizer for it: the C memory must outlive the view.
///
/// # Safety
/// `env` live; values of it; the range must stay readable and writable while the view is
/// used (the user's promise).
pub unsafe fn view(
    env: napi_env,
    p: napi_value,
    offset: napi_value,
    length: napi_value,
) -> FfiResult<napi_value> {
    // SAFETY (whole body): env/values forwarded; the range is the user's promise.
    unsafe {
        let base = convert::bare_address(env, p).map_err(|e| e.subject("view: argument 0"))?;
        let off = size_arg(env, offset, "view: byteOffset", Some(0))?;
        let len = size_arg(env, length, "view: byteLength", None)?;
        if len > MAX_VIEW {
            return Err(FfiError::range_error(format!(
                "view: byteLength {len} is over the limit of {MAX_VIEW} bytes (2^31 - 1: the engine keeps a view's length in an int32); view it in parts"
            )));
        }
        let at = checked_access(base, off, len, "view", Access::Read)?;
        let mut ab = ptr::null_mut();
        js::check(
            env,
            sys::napi_create_external_arraybuffer(
                env,
                at.cast_mut().cast(),
                len,
                None,
                ptr::null_mut(),
                &mut ab,
            ),
            "napi_create_external_arraybuffer",
        )?;
        Ok(ab)
    }
}

/// `toArrayBuffer(ptr, byteOffset, byteLength)`: a new ArrayBuffer holding a copy.
///
/// # Safety
/// `env` live; values of it; the range must be readable (the user's promise).
pub unsafe fn to_array_buffer(
    env: napi_env,
    p: napi_value,
    offset: napi_value,
    length: napi_value,
) -> FfiResult<napi_value> {
    // SAFETY (whole body): env/values forwarded; the range is the user's promise.
    unsafe {
        let base =
            convert::bare_address(env, p).map_err(|e| e.subject("toArrayBuffer: argument 0"))?;
        let off = size_arg(env, offset, "toArrayBuffer: byteOffset", Some(0))?;
        let len = size_arg(env, length, "toArrayBuffer: byteLength", None)?;
        if len > MAX_ARRAY_BUFFER {
            return Err(FfiError::range_error(format!(
                "toArrayBuffer: byteLength {len} is over the limit of {MAX_ARRAY_BUFFER} bytes (1 GiB); copy in parts"
            )));
        }
        let at = checked_address(base, off, len, "toArrayBuffer")?;
        let mut data: *mut c_void = ptr::null_mut();
        let mut ab = ptr::null_mut();
        js::check(
            env,
            sys::napi_create_arraybuffer(env, len, &mut data, &mut ab),
            "napi_create_arraybuffer",
        )
        .map_err(|e| match e {
            FfiError::Pending => e,
            _ => FfiError::range_error(format!("toArrayBuffer: cannot allocate {len} bytes")),
        })?;
        if len > 0 {
            ptr::copy_nonoverlapping(at, data.cast::<u8>(), len);
        }
        Ok(ab)
    }
}

/// `new CString(ptr, byteOffset?, byteLength?)`: the C string at an address as a JS string.
/// NULL reads as ''. With a byteLength, exactly that many bytes are read.
///
/// # Safety
/// `env` live; values of it; the memory must be readable (the user's promise).
pub unsafe fn read_c_string(
    env: napi_env,
    p: napi_value,
    offset: napi_value,
    length: napi_value,
) -> FfiResult<napi_value> {
    // SAFETY (whole body): env/values forwarded; the memory is the user's promise.
    unsafe {
        let base = convert::bare_address(env, p).map_err(|e| e.subject("CString: argument 0"))?;
        let off = size_arg(env, offset, "CString: byteOffset", Some(0))?;
        if base == 0 {
            return js::string(env, "");
        }
        if js::kind(env, length) == js::Kind::Undefined {
            let at = checked_address(base, off, 0, "CString")?;
            return convert::c_string_to_js(env, at.cast::<c_char>());
        }
        let len = size_arg(env, length, "CString: byteLength", None)?;
        if len > MAX_ARRAY_BUFFER {
            return Err(FfiError::range_error(format!(
                "CString: byteLength {len} is over the limit of {MAX_ARRAY_BUFFER} bytes (1 GiB)"
            )));
        }
        let at = checked_address(base, off, len, "CString")?;
        convert::utf8_to_js(env, std::slice::from_raw_parts(at, len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checked_address_refuses_null_low_and_overflow() {
        assert!(matches!(
            checked_address(0, 0, 4, "r"),
            Err(FfiError::Generic(_))
        ));
        assert!(matches!(
            checked_address(8, 0, 4, "r"),
            Err(FfiError::Generic(_))
        ));
        assert!(matches!(
            checked_address(usize::MAX, 1, 0, "r"),
            Err(FfiError::Range(_))
        ));
        assert!(matches!(
            checked_address(usize::MAX - 2, 0, 8, "r"),
            Err(FfiError::Range(_))
        ));
        assert!(matches!(
            checked_address(8, 4096, 4, "r"),
            Err(FfiError::Generic(_))
        ));
        assert_eq!(
            checked_address(0x10000, 16, 4, "r").unwrap() as usize,
            0x10010
        );
    }
}
