//! The libffi call path: `invoke` runs on every call of a function without a direct plan:
//! check the argument count, convert arguments by the prepared signature, ffi_call, convert
//! the result. Its conversions, struct arguments and results and the synchronous jump into
//! C are shared with the variadic and nonblocking paths.

use std::ffi::c_void;
use std::ptr;
use std::sync::Arc;

use libffi::raw::ffi_call;
use napi_ohos::sys::{napi_callback_info, napi_env, napi_value};

use crate::arena::Scratch;
use crate::boundary;
use crate::convert;
use crate::env_state;
use crate::error::{FfiError, FfiResult};
use crate::js;
use crate::layout::StructLayout;
use crate::signature::{ArgType, Signature};
use crate::site::{check_call, site_of, still_open, CallSite};

/// Arguments converted on the stack before the heap is used.
const INLINE_ARGS: usize = 12;

/// The entry point of a call site without a direct plan (and the fallback of one): the
/// arguments through libffi's call interface.
///
/// # Safety
/// Called by the engine only, with the env and info of a call of a function made by
/// `bind::bind` (whose data pointer is its CallSite).
pub unsafe extern "C" fn invoke(env: napi_env, info: napi_callback_info) -> napi_value {
    // SAFETY: called by the engine with this call's env and info.
    unsafe { boundary::guard(env, || call(env, info)) }
}

