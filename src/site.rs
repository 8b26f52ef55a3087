//! A call site: one bound C function's code, prepared signature, owner library and env, and
//! the checks every call path makes on it (library open, argument count) with their errors.

use std::cell::UnsafeCell;
use std::ffi::c_void;
use std::sync::Arc;

use crate::env_state::EnvShared;
use crate::error::{FfiError, FfiResult};
use crate::library::{BoundSite, LibraryHandle};
use crate::signature::{ArgType, Signature};

/// Everything one JS function needs to call one C function.
pub struct CallSite {
    pub name: Box<str>,
    pub code: *const c_void,
    /// Read only while the owner library is open (checked first by every call), or during
    /// a call that started while it was (see `SiteSig`).
    pub sig: SiteSig,
    /// The library the code lives in (None for CFunction pointers).
    pub owner: Option<Arc<LibraryHandle>>,
    /// The env the function belongs to: its call depth and deferred callback errors.
    pub env: Arc<EnvShared>,
    /// Run on a worker thread and return a Promise.
    pub nonblocking: bool,
}

// SAFETY: `code` is a plain function address; everything else is Send + Sync. Nonblocking
// calls use the site from a worker thread while the JS function keeps it alive.
unsafe impl Send for CallSite {}
// SAFETY: as above; the site is immutable after creation, except that its signature is
// released once, on the JS thread, when no call can read it (`SiteSig::release`).
unsafe impl Sync for CallSite {}

impl BoundSite for CallSite {
    fn at_rest(&self) -> bool {
        self.env.at_rest()
    }

    unsafe fn release_signature(&self) {
        // SAFETY: forwarded contract.
        unsafe { self.sig.release() }
    }
}

/// A call site's prepared signature (libffi's CIF, the direct plan, the variadic cache),
/// which a library's `close()` frees at once instead of the function's finalizer (OpenHarmony
/// runs main-thread finalizers only from the event loop). Released by
/// `LibraryHandle::unload` only when the library is closed and no call is running in it or
/// converting its arguments on the JS thread (`EnvShared::at_rest`), nor on a worker thread
/// (no nonblocking call in flight). Every call path checks that the library is open before
/// its first read, and reads nothing of it after the point where a callback's postponed
/// unload may run (`throw_deferred_if_any`).
pub struct SiteSig(UnsafeCell<Option<Signature>>);

impl SiteSig {
    pub fn new(sig: Signature) -> SiteSig {
        SiteSig(UnsafeCell::new(Some(sig)))
    }

    /// Free the signature.
    ///
    /// # Safety
    /// No reference to the signature exists or will be made (the owner library is closed
    /// and unloaded, and no call of it is running, see the type's doc).
    pub unsafe fn release(&self) {
        // SAFETY: per the contract, nobody else reads the cell now or later.
        drop(unsafe { (*self.0.get()).take() });
    }
}

impl std::ops::Deref for SiteSig {
    type Target = Signature;

    #[inline(always)]
    fn deref(&self) -> &Signature {
        // SAFETY: only `release` writes the cell, when no reader exists and none will come
        // (every call checks that its library is open first, see the type's doc); until then
        // it is Some.
        let sig = unsafe { &*self.0.get() };
        debug_assert!(sig.is_some(), "a released call site signature was read");
        // SAFETY: as above: Some while it may be read.
        unsafe { sig.as_ref().unwrap_unchecked() }
    }
}

/// The site behind a bound function's data pointer.
///
/// # Safety
/// `data` is the data pointer of a function made by `bind::bind`, which is being called (alive).
#[inline]
pub unsafe fn site_of<'a>(data: *mut c_void) -> &'a CallSite {
    // SAFETY: per the contract, data points at a live CallSite (inside its Arc).
    unsafe { &*(data as *const CallSite) }
}

/// The checks every call makes before converting: library still open (first: a closed
/// library's sites may have released their signatures), argument count.
#[inline]
pub fn check_call(site: &CallSite, argc: usize) -> FfiResult<()> {
    still_open(site)?;
    if argc != site.sig.args.len() {
        return Err(wrong_count(site, argc));
    }
    Ok(())
}

/// The library is still open after the arguments were converted: a getter run by the
/// conversion (a `ptr` property read from an object) may have closed it.
#[inline(always)]
pub fn still_open(site: &CallSite) -> FfiResult<()> {
    match &site.owner {
        Some(lib) if !lib.is_open() => Err(closed(site)),
        _ => Ok(()),
    }
}

#[cold]
#[inline(never)]
fn wrong_count(site: &CallSite, argc: usize) -> FfiError {
    let n = site.sig.args.len();
    FfiError::type_error(format!(
        "{} expects {n} argument{}, got {argc}",
        site.name,
        if n == 1 { "" } else { "s" }
    ))
}

#[cold]
#[inline(never)]
fn closed(site: &CallSite) -> FfiError {
    let path = site.owner.as_ref().map(|l| l.path()).unwrap_or_default();
    FfiError::error(format!("{}: library \"{path}\" is closed", site.name))
}

#[cold]
#[inline(never)]
pub fn argument_error(e: FfiError, site: &CallSite, i: usize) -> FfiError {
    e.subject(&format!("{}: args[{i}]", site.name))
}

/// The scalar type of argument `i` (for the slow path of a direct conversion).
#[cold]
pub fn site_type(site: &CallSite, i: usize) -> crate::types::FfiType {
    match site.sig.args.get(i) {
        Some(ArgType::Scalar(t)) => *t,
        _ => crate::types::FfiType::Void,
    }
}
