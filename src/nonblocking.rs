//! Nonblocking calls (`nonblocking: true`): the arguments are converted on the JS thread
//! into storage the call owns (strings copied, buffers and struct arguments referenced so
//! they stay alive), the C function runs on a worker thread (napi async work), and the
//! returned Promise settles on the JS thread with the converted result.
//!
//! Buffers: a JS object being referenced does not pin its memory — a buffer can be detached
//! (transferred, then collected) or, if resizable, shrunk while the worker thread writes into
//! it. So C gets a copy of each ArrayBuffer range the arguments point into (one per
//! ArrayBuffer, covering all its views in the call, so aliasing views stay aliased), and the
//! copy is written back when the call completes — if the buffer is still attached, in place
//! and long enough; if not, the Promise rejects. Resizable ArrayBuffers are refused. A
//! SharedArrayBuffer is passed as is: its memory can be neither detached nor shrunk.

use std::ffi::c_void;
use std::ptr;
use std::sync::Arc;

use napi_ohos::sys;
use napi_ohos::sys::{napi_callback_info, napi_deferred, napi_env, napi_ref, napi_value};

use crate::arena::Scratch;
use crate::boundary;
use crate::call;
use crate::convert;
use crate::error::{FfiError, FfiResult};
use crate::js;
use crate::signature::ArgType;
use crate::site::{self, CallSite};
use crate::types::FfiType;

/// C's copy of one ArrayBuffer's bytes that the arguments of a call point into.
struct BufferCopy {
    /// The ArrayBuffer (referenced until the call completes).
    buffer: napi_ref,
    /// Where its bytes were, and the range `[start, end)` of them the copy holds.
    base: usize,
    start: usize,
    end: usize,
    /// The copy, 16-byte aligned, with the range at the same offset modulo 16 as the
    /// original (C keeps whatever alignment the JS buffer had).
    block: Vec<u128>,
    skew: usize,
    /// A buffer or pointer argument points into it (C may write there); struct arguments
    /// alone are only read, so their copy is not written back.
    written: bool,
}

impl BufferCopy {
    fn copy_address(&self, original: usize) -> usize {
        self.block.as_ptr() as usize + self.skew + (original - self.start)
    }
}

/// One nonblocking call in flight.
struct AsyncCall {
    site: Arc<CallSite>,
    slots: Vec<u64>,
    ptrs: Vec<*mut c_void>,
    /// Owns the C strings `ptrs` point to (heap buffers: moving the call keeps them put).
    _scratch: Scratch<'static>,
    /// The JS objects (buffers, struct buffers) of the arguments, kept alive.
    refs: Vec<napi_ref>,
    /// C's copies of the buffers the arguments point into (see the module's doc).
    copies: Vec<BufferCopy>,
    ret: Vec<u64>,
    deferred: napi_deferred,
    work: sys::napi_async_work,
    /// The interface of a variadic call (its extra types); None: the signature's own.
    variadic: Option<Arc<crate::signature::Prepared>>,
}

// SAFETY: the worker thread only reads `site`, `ptrs` (which point into memory this call
// owns or keeps referenced) and writes `ret`; the napi handles are used on the JS thread only.
unsafe impl Send for AsyncCall {}

/// The NAPI callback of a nonblocking bound function.
///
/// # Safety
/// Called by the engine only, with the env and callback info of the current call.
pub unsafe extern "C" fn invoke(env: napi_env, info: napi_callback_info) -> napi_value {
    // SAFETY: called by the engine with this call's env and info.
    unsafe { boundary::guard(env, || start(env, info)) }
}

