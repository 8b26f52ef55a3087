//! Binding: a call site becomes a JS function. `bind` creates it once per symbol and gives it
//! the entry point its signature calls for: nonblocking, variadic, a shaped or the generic
//! direct entry, or libffi's (`call::invoke`).

use std::ffi::c_void;
use std::ptr;
use std::sync::Arc;

use napi_ohos::sys::{self, napi_env, napi_value};

use crate::error::FfiResult;
use crate::js;
use crate::site::CallSite;

/// Make the JS function for `site`. The function owns one strong count of the site (its
/// data pointer is the site itself, so a call needs no extra indirection); it is released
/// when the function is collected. Nonblocking calls take their own counts.
///
/// # Safety
/// `env` live; `site.code` the address of a C function matching `site.sig`, valid while the
/// owner library is open (or forever for CFunction).
pub unsafe fn bind(env: napi_env, site: CallSite) -> FfiResult<napi_value> {
    unsafe extern "C" fn finalize(_env: napi_env, data: *mut c_void, _hint: *mut c_void) {
        let _ = std::panic::catch_unwind(|| {
            // SAFETY: data is the Arc::into_raw of bind, released exactly once here.
            drop(unsafe { Arc::from_raw(data as *const CallSite) });
        });
    }
    let name = site.name.clone();
    let cb: sys::napi_callback = if site.nonblocking {
        Some(crate::nonblocking::invoke)
    } else if site.sig.variadic.is_some() {
        Some(crate::variadic::invoke)
    } else if let Some(plan) = &site.sig.direct {
        crate::shaped::entry(plan)
            .or_else(|| crate::direct_call::entry(site.sig.args.len()))
            .or(Some(crate::call::invoke))
    } else {
        Some(crate::call::invoke)
    };
    let site = Arc::new(site);
    if let Some(lib) = &site.owner {
        lib.add_site(&site);
    }
    let data = Arc::into_raw(site) as *mut c_void;
    // SAFETY: data stays valid until the finalizer attached below releases it.
    let f = match unsafe { js::function(env, &name, cb, data) } {
        Ok(f) => f,
        Err(e) => {
            // SAFETY: the function was not created; we still own this count.
            drop(unsafe { Arc::from_raw(data as *const CallSite) });
            return Err(e);
        }
    };
    // SAFETY: env live; f valid; finalize releases the count once.
    let status = unsafe {
        sys::napi_add_finalizer(
            env,
            f,
            data,
            Some(finalize),
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    if status != sys::Status::napi_ok {
        // SAFETY: not attached: release our count.
        drop(unsafe { Arc::from_raw(data as *const CallSite) });
    }
    // SAFETY: env live.
    unsafe { js::check(env, status, "napi_add_finalizer")? };
    Ok(f)
}
