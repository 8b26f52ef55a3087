//! Per-env state. Every JS thread (the UI thread, each Worker and TaskPool thread) has its own
//! napi_env and loads the module again; what belongs to one env lives in its instance data
//! and is released when that env is torn down.
//!
//! Held struct results: a struct returned by value is written into an ArrayBuffer that stays
//! referenced here, keyed by its address, until `releasePtr(address)`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::c_void;
use std::ptr;

use napi_ohos::sys;
use napi_ohos::sys::{napi_env, napi_ref, napi_value};

use crate::error::FfiResult;
use crate::js;

#[derive(Default)]
pub struct EnvState {
    held: RefCell<HashMap<usize, napi_ref>>,
}

/// Install a fresh state for `env` (module initialisation).
///
/// # Safety
/// `env` live; called once per env.
pub unsafe fn install(env: napi_env) -> FfiResult<()> {
    unsafe extern "C" fn finalize(env: napi_env, data: *mut c_void, _hint: *mut c_void) {
        let _ = std::panic::catch_unwind(|| {
            // SAFETY: data is the Box<EnvState> installed below; the env finalizes it once.
            let state = unsafe { Box::from_raw(data.cast::<EnvState>()) };
            for (_, r) in state.held.borrow_mut().drain() {
                // SAFETY: r is a reference of this env, deleted once.
                unsafe { sys::napi_delete_reference(env, r) };
            }
        });
    }
    let data = Box::into_raw(Box::<EnvState>::default());
    // SAFETY: env live; finalize frees data exactly once when the env goes away.
    let status =
        unsafe { sys::napi_set_instance_data(env, data.cast(), Some(finalize), ptr::null_mut()) };
    if status != sys::Status::napi_ok {
        // SAFETY: not installed, still ours.
        drop(unsafe { Box::from_raw(data) });
    }
    // SAFETY: env live.
    unsafe { js::check(env, status, "napi_set_instance_data") }
}

/// This env's state.
///
/// # Safety
/// `env` live, and `install` ran for it. The reference must not outlive the current call.
pub unsafe fn get<'a>(env: napi_env) -> FfiResult<&'a EnvState> {
    let mut data: *mut c_void = ptr::null_mut();
    // SAFETY: env live; data a valid out slot.
    unsafe {
        js::check(
            env,
            sys::napi_get_instance_data(env, &mut data),
            "napi_get_instance_data",
        )?
    };
    if data.is_null() {
        return Err(crate::error::FfiError::error(
            "arkffi: module state missing for this thread",
        ));
    }
    // SAFETY: data is this env's Box<EnvState>, alive until the env is torn down, which
    // cannot happen during a call on this env.
    Ok(unsafe { &*data.cast::<EnvState>() })
}

impl EnvState {
    /// Keep `buffer` alive under its address.
    ///
    /// # Safety
    /// `env` is the env this state belongs to; `buffer` a value of it.
    pub unsafe fn hold(&self, env: napi_env, address: usize, buffer: napi_value) -> FfiResult<()> {
        let mut r: napi_ref = ptr::null_mut();
        // SAFETY: env live; buffer valid; r a valid out slot.
        unsafe {
            js::check(
                env,
                sys::napi_create_reference(env, buffer, 1, &mut r),
                "napi_create_reference",
            )?
        };
        if let Some(old) = self.held.borrow_mut().insert(address, r) {
            // Cannot happen while the old buffer is alive (same address); be safe anyway.
            // SAFETY: old is a reference of this env.
            unsafe { sys::napi_delete_reference(env, old) };
        }
        Ok(())
    }

    /// Drop the entry for `address`; unknown addresses are ignored. True if one was dropped.
    ///
    /// # Safety
    /// `env` is the env this state belongs to.
    pub unsafe fn release(&self, env: napi_env, address: usize) -> bool {
        let removed = self.held.borrow_mut().remove(&address);
        match removed {
            Some(r) => {
                // SAFETY: r is a reference of this env, deleted once.
                unsafe { sys::napi_delete_reference(env, r) };
                true
            }
            None => false,
        }
    }

    pub fn held_count(&self) -> usize {
        self.held.borrow().len()
    }
}