unsafe fn start(env: napi_env, info: napi_callback_info) -> FfiResult<napi_value> {
    // SAFETY (whole body): env/info belong to the current call.
    unsafe {
        // Only the count and the site here: `queue` fetches the arguments.
        let (argc, data) = js::cb_info(env, info, &mut [])?;
        let site_ref = site::site_of(data);
        // The call takes its own count of the site: the function may be collected meanwhile.
        Arc::increment_strong_count(site_ref as *const CallSite);
        let site = Arc::from_raw(site_ref as *const CallSite);

        let mut deferred: napi_deferred = ptr::null_mut();
        let mut promise = ptr::null_mut();
        js::check(
            env,
            sys::napi_create_promise(env, &mut deferred, &mut promise),
            "napi_create_promise",
        )?;
        if let Err(e) = queue(env, info, argc, site, deferred) {
            let err = e.to_js(env);
            sys::napi_reject_deferred(env, deferred, err);
        }
        Ok(promise)
    }
}

unsafe fn queue(
    env: napi_env,
    info: napi_callback_info,
    argc: usize,
    site: Arc<CallSite>,
    deferred: napi_deferred,
) -> FfiResult<()> {
    // First: a closed library's sites may have released their signatures.
    site::still_open(&site)?;
    // A variadic call: all its arguments (fixed, then type and value pairs), converted into
    // one slot per fixed argument and per pair.
    let (n, slot_count) = if site.sig.variadic.is_some() {
        let n = site.sig.args.len();
        if argc < n || !(argc - n).is_multiple_of(2) {
            // The variadic conversion below gives the error.
            (argc, argc)
        } else {
            (argc, n + (argc - n) / 2)
        }
    } else {
        site::check_call(&site, argc)?;
        (site.sig.args.len(), site.sig.args.len())
    };
    site::still_open(&site)?;
    let mut argv = vec![ptr::null_mut(); n];
    let words = match &site.sig.ret {
        ArgType::Struct(layout) => layout.size / 8 + 3,
        ArgType::Scalar(_) => 2,
    };
    let mut job = Box::new(AsyncCall {
        site: site.clone(),
        slots: vec![0; slot_count],
        ptrs: vec![ptr::null_mut(); slot_count],
        _scratch: Scratch::heap(),
        refs: Vec::new(),
        copies: Vec::new(),
        ret: vec![0; words],
        deferred,
        work: ptr::null_mut(),
        variadic: None,
    });
    // SAFETY (whole body): env/info belong to the current call; argv has n slots.
    unsafe {
        js::cb_info(env, info, &mut argv)?;
        let AsyncCall {
            slots,
            ptrs,
            _scratch,
            refs,
            variadic,
            ..
        } = &mut *job;
        // Typed tokens and getters of object arguments may run JS, which may close the
        // library (the signature is read until `begin_async` below).
        let pinned = site.env.pinned();
        let converted = if site.sig.variadic.is_some() {
            crate::variadic::convert(env, &site, &argv, slots, ptrs, _scratch, None)
                .map(|p| *variadic = Some(p))
        } else {
            call::convert_args(env, &site, &argv, slots, ptrs, _scratch, None)
        };
        // Keep every object argument alive until the call completes.
        for &v in &argv {
            if js::kind(env, v) == js::Kind::Object {
                let mut r = ptr::null_mut();
                js::check(
                    env,
                    sys::napi_create_reference(env, v, 1, &mut r),
                    "napi_create_reference",
                )?;
                refs.push(r);
            }
        }
        let converted = converted.and_then(|()| copy_buffers(env, &site, &argv, &mut job));
        drop(pinned);
        let converted = converted.and_then(|()| site::still_open(&site));
        if let Err(e) = converted {
            delete_refs(env, &mut job.refs);
            delete_copies(env, &mut job.copies);
            return Err(e);
        }
        if let Some(lib) = &site.owner {
            lib.begin_async();
        }
        let name = js::string(env, &site.name)?;
        let raw = Box::into_raw(job);
        let status = sys::napi_create_async_work(
            env,
            ptr::null_mut(),
            name,
            Some(execute),
            Some(complete),
            raw.cast(),
            &mut (*raw).work,
        );
        let status = if status == sys::Status::napi_ok {
            sys::napi_queue_async_work(env, (*raw).work)
        } else {
            status
        };
        if status != sys::Status::napi_ok {
            let mut job = Box::from_raw(raw);
            if !job.work.is_null() {
                sys::napi_delete_async_work(env, job.work);
            }
            delete_refs(env, &mut job.refs);
            delete_copies(env, &mut job.copies);
            if let Some(lib) = &site.owner {
                lib.end_async()?;
            }
            js::check(env, status, "napi_queue_async_work")?;
        }
        Ok(())
    }
}

