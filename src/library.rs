//! Library loading: dlopen, symbol lookup and dlclose, with the closed state every call
//! site checks before it jumps into the library.

use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

use libloading::os::unix::{Library, RTLD_LOCAL, RTLD_NOW};
use parking_lot::Mutex;

use crate::env_state::PendingUnload;
use crate::error::{FfiError, FfiResult};

/// What a library's unload needs of each function bound from it (`site::CallSite`), so that
/// the library does not depend on the call sites that depend on it.
pub trait BoundSite: Send + Sync {
    /// No call of the site's JS thread is running or converting (`EnvShared::at_rest`).
    fn at_rest(&self) -> bool;

    /// Free the site's prepared signature.
    ///
    /// # Safety
    /// As `site::SiteSig::release`: nothing reads the signature now or later.
    unsafe fn release_signature(&self);
}

/// The loader's own words: the dlerror() text behind libloading's error (libloading's own
/// text, "dlopen failed", only when there is none: the caller already says what failed).
fn loader_message(e: &libloading::Error) -> String {
    let mut parts = Vec::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    if parts.is_empty() {
        e.to_string()
    } else {
        parts.join(": ")
    }
}

/// One opened shared library. Shared (`Arc`) by the JS library object and every function
/// bound from it; dlclose happens on `close()` or when the last holder is dropped.
pub struct LibraryHandle {
    path: String,
    open: AtomicBool,
    lib: Mutex<Option<Library>>,
    /// Nonblocking calls running on worker threads: dlclose waits for the last one.
    in_flight: AtomicUsize,
    /// The functions bound from this library, whose signatures the unload frees at once
    /// (see `site::SiteSig`): a finalizer, which only the event loop runs, then frees only
    /// the rest.
    sites: Mutex<Vec<Weak<dyn BoundSite>>>,
}

impl LibraryHandle {
    /// dlopen `path` with RTLD_NOW | RTLD_LOCAL (unresolved symbols fail here, not later).
    pub fn open(path: &str) -> FfiResult<LibraryHandle> {
        if path.is_empty() {
            return Err(FfiError::type_error(
                "dlopen: path must be a non-empty string",
            ));
        }
        if path.contains('\0') {
            return Err(FfiError::type_error(
                "dlopen: path must not contain a NUL character",
            ));
        }
        // SAFETY: loading a library runs its initialisers; that is what the user asked for by
        // naming it. The flags are valid dlopen flags.
        let lib = unsafe { Library::open(Some(path), RTLD_NOW | RTLD_LOCAL) }.map_err(|e| {
            FfiError::error(format!("dlopen(\"{path}\") failed: {}", loader_message(&e)))
        })?;
        Ok(LibraryHandle {
            path: path.to_owned(),
            open: AtomicBool::new(true),
            lib: Mutex::new(Some(lib)),
            in_flight: AtomicUsize::new(0),
            sites: Mutex::new(Vec::new()),
        })
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    #[inline]
    pub fn is_open(&self) -> bool {
        self.open.load(Ordering::Acquire)
    }

    /// The address of `name`, or an Error naming the symbol and the library.
    pub fn symbol(&self, name: &str) -> FfiResult<*mut c_void> {
        let guard = self.lib.lock();
        let lib = guard
            .as_ref()
            .filter(|_| self.is_open())
            .ok_or_else(|| FfiError::error(format!("library \"{}\" is closed", self.path)))?;
        if name.is_empty() || name.contains('\0') {
            return Err(FfiError::type_error(format!(
                "symbol name {name:?} is not a valid C symbol name (library \"{}\")",
                self.path
            )));
        }
        // SAFETY: we read the symbol's address only; no call or type is implied here.
        let sym = unsafe { lib.get::<*mut c_void>(name.as_bytes()) }.map_err(|e| {
            FfiError::error(format!(
                "symbol \"{name}\" not found in library \"{}\": {}",
                self.path,
                loader_message(&e)
            ))
        })?;
        Ok(sym.into_raw())
    }

    /// A function was bound from this library (on the JS thread).
    pub fn add_site<S: BoundSite + 'static>(&self, site: &Arc<S>) {
        let mut sites = self.sites.lock();
        if sites.len() == sites.capacity() {
            // Collected functions leave dead entries: drop them before growing.
            sites.retain(|w| w.strong_count() > 0);
        }
        sites.push(Arc::downgrade(site) as Weak<dyn BoundSite>);
    }

