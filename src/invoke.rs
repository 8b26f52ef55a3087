//! Running a JSCallback's JS function on its own JS thread: the state a callback keeps, the C
//! arguments as JS values, the JS result as C expects it, and errors that must not unwind
//! through C (deferred to the outer FFI call, or reported as uncaught).

use std::ffi::{c_void, CString};
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use napi_ohos::sys;
use napi_ohos::sys::{napi_env, napi_ref, napi_value};
use parking_lot::Mutex;

use crate::arena::Scratch;
use crate::convert;
use crate::env_state::{Deferred, EnvShared, SendRef};
use crate::error::{FfiError, FfiResult};
use crate::js;
use crate::signature::{ArgType, Signature};
use crate::slots;
use crate::types::FfiType;

/// What an open JSCallback keeps: its signature, its JS function and the slot C calls.
pub struct CallbackState {
    /// Its key (`callback`): its JS handle and its closure's user data.
    pub(crate) key: u64,
    pub(crate) sig: Arc<Signature>,
    /// The env and thread that own the JS function.
    pub(crate) env: napi_env,
    pub(crate) owner: usize,
    pub(crate) shared: Arc<EnvShared>,
    pub(crate) func: napi_ref,
    /// The env's relay (`relay::of_env`), for a threadsafe callback.
    pub(crate) tsfn: Option<sys::napi_threadsafe_function>,
    /// The slot of the table whose code is the C function pointer.
    pub(crate) slot: u32,
    pub(crate) closed: AtomicBool,
    /// Invocations running now (JS thread or queued from other threads and started).
    pub(crate) active: AtomicUsize,
    pub(crate) freed: AtomicBool,
    /// The C string of the last CString result (valid until the next call or close()).
    pub(crate) last_string: Mutex<Option<CString>>,
}

// SAFETY: the napi handles (env, func, tsfn) are only used on the owner thread, except
// tsfn, whose call function is documented as callable from any thread; the slot is given
// back once, on the owner thread; everything else is atomics or locks.
unsafe impl Send for CallbackState {}
// SAFETY: as above.
unsafe impl Sync for CallbackState {}

impl CallbackState {
    /// The C function pointer: the code of the callback's slot.
    pub(crate) fn code(&self) -> usize {
        slots::code(self.slot)
    }

    /// `JSCallback(0x…)`, for messages.
    pub(crate) fn name(&self) -> String {
        format!("JSCallback(0x{:x})", self.code())
    }
}

/// Give the slot back and free the napi handles, once.
///
/// # Safety
/// On the owner thread, with no invocation running.
pub(crate) unsafe fn free(state: &CallbackState) {
    if state.freed.swap(true, Ordering::AcqRel) {
        return;
    }
    // SAFETY: the slot was taken by create and is given back once (`freed`); the reference
    // belongs to the owner env, on whose thread we are.
    unsafe {
        slots::release(state.slot);
        sys::napi_delete_reference(state.env, state.func);
    }
}

/// Zero the result buffer (the value C gets when the JS function failed).
pub(crate) unsafe fn zero_result(sig: &Signature, ret: *mut c_void) {
    let size = match &sig.ret {
        ArgType::Scalar(FfiType::Void) => 0,
        ArgType::Scalar(_) => 8,
        ArgType::Struct(l) => l.size,
    };
    // SAFETY: libffi's result buffer holds at least the result (integers widened to 8 bytes).
    unsafe { ptr::write_bytes(ret.cast::<u8>(), 0, size) };
}

/// Run the JS function now, on its own thread.
pub(crate) unsafe fn invoke_here(
    state: &Arc<CallbackState>,
    ret: *mut c_void,
    args: *mut *mut c_void,
) {
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
                state.name(),
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
pub(crate) fn finish(state: &Arc<CallbackState>) {
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
#[inline(always)]
pub(crate) unsafe fn call_function(
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
    e.subject(&format!("{} returned a value that", state.name()))
}

/// A scalar (non-string) JS result as its C slot (integers widened to 64 bits, f32 in the
/// low 4 bytes).
///
/// # Safety
/// `env`/`v` belong to the owner thread's current scope.
#[inline(always)]
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
pub(crate) unsafe fn result_bytes(
    env: napi_env,
    state: &CallbackState,
    v: napi_value,
) -> FfiResult<Vec<u8>> {
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
            ArgType::Struct(layout) => match convert::buffer_arg(env, v) {
                Ok(Some((data, len))) if len == layout.size && !data.is_null() => {
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
pub(crate) unsafe fn report(env: napi_env, state: &CallbackState, e: FfiError) {
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
