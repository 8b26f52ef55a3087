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
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use libffi::low::ffi_cif;
use napi_ohos::sys;
use napi_ohos::sys::{napi_env, napi_ref, napi_value};
use once_cell::sync::Lazy;
use parking_lot::Mutex;

use crate::boundary::fatal;
use crate::convert;
use crate::env_state;
use crate::error::{FfiError, FfiResult};
use crate::invoke::{free, invoke_here, CallbackState};
use crate::js;
use crate::relay::{self, invoke_remote};
use crate::signature::{ArgType, Signature};
use crate::slots;
use crate::types::FfiType;

/// A unique number per live thread, cheap to read: the thread pointer (x86_64: the thread
/// control block's self pointer at `fs:0`, the same in glibc and musl; aarch64: `tpidr_el0`),
/// one instruction instead of a thread-local lookup, which a shared library pays for with a
/// `__tls_get_addr` call. Other targets: the address of a thread-local.
#[inline(always)]
fn thread_mark() -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        let tp: usize;
        // SAFETY: on Linux fs:0 holds the thread control block's address (every thread has
        // one: the C library sets it up before the thread runs); the load has no side effect.
        unsafe {
            std::arch::asm!("mov {}, fs:0", out(reg) tp, options(nostack, preserves_flags, readonly, pure))
        };
        tp
    }
    #[cfg(target_arch = "aarch64")]
    {
        let tp: usize;
        // SAFETY: reading the EL0 thread pointer register has no side effect; the C library
        // sets it for every thread before the thread runs.
        unsafe {
            std::arch::asm!("mrs {}, tpidr_el0", out(reg) tp, options(nomem, nostack, preserves_flags, pure))
        };
        tp
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        thread_local! { static MARK: u8 = const { 0 }; }
        MARK.with(|m| m as *const u8 as usize)
    }
}

/// A callback's key (its JS handle, and the user data of its slot's closure):
/// `serial << SLOT_BITS | slot`, a whole number below 2^53. The serial tells a callback apart
/// from a later one in the same slot.
const SLOT_BITS: u32 = 16;
const _: () = assert!(slots::SLOT_COUNT <= 1 << SLOT_BITS);

/// Serials of callbacks, one per `new JSCallback` (2^37 of them fit in a key).
static SERIAL: AtomicU64 = AtomicU64::new(1);

/// A slot's open callback, if any.
type Open = Mutex<Option<Arc<CallbackState>>>;

/// The open callbacks, by slot.
static OPEN: Lazy<Box<[Open]>> =
    Lazy::new(|| (0..slots::SLOT_COUNT).map(|_| Mutex::new(None)).collect());

/// How many callbacks are open (created and not closed).
static OPEN_COUNT: AtomicUsize = AtomicUsize::new(0);

fn slot_of(key: u64) -> usize {
    (key & ((1 << SLOT_BITS) - 1)) as usize
}

/// The open callback of `key`, if it is still open.
fn open_state(key: u64) -> Option<Arc<CallbackState>> {
    let open = OPEN.get(slot_of(key))?.lock();
    open.as_ref().filter(|s| s.key == key).cloned()
}

/// Takes the open callback of `key` out of the table (it is closed from now on).
fn take_open(key: u64, env: napi_env) -> Option<Arc<CallbackState>> {
    let mut open = OPEN.get(slot_of(key))?.lock();
    if !open.as_ref().is_some_and(|s| s.key == key && s.env == env) {
        return None;
    }
    OPEN_COUNT.fetch_sub(1, Ordering::AcqRel);
    open.take()
}

/// Number of callbacks created and not yet closed.
pub fn live_count() -> usize {
    OPEN_COUNT.load(Ordering::Acquire)
}

/// `new JSCallback(fn, { args, returns, threadsafe })`: returns (key, code address).
///
/// # Safety
/// `env` live; `func` a function of it.
pub unsafe fn create(
    env: napi_env,
    func: napi_value,
    sig: Arc<Signature>,
    threadsafe: bool,
) -> FfiResult<(u64, usize)> {
    let Ok(slot) = slots::take() else {
        return Err(FfiError::error(format!(
            "JSCallback: all {} callback slots are in use ({} callbacks open); close() the callbacks you no longer need",
            slots::SLOT_COUNT,
            live_count()
        )));
    };
    // SAFETY: env/func belong to the current call.
    let made = unsafe { make(env, func, sig, threadsafe, slot) };
    if made.is_err() {
        // SAFETY: the slot was taken above and is not armed or held by anything.
        unsafe { slots::release(slot) };
    }
    made
}

