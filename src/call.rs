//! The call path: a bound C function as a JS function. `bind` creates the JS function once
//! per symbol; `invoke` runs on every call: check the argument count, convert arguments by
//! the prepared plan, ffi_call, convert the result.

use std::ffi::c_void;
use std::ptr;
use std::sync::Arc;

use libffi::raw::ffi_call;
use napi_ohos::sys;
use napi_ohos::sys::{napi_callback_info, napi_env, napi_value};

use crate::convert::{self, Scratch};
use crate::env_state;
use crate::error::{FfiError, FfiResult};
use crate::js;
use crate::layout::StructLayout;
use crate::library::LibraryHandle;
use crate::signature::{ArgType, Signature};
use crate::surface;

/// Arguments converted on the stack before the heap is used.
const INLINE_ARGS: usize = 12;

/// Everything one JS function needs to call one C function.
pub struct CallSite {
    pub name: Box<str>,
    pub code: *const c_void,
    pub sig: Signature,
    /// The library the code lives in (None for CFunction pointers).
    pub owner: Option<Arc<LibraryHandle>>,
}

/// Make the JS function for `site`. The function owns the site; the site is dropped when the
/// function is collected.
///
/// # Safety
/// `env` live; `site.code` the address of a C function matching `site.sig`, valid while the
/// owner library is open (or forever for CFunction).
pub unsafe fn bind(env: napi_env, site: CallSite) -> FfiResult<napi_value> {
    let name = site.name.clone();
    let data = Box::into_raw(Box::new(site));
    // SAFETY: data stays valid until the finalizer attached below frees it with the function.
    let f = match unsafe { js::function(env, &name, Some(invoke), data.cast()) } {
        Ok(f) => f,
        Err(e) => {
            // SAFETY: the function was not created; we still own data.
            drop(unsafe { Box::from_raw(data) });
            return Err(e);
        }
    };
    // SAFETY: f is the function just created; the box is freed exactly once by its finalizer.
    unsafe { js::attach_box(env, f, data)? };
    Ok(f)
}

unsafe extern "C" fn invoke(env: napi_env, info: napi_callback_info) -> napi_value {
    // SAFETY: called by the engine with this call's env and info.
    unsafe { surface::guard(env, || call(env, info)) }
}

unsafe fn call(env: napi_env, info: napi_callback_info) -> FfiResult<napi_value> {
    let mut argv: [napi_value; INLINE_ARGS] = [ptr::null_mut(); INLINE_ARGS];
    let mut argc = INLINE_ARGS;
    let mut data: *mut c_void = ptr::null_mut();
    // SAFETY: argv has argc slots; data is a valid out slot.
    unsafe {
        js::check(
            env,
            sys::napi_get_cb_info(
                env,
                info,
                &mut argc,
                argv.as_mut_ptr(),
                ptr::null_mut(),
                &mut data,
            ),
            "napi_get_cb_info",
        )?
    };
    // SAFETY: data is the CallSite box bound to this function in `bind`; the function is
    // alive (it is being called), so the box has not been finalized.
    let site = unsafe { &*(data as *const CallSite) };
    let n = site.sig.args.len();
    if argc != n {
        return Err(FfiError::type_error(format!(
            "{} expects {n} argument{}, got {argc}",
            site.name,
            if n == 1 { "" } else { "s" }
        )));
    }
    if let Some(lib) = &site.owner {
        if !lib.is_open() {
            return Err(FfiError::error(format!(
                "{}: library \"{}\" is closed",
                site.name,
                lib.path()
            )));
        }
    }
    if n <= INLINE_ARGS {
        let mut slots = [0u64; INLINE_ARGS];
        let mut ptrs: [*mut c_void; INLINE_ARGS] = [ptr::null_mut(); INLINE_ARGS];
        // SAFETY: argv holds n values of this call.
        unsafe { run(env, site, &argv[..n], &mut slots[..n], &mut ptrs[..n]) }
    } else {
        let mut heap_argv = vec![ptr::null_mut(); n];
        let mut argc = n;
        // SAFETY: heap_argv has n slots.
        unsafe {
            js::check(
                env,
                sys::napi_get_cb_info(
                    env,
                    info,
                    &mut argc,
                    heap_argv.as_mut_ptr(),
                    ptr::null_mut(),
                    ptr::null_mut(),
                ),
                "napi_get_cb_info",
            )?
        };
        let mut slots = vec![0u64; n];
        let mut ptrs = vec![ptr::null_mut(); n];
        // SAFETY: heap_argv holds n values of this call.
        unsafe { run(env, site, &heap_argv, &mut slots, &mut ptrs) }
    }
}

