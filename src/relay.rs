//! Calls of a threadsafe JSCallback from other threads: the call is copied out of C's frame
//! and queued to the callback's JS thread (napi threadsafe function); the C thread waits for
//! the result (not for void callbacks), and gives up with a zero result when the JS thread is
//! stuck in the synchronous FFI call that is most likely waiting for that very thread.

use std::ffi::{c_char, c_void, CString};
use std::ptr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use napi_ohos::sys;
use napi_ohos::sys::{napi_env, napi_value};
use once_cell::sync::Lazy;
use parking_lot::{Condvar, Mutex};

use crate::addr_map::AddrMap;
use crate::convert;
use crate::env_state::Deferred;
use crate::error::FfiResult;
use crate::invoke::{call_function, finish, report, result_bytes, zero_result, CallbackState};
use crate::js;
use crate::signature::ArgType;
use crate::types::FfiType;

/// How long a foreign thread waits for its queued call while the callback's JS thread stays
/// inside one and the same synchronous FFI call, before it concludes that this call is waiting
/// for it (a deadlock) and gives up.
pub const STUCK_AFTER: Duration = Duration::from_millis(1000);

const QUEUED: u8 = 0;
const RUNNING: u8 = 1;
const DONE: u8 = 2;
const CANCELLED: u8 = 3;

/// An argument copied out of C's frame, so that it outlives the C call.
enum Owned {
    Raw(u64),
    Str(Option<CString>),
    Struct(Vec<u8>),
}

struct RemoteCall {
    state: Arc<CallbackState>,
    args: Vec<Owned>,
    phase: AtomicU8,
    result: Mutex<Option<Vec<u8>>>,
    ready: Condvar,
}

pub(crate) unsafe fn invoke_remote(
    state: &Arc<CallbackState>,
    ret: *mut c_void,
    args: *mut *mut c_void,
) {
    // SAFETY: args are libffi's argument pointers, shaped by state.sig.
    let owned: Vec<Owned> = unsafe {
        state
            .sig
            .args
            .iter()
            .enumerate()
            .map(|(i, ty)| {
                let at = *args.add(i);
                match ty {
                    ArgType::Scalar(FfiType::CString) => {
                        let p = *(at as *const *const c_char);
                        Owned::Str((!p.is_null()).then(|| std::ffi::CStr::from_ptr(p).to_owned()))
                    }
                    ArgType::Scalar(t) => Owned::Raw(crate::structs::read_raw(at.cast(), t.size())),
                    ArgType::Struct(l) => {
                        Owned::Struct(std::slice::from_raw_parts(at.cast::<u8>(), l.size).to_vec())
                    }
                }
            })
            .collect()
    };
    let call = Arc::new(RemoteCall {
        state: state.clone(),
        args: owned,
        phase: AtomicU8::new(QUEUED),
        result: Mutex::new(None),
        ready: Condvar::new(),
    });
    let Some(tsfn) = state.tsfn else { return };
    let data = Arc::into_raw(call.clone()) as *mut c_void;
    // SAFETY: the threadsafe function may be called from any thread; data is released by
    // call_js (or when the function is torn down, where call_js gets a NULL env).
    let status = unsafe {
        sys::napi_call_threadsafe_function(tsfn, data, sys::ThreadsafeFunctionCallMode::blocking)
    };
    if status != sys::Status::napi_ok {
        // Closing: the JS function will not run.
        // SAFETY: not queued; the count is still ours.
        drop(unsafe { Arc::from_raw(data as *const RemoteCall) });
        unsafe { zero_result(&state.sig, ret) };
        return;
    }
    if state.sig.ret.is_void() {
        return; // fire and forget: C does not wait for a void callback
    }
    let mut seen: Option<(u64, Instant)> = None;
    let mut result = call.result.lock();
    loop {
        if let Some(bytes) = result.take() {
            // SAFETY: ret holds the result type; bytes has its size (zeroed when JS failed).
            unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), ret.cast::<u8>(), bytes.len()) };
            return;
        }
        call.ready.wait_for(&mut result, Duration::from_millis(20));
        if call.phase.load(Ordering::Acquire) != QUEUED {
            continue;
        }
        // Still queued: is the JS thread stuck in one synchronous FFI call (most likely the one
        // that waits for this thread)?
        match (state.shared.current_call(), seen) {
            (Some(n), Some((m, since))) if n == m => {
                if since.elapsed() >= STUCK_AFTER
                    && call
                        .phase
                        .compare_exchange(QUEUED, CANCELLED, Ordering::AcqRel, Ordering::Acquire)
                        .is_ok()
                {
                    let msg = format!(
                        "{} was called from another thread while its JS thread was blocked in a synchronous FFI call for over {} ms (probably waiting for that thread): the callback did not run and C got a zero result. Make the blocking call with {{ nonblocking: true }}.",
                        state.name(),
                        STUCK_AFTER.as_millis()
                    );
                    let _ = state.shared.defer(Deferred::Message(msg));
                    // SAFETY: ret holds the result type.
                    unsafe { zero_result(&state.sig, ret) };
                    return;
                }
            }
            (Some(n), _) => seen = Some((n, Instant::now())),
            (None, _) => seen = None,
        }
    }
}

