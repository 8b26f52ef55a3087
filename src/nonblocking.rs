//! Nonblocking calls (`nonblocking: true`): the arguments are converted on the JS thread
//! into storage the call owns (strings copied, buffers and struct arguments referenced so
//! they stay alive), the C function runs on a worker thread (napi async work), and the
//! returned Promise settles on the JS thread with the converted result.

use std::ffi::c_void;
use std::ptr;
use std::sync::Arc;

use napi_ohos::sys;
use napi_ohos::sys::{napi_callback_info, napi_deferred, napi_env, napi_ref, napi_value};

use crate::boundary;
use crate::call::{self, CallSite};
use crate::convert::{self, Scratch};
use crate::error::{FfiError, FfiResult};
use crate::js;
use crate::signature::ArgType;

/// One nonblocking call in flight.
struct AsyncCall {
    site: Arc<CallSite>,
    slots: Vec<u64>,
    ptrs: Vec<*mut c_void>,
    /// Owns the C strings `ptrs` point to (heap buffers: moving the call keeps them put).
    _scratch: Scratch<'static>,
    /// The JS objects (buffers, struct buffers) whose memory `ptrs` point into.
    refs: Vec<napi_ref>,
    ret: Vec<u64>,
    deferred: napi_deferred,
    work: sys::napi_async_work,
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
        let site_ref = call::site_of(data);
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
    call::check_call(&site, argc)?;
    let n = site.sig.args.len();
    let mut argv = vec![ptr::null_mut(); n];
    let words = match &site.sig.ret {
        ArgType::Struct(layout) => layout.size / 8 + 3,
        ArgType::Scalar(_) => 2,
    };
    let mut job = Box::new(AsyncCall {
        site: site.clone(),
        slots: vec![0; n],
        ptrs: vec![ptr::null_mut(); n],
        _scratch: Scratch::heap(),
        refs: Vec::new(),
        ret: vec![0; words],
        deferred,
        work: ptr::null_mut(),
    });
    // SAFETY (whole body): env/info belong to the current call; argv has n slots.
    unsafe {
        js::cb_info(env, info, &mut argv)?;
        let AsyncCall {
            slots,
            ptrs,
            _scratch,
            refs,
            ..
        } = &mut *job;
        let converted = call::convert_args(env, &site, &argv, slots, ptrs, _scratch);
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
        if let Err(e) = converted {
            delete_refs(env, &mut job.refs);
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
            if let Some(lib) = &site.owner {
                lib.end_async()?;
            }
            js::check(env, status, "napi_queue_async_work")?;
        }
        Ok(())
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
        unsafe { call::ffi(&job.site, job.ret.as_mut_ptr().cast(), &mut job.ptrs) };
    });
}

/// JS thread: settle the Promise and release what the call held.
unsafe extern "C" fn complete(env: napi_env, status: sys::napi_status, data: *mut c_void) {
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: data is the AsyncCall queued by `queue`; completion runs once.
        let mut job = unsafe { Box::from_raw(data.cast::<AsyncCall>()) };
        // SAFETY: env is the live env of the JS thread completing the work.
        unsafe {
            delete_refs(env, &mut job.refs);
            sys::napi_delete_async_work(env, job.work);
            let mut result = if status != sys::Status::napi_ok {
                Err(FfiError::error(format!(
                    "{}: the nonblocking call was cancelled",
                    job.site.name
                )))
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