    /// A nonblocking call (or a synchronous call that a callback closed the library during,
    /// see `close_in_call`) starts using the library (checked open by the caller).
    pub fn begin_async(&self) {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
    }

    /// A nonblocking call is done with the library; the last one after `close()` unloads it.
    pub fn end_async(&self) -> FfiResult<()> {
        if self.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 && !self.is_open() {
            self.unload()?;
        }
        Ok(())
    }

    /// Close: calls through functions bound from this library fail with a clear Error from
    /// now on; dlclose happens now, or when the last nonblocking call still running in it
    /// completes. Returns false if it was already closed.
    pub fn close(&self) -> FfiResult<bool> {
        if !self.open.swap(false, Ordering::AcqRel) {
            return Ok(false);
        }
        if self.in_flight.load(Ordering::Acquire) == 0 {
            self.unload()?;
        }
        Ok(true)
    }

    /// `close()` from inside a synchronous call on the JS thread (a callback closed the
    /// library): C code of the library may be on the stack, so the caller holds one use of
    /// the library until that call has returned (`end_async`). True if this closed it.
    pub fn close_in_call(&self) -> FfiResult<bool> {
        self.begin_async();
        let closed = self.close();
        if !matches!(closed, Ok(true)) {
            self.end_async()?;
        }
        closed
    }

    /// dlclose (closed, and no nonblocking call in flight). Runs on the JS thread (from
    /// `close`, `end_async` of a call's completion or after a synchronous call): when no
    /// call of that thread is running either, the call sites' signatures are freed now.
    fn unload(&self) -> FfiResult<()> {
        let Some(lib) = self.lib.lock().take() else {
            return Ok(());
        };
        let sites = std::mem::take(&mut *self.sites.lock());
        let live: Vec<Arc<dyn BoundSite>> = sites.iter().filter_map(Weak::upgrade).collect();
        drop(sites);
        if live.iter().all(|s| s.at_rest()) {
            for site in &live {
                // The library is closed (every call checks that first), no nonblocking call
                // is in flight (this is the unload) and no call of the JS thread, where we
                // are, is running or converting (at_rest).
                // SAFETY: so nothing reads the signature now or later.
                unsafe { site.release_signature() };
            }
        }
        drop(live);
        lib.close().map_err(|e| {
            FfiError::error(format!(
                "dlclose(\"{}\") failed: {}",
                self.path,
                loader_message(&e)
            ))
        })
    }
}

impl PendingUnload for LibraryHandle {
    fn end_use(&self) -> FfiResult<()> {
        self.end_async()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_libc_finds_strlen_and_closes_once() {
        let lib = LibraryHandle::open("libc.so.6").expect("libc");
        assert!(lib.is_open());
        assert!(!lib.symbol("strlen").unwrap().is_null());
        let err = lib.symbol("no_such_symbol_arkffi").unwrap_err();
        assert!(err.message().contains("no_such_symbol_arkffi"));
        assert!(err.message().contains("libc.so.6"));
        assert_eq!(lib.close(), Ok(true));
        assert_eq!(lib.close(), Ok(false));
        assert!(!lib.is_open());
        assert!(lib
            .symbol("strlen")
            .unwrap_err()
            .message()
            .contains("closed"));
    }

    #[test]
    fn bad_paths_are_clear_errors() {
        let e = LibraryHandle::open("/nonexistent/libnope.so")
            .err()
            .unwrap();
        assert!(matches!(e, FfiError::Generic(_)));
        assert!(e.message().contains("/nonexistent/libnope.so"));
        assert!(matches!(
            LibraryHandle::open("").err().unwrap(),
            FfiError::Type(_)
        ));
        assert!(matches!(
            LibraryHandle::open("a\0b").err().unwrap(),
            FfiError::Type(_)
        ));
    }
}