/// Give C copies of the ArrayBuffer memory the arguments point into (buffer and pointer
/// arguments given as buffers; struct arguments, which libffi copies from again on the
/// worker thread). Refuses resizable buffers.
///
/// # Safety
/// `env` live; `argv` the call's values, converted into `job` by `convert_args`.
unsafe fn copy_buffers(
    env: napi_env,
    site: &CallSite,
    argv: &[napi_value],
    job: &mut AsyncCall,
) -> FfiResult<()> {
    // (argument index, ArrayBuffer, its base address, the view's address and length)
    let mut views: Vec<(usize, napi_value, usize, usize, usize)> = Vec::new();
    let is_struct = |i: usize| matches!(site.sig.args[i], ArgType::Struct(_));
    // SAFETY (whole body): env live; argv values of this call.
    unsafe {
        for (i, (ty, &v)) in site.sig.args.iter().zip(argv).enumerate() {
            let bufferish = matches!(
                ty,
                ArgType::Struct(_) | ArgType::Scalar(FfiType::Ptr | FfiType::Buffer)
            );
            if !bufferish || js::kind(env, v) != js::Kind::Object {
                continue;
            }
            let Ok(Some((data, len))) = convert::buffer_arg(env, v) else {
                continue;
            };
            let backing = js::view_buffer(env, v).unwrap_or(v);
            if !js::is_arraybuffer(env, backing) {
                continue; // a SharedArrayBuffer: stable memory, shared as is
            }
            if js::is_resizable(env, backing) {
                return Err(FfiError::type_error(format!(
                    "{}: args[{i}] is a resizable ArrayBuffer (or a view of one): nonblocking calls do not take resizable buffers (their memory can shrink while C uses it); pass a fixed-length ArrayBuffer",
                    site.name
                )));
            }
            if len == 0 {
                continue;
            }
            let Some((base, _)) = convert::buffer_bytes(env, backing) else {
                continue;
            };
            views.push((i, backing, base as usize, data as usize, len));
        }
        for &(i, backing, base, start, len) in &views {
            let end = start + len;
            if let Some(c) = job.copies.iter_mut().find(|c| c.base == base) {
                c.start = c.start.min(start);
                c.end = c.end.max(end);
                c.written |= !is_struct(i);
                continue;
            }
            let mut r = ptr::null_mut();
            js::check(
                env,
                sys::napi_create_reference(env, backing, 1, &mut r),
                "napi_create_reference",
            )?;
            job.copies.push(BufferCopy {
                buffer: r,
                base,
                start,
                end,
                block: Vec::new(),
                skew: 0,
                written: !is_struct(i),
            });
        }
        for c in &mut job.copies {
            let len = c.end - c.start;
            c.skew = c.start % 16;
            c.block = vec![0u128; (c.skew + len).div_ceil(16)];
            // SAFETY: [start, end) lies inside the attached ArrayBuffer (views of it checked
            // above, nothing ran since); the block has skew + len bytes; no overlap.
            ptr::copy_nonoverlapping(
                c.start as *const u8,
                c.block.as_mut_ptr().cast::<u8>().add(c.skew),
                len,
            );
        }
        for &(i, _, base, start, _) in &views {
            let Some(c) = job.copies.iter().find(|c| c.base == base) else {
                continue;
            };
            let copy = c.copy_address(start);
            match site.sig.args[i] {
                ArgType::Struct(_) => job.ptrs[i] = copy as *mut c_void,
                ArgType::Scalar(_) => job.slots[i] = copy as u64,
            }
        }
    }
    Ok(())
}

