//! JS callbacks: a JS function behind a C function pointer.
//!
//! The pointer is a libffi closure. The bundled libffi is built with static trampolines
//! (FFI_EXEC_STATIC_TRAMP): the trampoline code is mapped from the library file itself, so no
//! writable+executable or anonymous executable memory is ever requested (HarmonyOS 5 forbids
//! both).
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

use std::ffi::{c_char, c_void, CString};
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use libffi::low::ffi_cif;
use libffi::raw::{
    ffi_closure, ffi_closure_alloc, ffi_closure_free, ffi_prep_closure_loc, ffi_status_FFI_OK,
};
use napi_ohos::sys;
use napi_ohos::sys::{napi_env, napi_ref, napi_value};
use once_cell::sync::Lazy;
use parking_lot::{Condvar, Mutex};

use crate::addr_map::AddrMap;
use crate::convert::{self, Scratch};
use crate::env_state::{self, Deferred, EnvShared, SendRef};
use crate::error::{FfiError, FfiResult};
use crate::js;
use crate::signature::{ArgType, Signature};
use crate::types::FfiType;

/// How long a foreign thread waits for its queued call while the callback's JS thread stays
/// inside one and the same synchronous FFI call, before it concludes that this call is waiting
/// for it (a deadlock) and gives up.
pub const STUCK_AFTER: Duration = Duration::from_millis(1000);

/// A unique number per live thread, cheap to read (no Arc clone as with thread::current()).
fn thread_mark() -> usize {
    thread_local! { static MARK: u8 = const { 0 }; }
    MARK.with(|m| m as *const u8 as usize)
}

/// Every open callback, by the address of its state (the JS handle holds that address).
static LIVE: Lazy<Mutex<AddrMap<Arc<CallbackState>>>> =
    Lazy::new(|| Mutex::new(AddrMap::default()));

pub struct CallbackState {
    name: String,
    sig: Signature,
    /// The env and thread that own the JS function.
    env: napi_env,
    owner: usize,
    shared: Arc<EnvShared>,
    func: napi_ref,
    tsfn: Option<sys::napi_threadsafe_function>,
    closure: *mut ffi_closure,
    closed: AtomicBool,
    /// Invocations running now (JS thread or queued from other threads and started).
    active: AtomicUsize,
    freed: AtomicBool,
    /// The C string of the last CString result (valid until the next call or close()).
    last_string: Mutex<Option<CString>>,
}

// SAFETY: the napi handles (env, func, tsfn) are only used on the owner thread, except
// tsfn, whose call function is documented as callable from any thread; the closure is freed
// once, on the owner thread; everything else is atomics or locks.
unsafe impl Send for CallbackState {}
// SAFETY: as above.
unsafe impl Sync for CallbackState {}

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
        let mut code: *mut c_void = ptr::null_mut();
        let closure =
            ffi_closure_alloc(std::mem::size_of::<ffi_closure>(), &mut code) as *mut ffi_closure;
        if closure.is_null() {
            release_handles(env, func_ref, tsfn);
            return Err(FfiError::error(
                "JSCallback: libffi could not allocate a closure (trampoline)",
            ));
        }
        let state = Arc::new(CallbackState {
            name: format!("JSCallback(0x{:x})", code as usize),
            sig,
            env,
            owner: thread_mark(),
            shared,
            func: func_ref,
            tsfn,
            closure,
            closed: AtomicBool::new(false),
            active: AtomicUsize::new(0),
            freed: AtomicBool::new(false),
            last_string: Mutex::new(None),
        });
        let key = Arc::as_ptr(&state) as usize;
        // SAFETY: the CIF lives in state.sig for as long as the closure (both freed by close);
        // user_data is the state, kept alive by LIVE until close.
        let status = ffi_prep_closure_loc(
            closure,
            state.sig.cif_ptr(),
            Some(handler),
            key as *mut c_void,
            code,
        );
        if status != ffi_status_FFI_OK {
            ffi_closure_free(closure.cast());
            release_handles(env, func_ref, tsfn);
            return Err(FfiError::error(format!(
                "JSCallback: libffi could not prepare the closure (status {status})"
            )));
        }
        LIVE.lock().insert(key, state);
        // When the env goes away (a Worker or TaskPool thread ends) its open callbacks are
        // closed. Registered after the threadsafe function, so this hook runs before the
        // engine tears that function down (hooks run in reverse order).
        let status = sys::napi_add_env_cleanup_hook(env, Some(env_teardown), key as *mut c_void);
        if status != sys::Status::napi_ok {
            close(key);
            js::check(env, status, "napi_add_env_cleanup_hook")?;
        }
        Ok((key, code as usize))
    }
}

