//! The boundary between the engine (or C) and this crate, which every entry point needs:
//! errors become one thrown JS exception, panics never unwind into engine or C frames, and
//! what must not continue aborts with a message.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use napi_ohos::sys::{napi_env, napi_value};

use crate::error::{FfiError, FfiResult};

/// Run a native entry point: its error becomes a thrown JS error, a panic becomes an Error
/// (it never unwinds into the engine).
///
/// # Safety
/// `env` is the live env of the current call.
#[inline]
pub unsafe fn guard(env: napi_env, f: impl FnOnce() -> FfiResult<napi_value>) -> napi_value {
    // The error is thrown inside the unwinding boundary, so what crosses it is one pointer
    // (a whole FfiResult would go through memory: measured as a store-forwarding stall on
    // every call).
    let run = AssertUnwindSafe(|| match f() {
        Ok(v) => v,
        Err(e) => {
            // SAFETY: env is live (contract).
            unsafe { throw_error(env, e) };
            ptr::null_mut()
        }
    });
    match catch_unwind(run) {
        Ok(v) => v,
        // SAFETY: env is live (contract).
        Err(panic) => unsafe { panicked(env, panic) },
    }
}

/// Run a native entry point that throws its own errors (with `thrown`) and returns null
/// for them: a panic becomes an Error (it never unwinds into the engine). For the hot paths,
/// where even an `FfiResult` returned through memory shows in the instruction count.
///
/// # Safety
/// `env` is the live env of the current call.
#[inline]
pub unsafe fn guard_value(env: napi_env, f: impl FnOnce() -> napi_value) -> napi_value {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        // SAFETY: env is live (contract).
        Err(panic) => unsafe { panicked(env, panic) },
    }
}

/// Throw `e` and return the null an entry point returns with a pending exception.
///
/// # Safety
/// `env` is live.
#[cold]
#[inline(never)]
pub unsafe fn thrown(env: napi_env, e: FfiError) -> napi_value {
    // SAFETY: forwarded contract.
    unsafe { e.throw(env) };
    ptr::null_mut()
}

/// A panic caught at the boundary becomes a thrown Error.
///
/// # Safety
/// `env` is live.
#[cold]
#[inline(never)]
unsafe fn panicked(env: napi_env, panic: Box<dyn Any + Send>) -> napi_value {
    let msg = panic_message(&panic);
    // SAFETY: forwarded contract.
    unsafe { FfiError::error(format!("arkffi internal error: {msg}")).throw(env) };
    ptr::null_mut()
}

/// # Safety
/// `env` is live.
#[cold]
#[inline(never)]
unsafe fn throw_error(env: napi_env, e: FfiError) {
    // SAFETY: forwarded contract.
    unsafe { e.throw(env) };
}

pub fn panic_message(p: &Box<dyn Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_owned()
    }
}

/// Abort the process with a message: what must not continue (JS on a foreign thread, C
/// calling a closed callback).
pub fn fatal(msg: &str) -> ! {
    eprintln!("arkffi: fatal: {msg}");
    std::process::abort()
}