/// Write C's copies back into their buffers (JS thread, after the call). A buffer that was
/// detached, moved or shrunk meanwhile gets nothing, and the call fails.
///
/// # Safety
/// `env` live (the env that queued the call).
unsafe fn write_back(env: napi_env, name: &str, copies: &mut Vec<BufferCopy>) -> FfiResult<()> {
    let mut lost = false;
    for c in copies.drain(..) {
        // SAFETY: the reference is of this env, read then deleted once; the buffer's bytes
        // [start, end) are checked to be where they were before the copy goes back.
        unsafe {
            let mut v = ptr::null_mut();
            sys::napi_get_reference_value(env, c.buffer, &mut v);
            sys::napi_delete_reference(env, c.buffer);
            if !c.written {
                continue;
            }
            match convert::buffer_bytes(env, v) {
                Some((data, len)) if data as usize == c.base && c.base + len >= c.end => {
                    ptr::copy_nonoverlapping(
                        c.block.as_ptr().cast::<u8>().add(c.skew),
                        c.start as *mut u8,
                        c.end - c.start,
                    );
                }
                _ => lost = true,
            }
        }
    }
    if lost {
        return Err(FfiError::error(format!(
            "{name}: a buffer argument was detached or resized while the nonblocking call ran; what C wrote into it is lost (C wrote into ArkFFI's copy)"
        )));
    }
    Ok(())
}

unsafe fn delete_copies(env: napi_env, copies: &mut Vec<BufferCopy>) {
    for c in copies.drain(..) {
        // SAFETY: references of this env, deleted once.
        unsafe { sys::napi_delete_reference(env, c.buffer) };
    }
}

unsafe fn delete_refs(env: napi_env, refs: &mut Vec<napi_ref>) {
    for r in refs.drain(..) {
        // SAFETY: references of this env, deleted once.
        unsafe { sys::napi_delete_reference(env, r) };
    }
}

/// Worker thread: the C call itself. No NAPI here.
unsafe extern "C" fn execute(_env: napi_env, data: *mut c_void) {
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: data is the AsyncCall queued by `queue`, owned by this work until `complete`.
        let job = unsafe { &mut *data.cast::<AsyncCall>() };
        // SAFETY: ptrs point at the slots, owned strings and referenced buffers of this call;
        // ret has room for the result (see `queue`).
        unsafe {
            match &job.variadic {
                Some(p) => {
                    crate::variadic::ffi(&job.site, p, job.ret.as_mut_ptr().cast(), &mut job.ptrs)
                }
                None => call::ffi(&job.site, job.ret.as_mut_ptr().cast(), &mut job.ptrs),
            }
        };
    });
}

/// JS thread: settle the Promise and release what the call held.
unsafe extern "C" fn complete(env: napi_env, status: sys::napi_status, data: *mut c_void) {
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: data is the AsyncCall queued by `queue`; completion runs once.
        let mut job = unsafe { Box::from_raw(data.cast::<AsyncCall>()) };
        // SAFETY: env is the live env of the JS thread completing the work.
        unsafe {
            let written = write_back(env, &job.site.name, &mut job.copies);
            delete_refs(env, &mut job.refs);
            sys::napi_delete_async_work(env, job.work);
            let mut result = if status != sys::Status::napi_ok {
                Err(FfiError::error(format!(
                    "{}: the nonblocking call was cancelled",
                    job.site.name
                )))
            } else if let Err(e) = written {
                Err(e)
            } else {
                match &job.site.sig.ret {
                    ArgType::Scalar(t) => convert::to_js(env, *t, job.ret[0]),
                    ArgType::Struct(layout) => call::struct_result_to_js(
                        env,
                        &job.site.sig,
                        layout,
                        job.ret.as_ptr().cast(),
                    ),
                }
            };
            if let Some(lib) = &job.site.owner {
                if let Err(e) = lib.end_async() {
                    result = Err(e);
                }
            }
            match result {
                Ok(v) => sys::napi_resolve_deferred(env, job.deferred, v),
                Err(e) => {
                    let err = e.to_js(env);
                    sys::napi_reject_deferred(env, job.deferred, err)
                }
            };
        }
    });
}