unsafe fn release_handles(
    env: napi_env,
    func: napi_ref,
    tsfn: Option<sys::napi_threadsafe_function>,
) {
    // SAFETY: handles of this env, released once.
    unsafe {
        sys::napi_delete_reference(env, func);
        if let Some(t) = tsfn {
            sys::napi_release_threadsafe_function(t, sys::ThreadsafeFunctionReleaseMode::abort);
        }
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

/// Free the closure and the napi handles, once.
///
/// # Safety
/// On the owner thread, with no invocation running.
unsafe fn free(state: &CallbackState) {
    if state.freed.swap(true, Ordering::AcqRel) {
        return;
    }
    // SAFETY: the closure came from ffi_closure_alloc and is freed once; handles belong to
    // the owner env, on whose thread we are.
    unsafe {
        ffi_closure_free(state.closure.cast());
        release_handles(state.env, state.func, state.tsfn);
    }
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
                    state.name
                ));
            }
        }
    }));
    if outcome.is_err() {
        fatal("internal error (panic) in a JSCallback trampoline");
    }
}

/// Abort the process with a message: what must not continue (JS on a foreign thread).
fn fatal(msg: &str) -> ! {
    eprintln!("arkffi: fatal: {msg}");
    std::process::abort()
}

/// Zero the result buffer (the value C gets when the JS function failed).
unsafe fn zero_result(sig: &Signature, ret: *mut c_void) {
    let size = match &sig.ret {
        ArgType::Scalar(FfiType::Void) => 0,
        ArgType::Scalar(_) => 8,
        ArgType::Struct(l) => l.size,
    };
    // SAFETY: libffi's result buffer holds at least the result (integers widened to 8 bytes).
    unsafe { ptr::write_bytes(ret.cast::<u8>(), 0, size) };
}

/// Run the JS function now, on its own thread.
unsafe fn invoke_here(state: &Arc<CallbackState>, ret: *mut c_void, args: *mut *mut c_void) {
    state.active.fetch_add(1, Ordering::AcqRel);
    let env = state.env;
    // SAFETY (whole body): we are on the owner thread of env; args/ret are libffi's.
    unsafe {
        let mut scope = ptr::null_mut();
        sys::napi_open_handle_scope(env, &mut scope);
        let run = std::panic::AssertUnwindSafe(|| -> FfiResult<()> {
            crate::debug::maybe_panic_in_callback();
            // The JS arguments on the stack for up to 8 (no allocation per invocation).
            let n = state.sig.args.len();
            let mut stack = [ptr::null_mut(); 8];
            let mut heap = Vec::new();
            let argv: &mut [napi_value] = if n <= stack.len() {
                &mut stack[..n]
            } else {
                heap.resize(n, ptr::null_mut());
                &mut heap
            };
            for (i, (ty, slot)) in state.sig.args.iter().zip(argv.iter_mut()).enumerate() {
                *slot = arg_to_js(env, ty, *args.add(i))?;
            }
            let v = call_function(env, state, argv)?;
            result_to_c(env, state, v, ret)
        });
        // A panic here becomes an Error for the JS caller, like an exception of `fn`.
        let result = std::panic::catch_unwind(run).unwrap_or_else(|p| {
            Err(FfiError::error(format!(
                "arkffi internal error in {}: {}",
                state.name,
                crate::boundary::panic_message(&p)
            )))
        });
        if let Err(e) = result {
            zero_result(&state.sig, ret);
            report(env, state, e);
        }
        sys::napi_close_handle_scope(env, scope);
    }
    finish(state);
}