unsafe fn call(env: napi_env, info: napi_callback_info) -> FfiResult<napi_value> {
    let mut argv: [napi_value; INLINE_ARGS] = [ptr::null_mut(); INLINE_ARGS];
    // SAFETY: env/info of this call.
    let (argc, data) = unsafe { js::cb_info(env, info, &mut argv)? };
    // SAFETY: data is the CallSite bound to this function in `bind`; it is being called.
    let site = unsafe { site_of(data) };
    check_call(site, argc)?;
    let n = site.sig.args.len();
    if n <= INLINE_ARGS {
        let mut slots = [0u64; INLINE_ARGS];
        let mut ptrs: [*mut c_void; INLINE_ARGS] = [ptr::null_mut(); INLINE_ARGS];
        // SAFETY: argv holds n values of this call.
        unsafe { run(env, site, &argv[..n], &mut slots[..n], &mut ptrs[..n]) }
    } else {
        let mut heap_argv = vec![ptr::null_mut(); n];
        // SAFETY: env/info of this call.
        unsafe { js::cb_info(env, info, &mut heap_argv)? };
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
    let mut scratch = Scratch::new(&site.env.arena);
    // Declared after `scratch`, so dropped (closed) before it.
    let mut made = CallCallbacks::new(env);
    // Read now: a callback may close the library during the call, whose signature the
    // unload after the call releases.
    let watches_buffers = site.sig.watches_buffers;
    let mut watch = BufferWatch::new();
    // Getters of object arguments may run JS, which may close the library.
    site.env.pin();
    // SAFETY: argv holds this call's arguments.
    let converted =
        unsafe { convert_args(env, site, argv, slots, ptrs, &mut scratch, Some(&mut made)) }
            // SAFETY: argv holds this call's arguments.
            .and_then(|()| {
                if watches_buffers {
                    unsafe { watch.start(env, site, argv) }
                } else {
                    Ok(())
                }
            });
    site.env.unpin();
    converted?;
    still_open(site)?;
    let result = match &site.sig.ret {
        &ArgType::Scalar(t) => {
            let mut ret = [0u64; 2];
            // SAFETY: the return buffer is 16 bytes, at least sizeof(ffi_arg) and any scalar.
            unsafe { ffi_sync(site, ret.as_mut_ptr().cast(), ptrs) };
            // SAFETY: env of this call.
            unsafe { env_state::throw_deferred_if_any(env, &site.env)? };
            // Convert before `scratch` goes: a C function may return one of its string
            // arguments. SAFETY: ret was written by a call returning `t`.
            unsafe { convert::to_js(env, t, ret[0]) }
        }
        // SAFETY: env of this call; ptrs prepared above.
        ArgType::Struct(layout) => unsafe { struct_result(env, site, layout.clone(), ptrs) },
    };
    drop(scratch);
    if watches_buffers {
        // SAFETY: argv holds this call's arguments.
        unsafe { watch.check(env, site, argv)? };
    }
    result
}

/// The buffers of a call during which JS callbacks may run (`Signature::watches_buffers`):
/// resizable ones are refused (a callback could shrink them under C), and the others must
/// still be attached, in place and as long after the call. A callback must not detach,
/// transfer or resize the buffers of the call it runs in; when one did, the call throws
/// instead of returning as if nothing happened.
struct BufferWatch {
    /// (argument index, address, length) of up to 8 buffer arguments (more are not watched:
    /// no C function takes that many buffers and a callback).
    seen: [(usize, usize, usize); 8],
    n: usize,
}

impl BufferWatch {
    fn new() -> Self {
        BufferWatch {
            seen: [(0, 0, 0); 8],
            n: 0,
        }
    }

    /// # Safety
    /// `env` live; `argv` the call's values.
    unsafe fn start(
        &mut self,
        env: napi_env,
        site: &CallSite,
        argv: &[napi_value],
    ) -> FfiResult<()> {
        // SAFETY (whole body): env live; argv values of this call.
        unsafe {
            for (i, (ty, &v)) in site.sig.args.iter().zip(argv).enumerate() {
                if !matches!(
                    ty,
                    ArgType::Scalar(crate::types::FfiType::Ptr | crate::types::FfiType::Buffer)
                ) || js::kind(env, v) != js::Kind::Object
                {
                    continue;
                }
                let Ok(Some((data, len))) = convert::buffer_arg(env, v) else {
                    continue;
                };
                let backing = js::view_buffer(env, v).unwrap_or(v);
                if js::is_resizable(env, backing) {
                    return Err(FfiError::type_error(format!(
                        "{}: args[{i}] is a resizable ArrayBuffer (or a view of one): a call that takes a callback does not take resizable buffers (a callback could shrink them while C uses them); pass a fixed-length ArrayBuffer",
                        site.name
                    )));
                }
                if self.n < self.seen.len() {
                    self.seen[self.n] = (i, data as usize, len);
                    self.n += 1;
                }
            }
        }
        Ok(())
    }

    /// # Safety
    /// `env` live; `argv` the call's values.
    unsafe fn check(&self, env: napi_env, site: &CallSite, argv: &[napi_value]) -> FfiResult<()> {
        for &(i, data, len) in &self.seen[..self.n] {
            // SAFETY: env live; argv values of this call.
            let now = unsafe { convert::buffer_arg(env, argv[i]) };
            if !matches!(now, Ok(Some((d, l))) if d as usize == data && l == len) {
                return Err(FfiError::error(format!(
                    "{}: args[{i}], a buffer, was detached or resized during the call (by a callback): C may have used freed memory. A callback must not detach, transfer or resize the buffers of the call it runs in",
                    site.name
                )));
            }
        }
        Ok(())
    }
}

/// Convert every argument into its slot and set `ptrs[i]` to where libffi reads it from.
///
/// # Safety
/// `env` live; `argv` values of this call; all slices of the signature's length.
#[inline]
pub unsafe fn convert_args(
    env: napi_env,
    site: &CallSite,
    argv: &[napi_value],
    slots: &mut [u64],
    ptrs: &mut [*mut c_void],
    scratch: &mut Scratch,
    mut made: Option<&mut CallCallbacks>,
) -> FfiResult<()> {
    let cells = argv.iter().zip(slots.iter_mut()).zip(ptrs.iter_mut());
    for (i, (ty, ((&v, slot), p))) in site.sig.args.iter().zip(cells).enumerate() {
        // SAFETY: v is an argument of this call.
        let converted = unsafe {
            match ty {
                ArgType::Scalar(crate::types::FfiType::Callback)
                    if site.sig.call_callbacks.is_some()
                        && js::kind(env, v) == js::Kind::Function =>
                {
                    call_callback(env, site, i, v, made.as_deref_mut())
                        .map(|code| *slot = code as u64)
                        .map(|()| (slot as *mut u64).cast())
                }
                ArgType::Scalar(t) => {
                    convert::to_c(env, *t, v, slot, scratch).map(|()| (slot as *mut u64).cast())
                }
                ArgType::Struct(layout) => struct_argument(env, layout, v, scratch),
            }
        };
        match converted {
            Ok(address) => *p = address,
            Err(e) => return Err(e.subject(&format!("{}: args[{i}]", site.name))),
        }
    }
    Ok(())
}

/// The callbacks a call made for its plain-function arguments (`CallbackType` parameters):
/// closed when the call is over (when this is dropped), whatever happened.
pub struct CallCallbacks {
    env: napi_env,
    keys: [u64; 4],
    n: usize,
    more: Vec<u64>,
}

impl CallCallbacks {
    pub fn new(env: napi_env) -> Self {
        CallCallbacks {
            env,
            keys: [0; 4],
            n: 0,
            more: Vec::new(),
        }
    }

    fn push(&mut self, key: u64) {
        if self.n < self.keys.len() {
            self.keys[self.n] = key;
            self.n += 1;
        } else {
            self.more.push(key);
        }
    }
}

impl Drop for CallCallbacks {
    fn drop(&mut self) {
        for &key in self.keys[..self.n].iter().chain(&self.more) {
            // SAFETY: made by `call_callback` on this env's thread during the call, which is
            // over (a C library must not keep a per-call callback: the README says so).
            unsafe { crate::callback::close(self.env, key) };
        }
    }
}

/// A plain JS function for `CallbackType` parameter `i`: a callback of its signature, open
/// until the call returns (`made` closes it).
///
/// # Safety
/// `env` live; `v` a function of this call.
#[cold]
unsafe fn call_callback(
    env: napi_env,
    site: &CallSite,
    i: usize,
    v: napi_value,
    made: Option<&mut CallCallbacks>,
) -> FfiResult<usize> {
    let sig = site
        .sig
        .call_callbacks
        .as_ref()
        .and_then(|c| c.get(i).cloned().flatten());
    let (Some(sig), Some(made)) = (sig, made) else {
        return Err(FfiError::type_error(if site.nonblocking {
            "is a function: a plain function is a callback for one synchronous call; a nonblocking call takes a threadsafe JSCallback (JSCallback.ofThreadsafe) or an address"
        } else {
            "is a function: only a CallbackType parameter takes a plain function; pass a JSCallback or an address, or declare the parameter as new CallbackType({ args, returns })"
        }));
    };
    // SAFETY: env/v of this call.
    let (key, code) = unsafe { crate::callback::create(env, v, sig, false)? };
    made.push(key);
    Ok(code)
}

/// A synchronous call on the JS thread: the env's depth counter says so while C runs (JS
/// callbacks defer their exceptions to it, foreign threads see the JS thread is busy).
///
/// # Safety
/// As `ffi`.
#[inline]
unsafe fn ffi_sync(site: &CallSite, rvalue: *mut c_void, ptrs: &mut [*mut c_void]) {
    site.env.enter();
    // SAFETY: forwarded contract.
    unsafe { ffi(site, rvalue, ptrs) };
    site.env.leave();
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
pub unsafe fn ffi(site: &CallSite, rvalue: *mut c_void, ptrs: &mut [*mut c_void]) {
    // SAFETY: per this function's contract.
    unsafe {
        let code: unsafe extern "C" fn() = std::mem::transmute(site.code);
        ffi_call(site.sig.cif_ptr(), Some(code), rvalue, ptrs.as_mut_ptr());
    }
}

/// A struct argument: the bytes of the buffer made by `StructSchema.create()` (any buffer
/// of exactly the struct's size), passed without a copy; or a plain object with the struct's
/// fields, written as `create()` writes it into bytes of the call's `scratch`.
unsafe fn struct_argument(
    env: napi_env,
    layout: &StructLayout,
    v: napi_value,
    scratch: &mut Scratch,
) -> FfiResult<*mut c_void> {
    // SAFETY: env/v of the current call.
    unsafe {
        match convert::buffer_arg(env, v) {
            Ok(Some((data, len))) if len == layout.size && !data.is_null() => Ok(data),
            Ok(None) if js::kind(env, v) == js::Kind::Object && !js::is_array(env, v) => {
                let at = scratch.bytes(layout.size, layout.align);
                // SAFETY: `at` has layout.size writable bytes, alive as long as `scratch`.
                crate::structs::write(env, layout, v, at, "")?;
                Ok(at.cast())
            }
            Ok(Some((_, len))) => Err(FfiError::type_error(format!(
                "must be a struct of {} bytes (the ArrayBuffer of StructSchema.create()), got a buffer of {len} bytes",
                layout.size
            ))),
            _ => Err(FfiError::type_error(format!(
                "must be a struct of {} bytes (an object with its fields, or the ArrayBuffer of StructSchema.create()), got {}",
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
    layout: Arc<StructLayout>,
    ptrs: &mut [*mut c_void],
) -> FfiResult<napi_value> {
    // Read before the call: the unload after it (a callback closed the library) may release
    // the signature.
    let as_object = site.sig.ret_object;
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
    unsafe { ffi_sync(site, rvalue.as_mut_ptr().cast(), ptrs) };
    // SAFETY: env of this call.
    unsafe { env_state::throw_deferred_if_any(env, &site.env)? };
    // SAFETY: the struct bytes are at the start of rvalue.
    unsafe { struct_result_value(env, as_object, &layout, rvalue.as_ptr().cast()) }
}

/// Copy a struct result into a block of native memory held by this env (see env_state);
/// return its address.
///
/// # Safety
/// `env` live; `bytes` readable for `layout.size` bytes.
pub unsafe fn held_struct(
    env: napi_env,
    layout: &StructLayout,
    bytes: *const u8,
) -> FfiResult<napi_value> {
    // SAFETY: bytes readable for layout.size (contract).
    let block = unsafe { env_state::HeldBlock::copy_of(bytes, layout.size, layout.align)? };
    let address = env_state::get(env)?.hold(block);
    // SAFETY: env live.
    unsafe { convert::pointer_to_js(env, address) }
}

/// A struct result as JS: the address of a held copy (`held_struct`), or for a signature
/// whose result is a `StructSchema.value` token, a new object read from the bytes, with
/// nothing held (the bytes are the caller's and go when the call returns).
///
/// # Safety
/// `env` live; `bytes` readable for `layout.size` bytes.
pub unsafe fn struct_result_to_js(
    env: napi_env,
    sig: &Signature,
    layout: &StructLayout,
    bytes: *const u8,
) -> FfiResult<napi_value> {
    // SAFETY: forwarded contract.
    unsafe { struct_result_value(env, sig.ret_object, layout, bytes) }
}

/// `struct_result_to_js` by the signature's `ret_object`.
///
/// # Safety
/// As `struct_result_to_js`.
unsafe fn struct_result_value(
    env: napi_env,
    as_object: bool,
    layout: &StructLayout,
    bytes: *const u8,
) -> FfiResult<napi_value> {
    // SAFETY: forwarded contract.
    unsafe {
        if as_object {
            crate::structs::read(env, layout, bytes)
        } else {
            held_struct(env, layout, bytes)
        }
    }
}