/// The body of `create`, once a slot is taken.
///
/// # Safety
/// As `create`; `slot` was taken and is armed here or given back by the caller on error.
unsafe fn make(
    env: napi_env,
    func: napi_value,
    sig: Arc<Signature>,
    threadsafe: bool,
    slot: u32,
) -> FfiResult<(u64, usize)> {
    // SAFETY (whole body): env/func belong to the current call; raw napi calls get valid
    // arguments as commented.
    unsafe {
        let shared = env_state::get(env)?.shared().clone();
        // The env's relay of calls from other threads: one per env, shared by its threadsafe
        // callbacks (so that making and closing one allocates nothing the event loop frees).
        let tsfn = if threadsafe {
            Some(relay::of_env(env)?)
        } else {
            None
        };
        let mut func_ref: napi_ref = ptr::null_mut();
        js::check(
            env,
            sys::napi_create_reference(env, func, 1, &mut func_ref),
            "napi_create_reference",
        )?;
        let key = SERIAL.fetch_add(1, Ordering::Relaxed) << SLOT_BITS | u64::from(slot);
        let state = Arc::new(CallbackState {
            key,
            sig,
            env,
            owner: thread_mark(),
            shared,
            func: func_ref,
            tsfn,
            slot,
            closed: AtomicBool::new(false),
            active: AtomicUsize::new(0),
            freed: AtomicBool::new(false),
            last_string: Mutex::new(None),
        });
        // Floating-point and struct arguments may come in vector registers: the entry that
        // saves them too.
        let vector_args = state.sig.args.iter().any(|a| {
            matches!(
                a,
                ArgType::Struct(_) | ArgType::Scalar(FfiType::F32 | FfiType::F64)
            )
        });
        // When the env goes away (a Worker or TaskPool thread ends) its open callbacks are
        // closed. Registered after the env's relay, so this hook runs before the relay's
        // (hooks run in reverse order).
        let status = sys::napi_add_env_cleanup_hook(env, Some(env_teardown), key as *mut c_void);
        if status != sys::Status::napi_ok {
            sys::napi_delete_reference(env, func_ref);
            js::check(env, status, "napi_add_env_cleanup_hook")?;
        }
        // SAFETY: the CIF lives in state.sig, which outlives the slot (free() gives the slot
        // back while the state is alive); user_data is the key, which handler looks up.
        slots::arm(
            slot,
            state.sig.cif_ptr(),
            handler,
            key as usize as *mut c_void,
            vector_args,
        );
        let code = state.code();
        *OPEN[slot as usize].lock() = Some(state);
        OPEN_COUNT.fetch_add(1, Ordering::AcqRel);
        Ok((key, code))
    }
}

/// `close()`: the pointer stops being valid; the slot and the reference to the JS function
/// are given back (at once, or when the invocations running now end). Closing twice, an
/// unknown key, or the key of another env's callback, does nothing.
///
/// # Safety
/// `env` is the live env of the current call.
pub unsafe fn close(env: napi_env, key: u64) {
    let Some(state) = take_open(key, env) else {
        return;
    };
    // SAFETY: owner thread (the state's env is this call's); the hook was added with exactly
    // this function and argument.
    unsafe {
        sys::napi_remove_env_cleanup_hook(
            state.env,
            Some(env_teardown),
            key as usize as *mut c_void,
        )
    };
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
        let key = arg as usize as u64;
        let Some(state) = open_state(key) else {
            return;
        };
        let Some(state) = take_open(key, state.env) else {
            return;
        };
        state.closed.store(true, Ordering::Release);
        // SAFETY: the env's own thread, during its teardown: no invocation is running.
        unsafe { free(&state) };
    });
}

/// The libffi closure entry: runs on whatever thread C called the pointer from.
unsafe extern "C" fn handler(
    _cif: *mut ffi_cif,
    ret: *mut c_void,
    args: *mut *mut c_void,
    user_data: *mut c_void,
) {
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // The state with a count of its own, taken before anything else can close it on this
        // thread (a foreign thread calling a closed callback is the app's bug, as in C).
        let Some(state) = open_state(user_data as usize as u64) else {
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

/// The key of a callback handle value (the number made by `handle`), if it is one.
///
/// # Safety
/// `env` live; `v` a value of it.
pub unsafe fn key_of(env: napi_env, v: napi_value) -> Option<u64> {
    // SAFETY: forwarded contract.
    let n = unsafe { js::get_f64(env, v) }?;
    convert::exact_whole(n).map(|k| k as u64)
}

/// A callback's JS handle: its key as a number (nothing for a finalizer to free). It never
/// frees the callback: a JSCallback lives until close(), since C may still hold its pointer.
///
/// # Safety
/// `env` live.
pub unsafe fn handle(env: napi_env, key: u64) -> FfiResult<napi_value> {
    // SAFETY: forwarded contract.
    unsafe { js::number(env, key as f64) }
}