/// One invocation ended: a close() that happened meanwhile takes effect now.
fn finish(state: &Arc<CallbackState>) {
    if state.active.fetch_sub(1, Ordering::AcqRel) == 1 && state.closed.load(Ordering::Acquire) {
        // SAFETY: finish runs on the owner thread (invoke_here, call_js); nothing is running.
        unsafe { free(state) };
    }
}

/// One C argument as a JS value: scalars by the value mapping, CString as a string, a
/// struct by value as the address of libffi's copy (valid during the callback).
unsafe fn arg_to_js(env: napi_env, ty: &ArgType, at: *mut c_void) -> FfiResult<napi_value> {
    // SAFETY: `at` points at a value of type `ty` (libffi's argument storage).
    unsafe {
        match ty {
            ArgType::Scalar(t) => {
                let raw = crate::structs::read_raw(at.cast(), t.size());
                convert::to_js(env, *t, raw)
            }
            ArgType::Struct(_) => convert::pointer_to_js(env, at as usize),
        }
    }
}

/// Call the JS function with `undefined` as `this`; a thrown exception becomes Pending.
unsafe fn call_function(
    env: napi_env,
    state: &CallbackState,
    argv: &[napi_value],
) -> FfiResult<napi_value> {
    // SAFETY: owner thread; func is a reference of env.
    unsafe {
        let mut f = ptr::null_mut();
        js::check(
            env,
            sys::napi_get_reference_value(env, state.func, &mut f),
            "napi_get_reference_value",
        )?;
        let recv = js::undefined(env)?;
        let mut out = ptr::null_mut();
        let status = sys::napi_call_function(env, recv, f, argv.len(), argv.as_ptr(), &mut out);
        js::check(env, status, "napi_call_function")?;
        Ok(out)
    }
}

/// The JS result written where C expects it (integers widened to a full ffi_arg).
unsafe fn result_to_c(
    env: napi_env,
    state: &CallbackState,
    v: napi_value,
    ret: *mut c_void,
) -> FfiResult<()> {
    // SAFETY: ret is libffi's result buffer for state.sig.ret.
    unsafe {
        // Numbers, booleans and pointers straight into the buffer (no allocation).
        if let ArgType::Scalar(t) = state.sig.ret {
            if !matches!(t, FfiType::Void | FfiType::CString | FfiType::F32) {
                ret.cast::<u64>()
                    .write_unaligned(scalar_slot(env, state, t, v)?);
                return Ok(());
            }
        }
        let bytes = result_bytes(env, state, v)?;
        ptr::copy_nonoverlapping(bytes.as_ptr(), ret.cast::<u8>(), bytes.len());
        Ok(())
    }
}

/// The error of a callback result of the wrong kind, naming the callback.
fn wrong_result(state: &CallbackState, e: FfiError) -> FfiError {
    e.subject(&format!("{} returned a value that", state.name))
}

/// A scalar (non-string) JS result as its C slot (integers widened to 64 bits, f32 in the
/// low 4 bytes).
///
/// # Safety
/// `env`/`v` belong to the owner thread's current scope.
unsafe fn scalar_slot(
    env: napi_env,
    state: &CallbackState,
    t: FfiType,
    v: napi_value,
) -> FfiResult<u64> {
    // An int32 result (comparators, status codes): one engine call, no general conversion.
    if t == FfiType::I32 {
        // SAFETY: forwarded contract.
        if let Some(slot) = unsafe { js::get_f64(env, v) }.and_then(convert::i32_slot) {
            return Ok(slot);
        }
    }
    let mut slot = 0u64;
    // SAFETY: forwarded contract; no string type reaches here, so the scratch stays unused.
    unsafe { convert::to_c(env, t, v, &mut slot, &mut Scratch::heap()) }
        .map_err(|e| wrong_result(state, e))?;
    Ok(slot)
}

