//! JS callbacks: a JS function behind a C function pointer.
//!
//! The pointer is a slot of the table compiled into the library (`slots`): no code is mapped
//! at run time. libffi decodes the arguments and writes the result. This module is the
//! callback's life (create, close, the env's teardown) and the entry every call of a slot
//! reaches (`handler`); `invoke` runs the JS function on its own thread, `relay` brings calls
//! from other threads to it.
//!
//! A call arrives on the thread C runs on:
//! - on the JS thread that created the callback: the JS function runs at once;
//! - on another thread, with `threadsafe: true`: the call is queued to the JS thread
//!   (napi threadsafe function); the C thread waits for the result unless the result is void;
//! - on another thread without `threadsafe`: the process aborts with a clear message (running
//!   JS there would corrupt the engine).
//!
//! A JS exception (or a result of the wrong type) never unwinds through C frames: C gets the
//! zero value of the result type and the error is thrown to the JS caller when the outer FFI
//! call returns, or reported as an uncaught exception when there is none.

use std::ffi::c_void;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::Arc;

use libffi::low::ffi_cif;
use napi_ohos::sys;
use napi_ohos::sys::{napi_env, napi_ref, napi_value};
use once_cell::sync::Lazy;
use parking_lot::Mutex;

use crate::addr_map::AddrMap;
use crate::boundary::fatal;
use crate::env_state;
use crate::error::{FfiError, FfiResult};
use crate::invoke::{free, invoke_here, release_handles, CallbackState, NO_SLOT};
use crate::js;
use crate::relay::{call_js, invoke_remote};
use crate::signature::{ArgType, Signature};
use crate::slots;
use crate::types::FfiType;

/// A unique number per live thread, cheap to read (no Arc clone as with thread::current()).
fn thread_mark() -> usize {
    thread_local! { static MARK: u8 = const { 0 }; }
    MARK.with(|m| m as *const u8 as usize)
}

/// Every open callback, by the address of its state (the JS handle holds that address).
static LIVE: Lazy<Mutex<AddrMap<Arc<CallbackState>>>> =
    Lazy::new(|| Mutex::new(AddrMap::default()));

/// Number of callbacks created and not yet closed.
pub fn live_count() -> usize {
    LIVE.lock().len()
}

/// `new JSCallback(fn, { args, returns, threadsafe })`: returns (handle key, code address).
///
/// # Safety
/// `env` live; `func` a function of it.
pub unsafe fn create(
    env: napi_env,
    func: napi_value,
    sig: Signature,
    threadsafe: bool,
) -> FfiResult<(usize, usize)> {
    // SAFETY (whole body): env/func belong to the current call; raw libffi and napi calls get
    // valid arguments as commented.
    unsafe {
        let shared = env_state::get(env)?.shared().clone();
        let mut func_ref: napi_ref = ptr::null_mut();
        js::check(
            env,
            sys::napi_create_reference(env, func, 1, &mut func_ref),
            "napi_create_reference",
        )?;
        let mut tsfn = None;
        if threadsafe {
            let mut t: sys::napi_threadsafe_function = ptr::null_mut();
            let name = js::string(env, "arkffi JSCallback")?;
            let status = sys::napi_create_threadsafe_function(
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
            );
            if status != sys::Status::napi_ok {
                sys::napi_delete_reference(env, func_ref);
                js::check(env, status, "napi_create_threadsafe_function")?;
            }
            // A callback must not keep the app's event loop alive by itself.
            sys::napi_unref_threadsafe_function(env, t);
            tsfn = Some(t);
        }
        let state = Arc::new(CallbackState {
            sig,
            env,
            owner: thread_mark(),
            shared,
            func: func_ref,
            tsfn,
            slot: AtomicU32::new(NO_SLOT),
            closed: AtomicBool::new(false),
            active: AtomicUsize::new(0),
            freed: AtomicBool::new(false),
            last_string: Mutex::new(None),
        });
        let key = Arc::as_ptr(&state) as usize;
        // Floating-point and struct arguments may come in vector registers: the entry that
        // saves them too.
        let vector_args = state.sig.args.iter().any(|a| {
            matches!(
                a,
                ArgType::Struct(_) | ArgType::Scalar(FfiType::F32 | FfiType::F64)
            )
        });
        // SAFETY: the CIF lives in state.sig, which outlives the slot (the slot is given back
        // by free(), before the state can go); user_data is the state's key, which handler
        // looks up in LIVE.
        match slots::acquire(
            state.sig.cif_ptr(),
            handler,
            key as *mut c_void,
            vector_args,
        ) {
            Ok(slot) => state.slot.store(slot, Ordering::Release),
            Err(slots::Exhausted) => {
                release_handles(env, func_ref, tsfn);
                return Err(FfiError::error(format!(
                    "JSCallback: all {} callback slots are in use ({} callbacks open); close() the callbacks you no longer need",
                    slots::SLOT_COUNT,
                    live_count()
                )));
            }
        }
        let code = state.code();
        LIVE.lock().insert(key, state);
        // When the env goes away (a Worker or TaskPool thread ends) its open callbacks are
        // closed. Registered after the threadsafe function, so this hook runs before the
        // engine tears that function down (hooks run in reverse order).
        let status = sys::napi_add_env_cleanup_hook(env, Some(env_teardown), key as *mut c_void);
        if status != sys::Status::napi_ok {
            close(key);
            js::check(env, status, "napi_add_env_cleanup_hook")?;
        }
        Ok((key, code))
    }
}

