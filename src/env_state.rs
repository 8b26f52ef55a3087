//! Per-env state. Every JS thread (the UI thread, each Worker and TaskPool thread) has its own
//! napi_env and loads the module again; what belongs to one env lives in its instance data
//! and is released when that env is torn down.
//!
//! Held struct results: a struct returned by value is copied into a block of native memory
//! that this env owns, keyed by its address, until `releasePtr(address)` (or the env's end).
//! Native blocks measured cheaper than ArrayBuffers kept alive by references (no engine
//! object, no reference, no GC work), and the user sees the same thing: an address that
//! stays valid until released.

use std::cell::RefCell;
use std::ffi::c_void;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

use napi_ohos::sys;
use napi_ohos::sys::{napi_env, napi_ref};
use parking_lot::Mutex;

use crate::addr_map::AddrMap;
use crate::arena::StringArena;
use crate::error::{FfiError, FfiResult};
use crate::js;

extern "C" {
    /// The address of the calling thread's `errno` (glibc and musl, so OpenHarmony too).
    fn __errno_location() -> *mut std::ffi::c_int;
}

/// Where the JS thread's C `errno` lives, found once: `EnvShared` is made by `install`, on
/// its env's JS thread, and only that thread reads it through `leave` (after each of its
/// synchronous calls), so no call pays for the thread-local lookup.
struct ErrnoAt(*mut std::ffi::c_int);

impl Default for ErrnoAt {
    fn default() -> Self {
        // SAFETY: __errno_location has no preconditions and returns the calling thread's
        // errno, valid for the thread's lifetime.
        ErrnoAt(unsafe { __errno_location() })
    }
}

// SAFETY: the address is dereferenced only on the thread it belongs to (see the type's doc);
// other threads that hold the env's shared state never touch this field.
unsafe impl Send for ErrnoAt {}
// SAFETY: as above.
unsafe impl Sync for ErrnoAt {}

#[derive(Default)]
pub struct EnvState {
    held: RefCell<AddrMap<HeldBlock>>,
    shared: Arc<EnvShared>,
}

/// One held struct result: `size` bytes aligned for the struct (at least 16), freed on drop.
pub struct HeldBlock {
    ptr: std::ptr::NonNull<u8>,
    layout: std::alloc::Layout,
}

impl HeldBlock {
    /// A copy of `size` bytes at `bytes`, aligned to `align` (and 16).
    ///
    /// # Safety
    /// `bytes` is readable for `size` bytes.
    pub unsafe fn copy_of(bytes: *const u8, size: usize, align: usize) -> FfiResult<HeldBlock> {
        let layout = std::alloc::Layout::from_size_align(size.max(1), align.max(16))
            .map_err(|_| FfiError::error("struct result: invalid size or alignment"))?;
        // SAFETY: layout has a non-zero size.
        let raw = unsafe { std::alloc::alloc(layout) };
        let ptr = std::ptr::NonNull::new(raw)
            .ok_or_else(|| FfiError::error("struct result: out of memory"))?;
        // SAFETY: the new block has size bytes; bytes is readable for size (contract); they
        // cannot overlap (fresh allocation).
        unsafe { ptr::copy_nonoverlapping(bytes, ptr.as_ptr(), size) };
        Ok(HeldBlock { ptr, layout })
    }

    pub fn address(&self) -> usize {
        self.ptr.as_ptr() as usize
    }
}

impl Drop for HeldBlock {
    fn drop(&mut self) {
        // SAFETY: allocated in copy_of with this layout, freed once.
        unsafe { std::alloc::dealloc(self.ptr.as_ptr(), self.layout) };
    }
}

/// An error raised inside C frames (by a JS callback, or about one) that is thrown to the JS
/// caller when the outer FFI call returns.
pub enum Deferred {
    /// The JS exception a callback threw (a reference of the owner env).
    Exception(SendRef),
    /// A message for an Error created on the owner thread.
    Message(String),
}

/// A napi_ref that only the owner thread dereferences; it may be stored where other threads
/// can see the slot.
pub struct SendRef(pub napi_ref);
// SAFETY: the reference is created, read and deleted on its env's thread only; other threads
// only move the wrapper in and out of the Mutex-protected slot.
unsafe impl Send for SendRef {}