/// The bytes of a JS result for C: 8 bytes for scalars (f32: its 4 bytes), the struct's bytes
/// for structs, nothing for void.
unsafe fn result_bytes(env: napi_env, state: &CallbackState, v: napi_value) -> FfiResult<Vec<u8>> {
    let wrong = |e: FfiError| wrong_result(state, e);
    // SAFETY: env/v belong to the owner thread's current scope.
    unsafe {
        match &state.sig.ret {
            ArgType::Scalar(FfiType::Void) => Ok(Vec::new()),
            ArgType::Scalar(FfiType::CString) => {
                let p = if js::kind(env, v) == js::Kind::Null {
                    ptr::null()
                } else {
                    let s = match js::kind(env, v) {
                        js::Kind::String => js::get_string(env, v).unwrap_or_default(),
                        _ => {
                            return Err(wrong(FfiError::type_error(format!(
                                "must be CString (a string or null), got {}",
                                js::describe(env, v)
                            ))))
                        }
                    };
                    let c = CString::new(s).map_err(|_| {
                        wrong(FfiError::type_error("must be CString, got a string with a NUL character inside"))
                    })?;
                    let mut last = state.last_string.lock();
                    *last = Some(c);
                    last.as_ref().map_or(ptr::null(), |c| c.as_ptr())
                };
                Ok((p as usize as u64).to_le_bytes().to_vec())
            }
            ArgType::Scalar(FfiType::F32) => {
                let slot = scalar_slot(env, state, FfiType::F32, v)?;
                Ok((slot as u32).to_le_bytes().to_vec())
            }
            // Strings are handled above.
            ArgType::Scalar(t) => Ok(scalar_slot(env, state, *t, v)?.to_le_bytes().to_vec()),
            ArgType::Struct(layout) => match convert::buffer_bytes(env, v) {
                Some((data, len)) if len == layout.size && !data.is_null() => {
                    Ok(std::slice::from_raw_parts(data.cast::<u8>(), len).to_vec())
                }
                _ => Err(wrong(FfiError::type_error(format!(
                    "must be a struct of {} bytes (the ArrayBuffer of StructSchema.create()), got {}",
                    layout.size,
                    js::describe(env, v)
                )))),
            },
        }
    }
}

/// A callback failed on the JS thread: defer the error to the outer FFI call, or report it
/// as an uncaught exception when C was not called from JS.
unsafe fn report(env: napi_env, state: &CallbackState, e: FfiError) {
    // SAFETY: owner thread of env.
    unsafe {
        let err = e.to_js(env);
        if state.shared.in_call() {
            let mut r = ptr::null_mut();
            if sys::napi_create_reference(env, err, 1, &mut r) == sys::Status::napi_ok {
                if let Some(Deferred::Exception(dropped)) =
                    state.shared.defer(Deferred::Exception(SendRef(r)))
                {
                    sys::napi_delete_reference(env, dropped.0);
                }
            }
        } else {
            sys::napi_fatal_exception(env, err);
        }
    }
}

// ---- calls from other threads ----

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

unsafe fn invoke_remote(state: &Arc<CallbackState>, ret: *mut c_void, args: *mut *mut c_void) {
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
                        state.name,
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
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: data is the Arc<RemoteCall> count queued by invoke_remote.
        let call = unsafe { Arc::from_raw(data as *const RemoteCall) };
        let state = &call.state;
        let size = match &state.sig.ret {
            ArgType::Scalar(FfiType::Void) => 0,
            ArgType::Scalar(_) => 8,
            ArgType::Struct(l) => l.size,
        };
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
        let bytes = unsafe {
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
            let bytes = match out {
                Ok(b) => b,
                Err(e) => {
                    report(env, state, e);
                    vec![0; size]
                }
            };
            sys::napi_close_handle_scope(env, scope);
            bytes
        };
        call.phase.store(DONE, Ordering::Release);
        deliver(&call, bytes);
        finish(state);
    }));
}

fn deliver(call: &RemoteCall, bytes: Vec<u8>) {
    *call.result.lock() = Some(bytes);
    call.ready.notify_all();
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