/// Convert, call, convert back. `argv`, `slots` and `ptrs` all have the signature's length.
#[inline]
unsafe fn run(
    env: napi_env,
    site: &CallSite,
    argv: &[napi_value],
    slots: &mut [u64],
    ptrs: &mut [*mut c_void],
) -> FfiResult<napi_value> {
    let mut scratch = Scratch::new();
    for (i, (ty, ((&v, slot), p))) in site
        .sig
        .args
        .iter()
        .zip(argv.iter().zip(slots.iter_mut()).zip(ptrs.iter_mut()))
        .enumerate()
    {
        // SAFETY: v is an argument of this call.
        let converted = unsafe {
            match ty {
                ArgType::Scalar(t) => convert::to_c(env, *t, v, slot, &mut scratch)
                    .map(|()| (slot as *mut u64).cast()),
                ArgType::Struct(layout) => struct_argument(env, layout, v),
            }
        };
        match converted {
            Ok(address) => *p = address,
            Err(e) => return Err(e.subject(&format!("{}: args[{i}]", site.name))),
        }
    }
    let result = match &site.sig.ret {
        ArgType::Scalar(t) => {
            let mut ret = [0u64; 2];
            // SAFETY: the return buffer is 16 bytes, at least sizeof(ffi_arg) and any scalar.
            unsafe { ffi(site, ret.as_mut_ptr().cast(), ptrs) };
            // Convert before `scratch` goes: a C function may return one of its string
            // arguments. SAFETY: ret was written by a call returning `t`.
            unsafe { convert::to_js(env, *t, ret[0]) }
        }
        // SAFETY: env of this call; ptrs prepared above.
        ArgType::Struct(layout) => unsafe { struct_result(env, site, layout, ptrs) },
    };
    drop(scratch);
    result
}

/// Jump into C.
///
/// # Safety
/// The CIF was prepared for exactly the signature's types; every `ptrs[i]` points at a value
/// of args[i]'s C type (scalar slots, the struct bytes of JS buffers, C strings in the call's
/// scratch), all alive until this returns; `rvalue` is large enough for the result (at least
/// sizeof(ffi_arg)). The code address matches the signature by the user's declaration, which
/// is the FFI contract.
#[inline]
unsafe fn ffi(site: &CallSite, rvalue: *mut c_void, ptrs: &mut [*mut c_void]) {
    // SAFETY: per this function's contract.
    unsafe {
        let code: unsafe extern "C" fn() = std::mem::transmute(site.code);
        ffi_call(site.sig.cif_ptr(), Some(code), rvalue, ptrs.as_mut_ptr());
    }
}

/// A struct argument: the bytes of the buffer made by `StructSchema.create()` (any buffer
/// of exactly the struct's size), passed without a copy.
unsafe fn struct_argument(
    env: napi_env,
    layout: &StructLayout,
    v: napi_value,
) -> FfiResult<*mut c_void> {
    // SAFETY: env/v of the current call.
    unsafe {
        match convert::buffer_bytes(env, v) {
            Some((data, len)) if len == layout.size && !data.is_null() => Ok(data),
            Some((_, len)) => Err(FfiError::type_error(format!(
                "must be a struct of {} bytes (the ArrayBuffer of StructSchema.create()), got a buffer of {len} bytes",
                layout.size
            ))),
            None => Err(FfiError::type_error(format!(
                "must be a struct of {} bytes (the ArrayBuffer of StructSchema.create()), got {}",
                layout.size,
                js::describe(env, v)
            ))),
        }
    }
}

/// Call a function returning a struct by value: the result is copied into a new ArrayBuffer
/// that this env holds, keyed by its address, until `releasePtr(address)`; the address is
/// returned.
unsafe fn struct_result(
    env: napi_env,
    site: &CallSite,
    layout: &StructLayout,
    ptrs: &mut [*mut c_void],
) -> FfiResult<napi_value> {
    const INLINE_WORDS: usize = 34;
    // libffi may store whole registers: give it room past the struct's size.
    let words = layout.size / 8 + 3;
    let mut inline = [0u64; INLINE_WORDS];
    let mut heap = Vec::new();
    let rvalue: &mut [u64] = if words <= INLINE_WORDS {
        &mut inline
    } else {
        heap.resize(words, 0u64);
        &mut heap
    };
    // SAFETY: rvalue has at least size + 16 bytes, 8-byte aligned; ptrs prepared by run().
    unsafe { ffi(site, rvalue.as_mut_ptr().cast(), ptrs) };
    let mut data: *mut c_void = ptr::null_mut();
    let mut buffer = ptr::null_mut();
    // SAFETY: env live; out slots valid; then a copy of size bytes into the new buffer.
    unsafe {
        js::check(
            env,
            sys::napi_create_arraybuffer(env, layout.size, &mut data, &mut buffer),
            "napi_create_arraybuffer",
        )?;
        ptr::copy_nonoverlapping(rvalue.as_ptr().cast::<u8>(), data.cast::<u8>(), layout.size);
        env_state::get(env)?.hold(env, data as usize, buffer)?;
        convert::pointer_to_js(env, data as usize)
    }
}
