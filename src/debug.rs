//! Test hooks for the internal-error paths: they let the host tests prove that a Rust panic
//! never crosses the NAPI boundary or a C frame. Not part of the package's API.

use std::sync::atomic::{AtomicBool, Ordering};

static PANIC_IN_NEXT_CALLBACK: AtomicBool = AtomicBool::new(false);

pub fn panic_now() -> ! {
    panic!("debug panic requested by __debugPanic('entry')");
}

pub fn arm_callback_panic() {
    PANIC_IN_NEXT_CALLBACK.store(true, Ordering::Release);
}

/// Panics once, in the first callback invocation after `arm_callback_panic`.
#[inline]
pub fn maybe_panic_in_callback() {
    if PANIC_IN_NEXT_CALLBACK.load(Ordering::Relaxed)
        && PANIC_IN_NEXT_CALLBACK.swap(false, Ordering::AcqRel)
    {
        panic!("debug panic requested by __debugPanic('callback')");
    }
}

/// Heap allocations made by this library, counted only in builds with the cargo feature
/// `alloc-stats` (the tests' proof that a call allocates nothing). Counts every allocation
/// and reallocation of the Rust global allocator, on every thread.
#[cfg(feature = "alloc-stats")]
pub mod alloc_stats {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::sync::atomic::{AtomicU64, Ordering};

    static COUNT: AtomicU64 = AtomicU64::new(0);

    pub struct Counting;

    // SAFETY: every method forwards to System with the caller's arguments unchanged, so
    // System's guarantees are this allocator's; the counter has no effect on memory.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            COUNT.fetch_add(1, Ordering::Relaxed);
            // SAFETY: forwarded contract.
            unsafe { System.alloc(layout) }
        }
        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            COUNT.fetch_add(1, Ordering::Relaxed);
            // SAFETY: forwarded contract.
            unsafe { System.alloc_zeroed(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: forwarded contract.
            unsafe { System.dealloc(ptr, layout) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            COUNT.fetch_add(1, Ordering::Relaxed);
            // SAFETY: forwarded contract.
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }

    #[global_allocator]
    static GLOBAL: Counting = Counting;

    pub fn count() -> u64 {
        COUNT.load(Ordering::Relaxed)
    }
}