/// The threadsafe function's dispatcher, on the JS thread (or with a NULL env while the
/// function is torn down).
unsafe extern "C" fn call_js(
    env: napi_env,
    _js_cb: napi_value,
    _context: *mut c_void,
    data: *mut c_void,
) {
    // SAFETY: data is the Arc<RemoteCall> count queued by invoke_remote.
    let call = unsafe { Arc::from_raw(data as *const RemoteCall) };
    let state = &call.state;
    let size = match &state.sig.ret {
        ArgType::Scalar(FfiType::Void) => 0,
        ArgType::Scalar(_) => 8,
        ArgType::Struct(l) => l.size,
    };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        if env.is_null() || state.closed.load(Ordering::Acquire) {
            deliver(&call, vec![0; size]);
            return;
        }
        if call
            .phase
            .compare_exchange(QUEUED, RUNNING, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return; // cancelled by the waiting thread
        }
        state.active.fetch_add(1, Ordering::AcqRel);
        // SAFETY: on the owner JS thread (the threadsafe function's env).
        unsafe {
            let mut scope = ptr::null_mut();
            sys::napi_open_handle_scope(env, &mut scope);
            let out = (|| -> FfiResult<Vec<u8>> {
                let mut argv = Vec::with_capacity(call.args.len());
                let mut structs: Vec<Vec<u8>> = Vec::new();
                for (arg, ty) in call.args.iter().zip(state.sig.args.iter()) {
                    argv.push(match (arg, ty) {
                        (Owned::Raw(raw), ArgType::Scalar(t)) => convert::to_js(env, *t, *raw)?,
                        (Owned::Str(Some(s)), _) => convert::utf8_to_js(env, s.as_bytes())?,
                        (Owned::Str(None), _) => js::null(env)?,
                        (Owned::Struct(bytes), _) => {
                            structs.push(bytes.clone());
                            let last = structs.last().map_or(ptr::null(), |b| b.as_ptr());
                            convert::pointer_to_js(env, last as usize)?
                        }
                        (Owned::Raw(_), ArgType::Struct(_)) => js::undefined(env)?,
                    });
                }
                let v = call_function(env, state, &argv)?;
                result_bytes(env, state, v)
            })();
            match out {
                Ok(bytes) => deliver(&call, bytes),
                Err(e) => {
                    // The waiting C thread gets its zero result first: reporting may end the
                    // process (an uncaught exception), whose exit joins the thread pool, where
                    // a worker may be waiting for that very C thread.
                    deliver(&call, vec![0; size]);
                    report(env, state, e);
                }
            }
            sys::napi_close_handle_scope(env, scope);
        }
        finish(state);
    }));
    if outcome.is_err() {
        // A panic: the C thread must not wait for ever.
        deliver(&call, vec![0; size]);
    }
}

/// Hands the result to the waiting C thread (once: a later delivery is ignored).
fn deliver(call: &RemoteCall, bytes: Vec<u8>) {
    if call.phase.swap(DONE, Ordering::AcqRel) == DONE {
        return;
    }
    *call.result.lock() = Some(bytes);
    call.ready.notify_all();
}

/// A threadsafe function handle that may move between threads (napi documents its call and
/// release functions as callable from any thread).
struct Relay(sys::napi_threadsafe_function);
// SAFETY: see above; it is created, referenced and unreferenced on its env's thread only.
unsafe impl Send for Relay {}

/// The relay of each env that has threadsafe callbacks, by env.
static RELAYS: Lazy<Mutex<AddrMap<Relay>>> = Lazy::new(|| Mutex::new(AddrMap::default()));

/// The env's relay: one napi threadsafe function that every threadsafe callback of the env
/// queues its calls to (the call says which callback), made on first use and released when
/// the env is torn down. It does not keep the event loop alive.
///
/// # Safety
/// `env` is the live env of the current call, on its thread.
pub(crate) unsafe fn of_env(env: napi_env) -> FfiResult<sys::napi_threadsafe_function> {
    let mut relays = RELAYS.lock();
    if let Some(r) = relays.get(&(env as usize)) {
        return Ok(r.0);
    }
    // SAFETY (whole body): env live, on its thread; out slots valid.
    unsafe {
        unsafe extern "C" fn unused(_env: napi_env, _info: sys::napi_callback_info) -> napi_value {
            ptr::null_mut()
        }
        // The JS function of the threadsafe function is never called (call_js runs each
        // callback's own function); engines differ on whether it may be absent.
        let func = js::function(env, "arkffi relay", Some(unused), ptr::null_mut())?;
        let name = js::string(env, "arkffi JSCallback relay")?;
        let mut t: sys::napi_threadsafe_function = ptr::null_mut();
        js::check(
            env,
            sys::napi_create_threadsafe_function(
                env,
                func,
                ptr::null_mut(),
                name,
                0,
                1,
                ptr::null_mut(),
                None,
                ptr::null_mut(),
                Some(call_js),
                &mut t,
            ),
            "napi_create_threadsafe_function",
        )?;
        // Threadsafe callbacks must not keep the app's event loop alive by themselves.
        sys::napi_unref_threadsafe_function(env, t);
        let status = sys::napi_add_env_cleanup_hook(env, Some(env_teardown), env as *mut c_void);
        if status != sys::Status::napi_ok {
            sys::napi_release_threadsafe_function(t, sys::ThreadsafeFunctionReleaseMode::abort);
            js::check(env, status, "napi_add_env_cleanup_hook")?;
        }
        relays.insert(env as usize, Relay(t));
        Ok(t)
    }
}

/// The env is torn down (after its callbacks, whose hooks were added later): calls still
/// queued get zero results (call_js with no env), and the relay goes.
unsafe extern "C" fn env_teardown(env: *mut c_void) {
    let _ = std::panic::catch_unwind(|| {
        if let Some(r) = RELAYS.lock().remove(&(env as usize)) {
            // SAFETY: the relay is released once, here.
            unsafe {
                sys::napi_release_threadsafe_function(
                    r.0,
                    sys::ThreadsafeFunctionReleaseMode::abort,
                )
            };
        }
    });
}