/// The part of an env's state that other threads may look at: whether its JS thread is
/// inside a synchronous FFI call (and which one), and the deferred error slot.
/// A library closed by a callback during a synchronous call (`library::LibraryHandle`): it
/// holds one use, given back when no synchronous call of the JS thread is running.
pub trait PendingUnload: Send + Sync {
    /// Give the use back; the last one of a closed library unloads it.
    fn end_use(&self) -> FfiResult<()>;
}

#[derive(Default)]
pub struct EnvShared {
    /// Synchronous FFI calls in progress on the JS thread (nested through callbacks).
    depth: AtomicU32,
    /// Synchronous FFI calls started so far: tells a stuck call from a busy stream of calls.
    started: AtomicU64,
    /// Something to do when a synchronous call returns: a deferred error to throw, or a
    /// library to unload (one load on the hot path when there is nothing).
    has_deferred: AtomicBool,
    deferred: Mutex<Option<Deferred>>,
    /// Libraries closed by a callback during a synchronous call: each holds one use (see
    /// `LibraryHandle::close_in_call`), given back when no synchronous call is running.
    unloads: Mutex<Vec<Arc<dyn PendingUnload>>>,
    /// C strings of the JS thread's synchronous calls (that thread only).
    pub arena: StringArena,
    /// C's `errno` right after the JS thread's most recent synchronous call returned
    /// (`errno()`), read by `leave`.
    errno: AtomicI32,
    /// The JS thread's `errno` (made on that thread).
    errno_at: ErrnoAt,
    /// Calls of the JS thread converting arguments that may run JS (getters, typed tokens):
    /// while any is, no call site's signature is released (see `LibraryHandle::unload`).
    converting: AtomicU32,
}

impl EnvShared {
    /// Enter a synchronous FFI call (JS thread only: the only writer of the counters).
    #[inline]
    pub fn enter(&self) {
        self.depth
            .store(self.depth.load(Ordering::Relaxed) + 1, Ordering::Release);
        self.started
            .store(self.started.load(Ordering::Relaxed) + 1, Ordering::Release);
    }

    /// Leave a synchronous FFI call (JS thread only): called right after the C function
    /// returns, so the first thing it does is to keep C's `errno` (one load and one store;
    /// nothing else runs on this thread in between that could change it).
    #[inline]
    pub fn leave(&self) {
        // SAFETY: on the JS thread (the contract of the synchronous calls), whose errno
        // `errno_at` is: valid for the thread's lifetime.
        self.errno
            .store(unsafe { *self.errno_at.0 }, Ordering::Relaxed);
        self.depth
            .store(self.depth.load(Ordering::Relaxed) - 1, Ordering::Release);
    }

    /// `Some(call number)` while the JS thread is inside a synchronous FFI call.
    pub fn current_call(&self) -> Option<u64> {
        (self.depth.load(Ordering::Acquire) > 0).then(|| self.started.load(Ordering::Acquire))
    }

    /// `errno` as the most recent synchronous call of the JS thread left it.
    pub fn errno(&self) -> i32 {
        self.errno.load(Ordering::Relaxed)
    }

    pub fn in_call(&self) -> bool {
        self.depth.load(Ordering::Acquire) > 0
    }

    /// A call of the JS thread starts a conversion that may run JS, which may close the
    /// call's library: the call still reads its signature afterwards (JS thread only).
    #[inline]
    pub fn pin(&self) {
        self.converting.store(
            self.converting.load(Ordering::Relaxed) + 1,
            Ordering::Relaxed,
        );
    }