/// `close()`: the pointer stops being valid; the trampoline, the threadsafe function and the
/// reference to the JS function are freed (at once, or when the invocations running now end).
/// Closing twice, or an unknown key, does nothing.
///
/// # Safety
/// On the owner JS thread of the callback (the handle only exists in that env).
pub unsafe fn close(key: usize) {
    let Some(state) = LIVE.lock().remove(&key) else {
        return;
    };
    // SAFETY: owner thread; the hook was added with exactly this function and argument.
    unsafe { sys::napi_remove_env_cleanup_hook(state.env, Some(env_teardown), key as *mut c_void) };
    state.closed.store(true, Ordering::Release);
    if state.active.load(Ordering::Acquire) == 0 {
        // SAFETY: owner thread; no invocation is running.
        unsafe { free(&state) };
    }
    // Otherwise the last running invocation frees it (it holds its own Arc).
}

/// The env of a callback is being torn down: close it (nothing of that env can call it any
/// more, and C calls after this point are the app's bug as after close()).
unsafe extern "C" fn env_teardown(arg: *mut c_void) {
    let _ = std::panic::catch_unwind(|| {
        let Some(state) = LIVE.lock().remove(&(arg as usize)) else {
            return;
        };
        state.closed.store(true, Ordering::Release);
        // SAFETY: the env's own thread, during its teardown: no invocation is running.
        unsafe { free(&state) };
    });
}

/// The state behind a closure's user data, with a count of its own (taken before anything
/// else can close it on this thread; a foreign thread calling a closed callback is the app's
/// bug, as in C).
unsafe fn state_of(user_data: *mut c_void) -> Option<Arc<CallbackState>> {
    LIVE.lock().get(&(user_data as usize)).cloned()
}

/// The libffi closure entry: runs on whatever thread C called the pointer from.
unsafe extern "C" fn handler(
    _cif: *mut ffi_cif,
    ret: *mut c_void,
    args: *mut *mut c_void,
    user_data: *mut c_void,
) {
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: libffi passes the closure's user data (a state key).
        let Some(state) = (unsafe { state_of(user_data) }) else {
            fatal("a closed JSCallback was called from C: the C library kept its pointer after close()");
        };
        // SAFETY: ret/args are libffi's buffers for this call, shaped by state.sig.
        unsafe {
            if thread_mark() == state.owner {
                invoke_here(&state, ret, args);
            } else if state.tsfn.is_some() {
                invoke_remote(&state, ret, args);
            } else {
                fatal(&format!(
                    "{} was called from a thread that is not the JS thread that created it; create it with {{ threadsafe: true }} to call it from other threads",
                    state.name()
                ));
            }
        }
    }));
    if outcome.is_err() {
        fatal("internal error (panic) in a JSCallback trampoline");
    }
}

/// The key of a callback handle value (an external made by `handle`), if it is one of ours
/// and still open.
///
/// # Safety
/// `env` live; `v` a value of it.
pub unsafe fn key_of(env: napi_env, v: napi_value) -> Option<usize> {
    let mut data: *mut c_void = ptr::null_mut();
    // SAFETY: fails with a status for values that are not externals.
    if unsafe { sys::napi_get_value_external(env, v, &mut data) } != sys::Status::napi_ok {
        return None;
    }
    Some(data as usize)
}

/// A JS external carrying a callback's key. It never frees the callback: a JSCallback lives
/// until close(), since C may still hold its pointer.
///
/// # Safety
/// `env` live.
pub unsafe fn handle(env: napi_env, key: usize) -> FfiResult<napi_value> {
    unsafe extern "C" fn no_op(_env: napi_env, _data: *mut c_void, _hint: *mut c_void) {}
    let mut v = ptr::null_mut();
    // SAFETY: env live; the data is a plain key, never dereferenced through the external.
    unsafe {
        js::check(
            env,
            sys::napi_create_external(
                env,
                key as *mut c_void,
                Some(no_op),
                ptr::null_mut(),
                &mut v,
            ),
            "napi_create_external",
        )?;
    }
    Ok(v)
}
