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