    /// `pin` until the guard is dropped.
    pub fn pinned(&self) -> Pinned<'_> {
        self.pin();
        Pinned(self)
    }

    /// The conversion `pin` announced is over.
    #[inline]
    pub fn unpin(&self) {
        self.converting.store(
            self.converting.load(Ordering::Relaxed) - 1,
            Ordering::Relaxed,
        );
    }

    /// No call of the JS thread is running (neither in C nor converting arguments), so no
    /// call reads a signature: a closed library's call sites may release theirs (JS
    /// thread only).
    pub fn at_rest(&self) -> bool {
        !self.in_call() && self.converting.load(Ordering::Relaxed) == 0
    }

    /// Keep the first deferred error; later ones are dropped (deleting their reference is the
    /// owner's job: they are returned).
    pub fn defer(&self, d: Deferred) -> Option<Deferred> {
        let mut slot = self.deferred.lock();
        if slot.is_some() {
            return Some(d);
        }
        *slot = Some(d);
        self.has_deferred.store(true, Ordering::Release);
        None
    }

    #[inline]
    pub fn has_deferred(&self) -> bool {
        self.has_deferred.load(Ordering::Acquire)
    }

    pub fn take_deferred(&self) -> Option<Deferred> {
        let mut slot = self.deferred.lock();
        let d = slot.take();
        self.has_deferred
            .store(!self.unloads.lock().is_empty(), Ordering::Release);
        d
    }

    /// Keep `lib` (closed by a callback, holding one use) until the JS thread is out of
    /// every synchronous call; then its use is given back and it is dlclosed.
    pub fn unload_after_calls(&self, lib: Arc<dyn PendingUnload>) {
        let _slot = self.deferred.lock();
        self.unloads.lock().push(lib);
        self.has_deferred.store(true, Ordering::Release);
    }

    /// The libraries waiting for the JS thread to leave its synchronous calls, if it has.
    fn take_unloads(&self) -> Vec<Arc<dyn PendingUnload>> {
        if self.in_call() {
            return Vec::new();
        }
        let slot = self.deferred.lock();
        let libs = std::mem::take(&mut *self.unloads.lock());
        self.has_deferred.store(slot.is_some(), Ordering::Release);
        libs
    }
}

/// A conversion that may run JS, announced by `EnvShared::pinned` until dropped.
pub struct Pinned<'a>(&'a EnvShared);

impl Drop for Pinned<'_> {
    fn drop(&mut self) {
        self.0.unpin();
    }
}

/// The hot-path check after a call: one atomic load when nothing is deferred.
///
/// # Safety
/// As `throw_deferred`.
#[inline]
pub unsafe fn throw_deferred_if_any(env: napi_env, shared: &EnvShared) -> FfiResult<()> {
    if shared.has_deferred() {
        // SAFETY: forwarded contract.
        unsafe { throw_deferred(env, shared) }
    } else {
        Ok(())
    }
}

/// Throw the deferred error of `shared`, if any, into `env` (its owner).
///
/// # Safety
/// `env` is the live owner env of `shared`, on its thread.
pub unsafe fn throw_deferred(env: napi_env, shared: &EnvShared) -> FfiResult<()> {
    // Libraries closed during the call are unloaded once no call is running.
    let mut unloaded = Ok(());
    for lib in shared.take_unloads() {
        if let Err(e) = lib.end_use() {
            unloaded = Err(e);
        }
    }
    let Some(d) = shared.take_deferred() else {
        return unloaded;
    };
    match d {
        Deferred::Exception(r) => {
            let mut v = ptr::null_mut();
            // SAFETY: r is a reference of this env, read then deleted once.
            unsafe {
                sys::napi_get_reference_value(env, r.0, &mut v);
                sys::napi_delete_reference(env, r.0);
                sys::napi_throw(env, v);
            }
            Err(FfiError::Pending)
        }
        Deferred::Message(m) => Err(FfiError::error(m)),
    }
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
            // Struct results never released are freed with the env.
            state.held.borrow_mut().clear();
            if let Some(Deferred::Exception(r)) = state.shared.take_deferred() {
                // SAFETY: as above.
                unsafe { sys::napi_delete_reference(env, r.0) };
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
    /// Keep a struct result until `release(address)`; returns its address.
    pub fn hold(&self, block: HeldBlock) -> usize {
        let address = block.address();
        // A live block's address cannot be in the map already (the allocator hands out each
        // address once until it is freed, and freeing removes it from the map).
        self.held.borrow_mut().insert(address, block);
        address
    }

    /// Drop the struct result at `address`; unknown addresses are ignored. True if one was.
    pub fn release(&self, address: usize) -> bool {
        let removed = self.held.borrow_mut().remove(&address);
        removed.is_some()
    }

    pub fn held_count(&self) -> usize {
        self.held.borrow().len()
    }

    pub fn shared(&self) -> &Arc<EnvShared> {
        &self.shared
    }
}
