//! The C strings of synchronous calls: a per-env arena used as a stack (`StringArena`), one
//! call's storage in it or on the heap (`Scratch`), the arena's top put back after a call
//! (`ArenaTop`), and the copy of a JS string into it with its NUL check (`push_c_string`,
//! `has_nul`). Nothing here allocates while the arena has room.

use std::cell::{Cell, UnsafeCell};
use std::ffi::c_char;
use std::mem::MaybeUninit;
use std::ptr;

use napi_ohos::sys;
use napi_ohos::sys::{napi_env, napi_value};

/// Bytes of C string data the calls of one JS thread can hold at once before they use the
/// heap.
pub const STRING_ARENA: usize = 4096;

/// A per-env buffer for the C strings of synchronous calls: no allocation and no
/// initialisation per call. Calls nest (a callback may call again), so it is used as a stack:
/// each call's `Scratch` takes space above the current top and gives it back when dropped.
pub struct StringArena {
    buf: UnsafeCell<[MaybeUninit<u8>; STRING_ARENA]>,
    used: Cell<usize>,
}

// SAFETY: only the env's own JS thread touches the arena (synchronous calls and callbacks on
// that thread); other threads that hold the env's shared state never access this field.
unsafe impl Sync for StringArena {}
// SAFETY: as above; the arena is plain bytes.
unsafe impl Send for StringArena {}

impl Default for StringArena {
    fn default() -> Self {
        StringArena {
            buf: UnsafeCell::new([MaybeUninit::uninit(); STRING_ARENA]),
            used: Cell::new(0),
        }
    }
}

impl StringArena {
    /// Copy the JS string `v` into the arena as a C string, when it is a string without a NUL
    /// inside that fits: the common string argument of a hot call, without a `Scratch`.
    /// Returns the copy (its space is given back when the call's `ArenaTop` or `Scratch`
    /// goes).
    /// None for everything else (not a string, too long, NUL inside), which the general
    /// conversion (`c_string`) then takes, with its errors. Runs no JS.
    ///
    /// # Safety
    /// `env` live; `v` a value of this env; on the arena's JS thread.
    #[inline(always)]
    pub unsafe fn push_c_string(&self, env: napi_env, v: napi_value) -> Option<*const c_char> {
        let used = self.used.get();
        let avail = STRING_ARENA - used;
        if avail <= 8 {
            return None;
        }
        // SAFETY: used < STRING_ARENA, so the pointer stays inside the arena, which only this
        // thread uses (see StringArena).
        let buf = unsafe { self.buf.get().cast::<u8>().add(used) };
        let mut written = 0usize;
        // SAFETY: buf has `avail` writable bytes, the size passed; a non-string fails with a
        // status and writes nothing.
        let st =
            unsafe { sys::napi_get_value_string_utf8(env, v, buf.cast(), avail, &mut written) };
        // The engine writes whole characters only (at most 4 bytes each): with 4 or more
        // bytes of room left, nothing was cut off.
        // SAFETY (has_nul): the engine initialised `written` bytes at buf.
        if st != sys::Status::napi_ok || avail - 1 - written < 4 || unsafe { has_nul(buf, written) }
        {
            return None;
        }
        // SAFETY: written < avail - 4, so the terminator is inside the arena.
        unsafe { *buf.add(written) = 0 };
        self.used.set(used + written + 1);
        Some(buf.cast())
    }
}

/// Whether the `n` initialised bytes at `p` hold a NUL: 16 bytes per step with the target's
/// baseline vector unit (SSE2, NEON) for strings of 16 bytes or more, the last step
/// overlapping the one before; shorter ones in 8- or 4-byte words. No libc call.
///
/// # Safety
/// `p` points to `n` initialised bytes.
#[inline(always)]
pub unsafe fn has_nul(p: *const u8, n: usize) -> bool {
    // A word has a zero byte iff (x - 0x01..01) & !x & 0x80..80 is not zero.
    let zero64 = |x: u64| x.wrapping_sub(0x0101_0101_0101_0101) & !x & 0x8080_8080_8080_8080 != 0;
    let zero32 = |x: u32| x.wrapping_sub(0x0101_0101) & !x & 0x8080_8080 != 0;
    // SAFETY (every read): each read lies within the n bytes (the contract).
    unsafe {
        if n >= 16 {
            let mut i = 0;
            while i + 16 < n {
                if zero16(p.add(i)) {
                    return true;
                }
                i += 16;
            }
            return zero16(p.add(n - 16));
        }
        if n >= 8 {
            return zero64(p.cast::<u64>().read_unaligned())
                || zero64(p.add(n - 8).cast::<u64>().read_unaligned());
        }
        if n >= 4 {
            return zero32(p.cast::<u32>().read_unaligned())
                || zero32(p.add(n - 4).cast::<u32>().read_unaligned());
        }
        (0..n).any(|i| *p.add(i) == 0)
    }
}

/// Whether the 16 bytes at `p` hold a NUL.
///
/// # Safety
/// `p` points to 16 readable bytes.
#[inline(always)]
unsafe fn zero16(p: *const u8) -> bool {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: SSE2 is part of the x86_64 baseline; the load is unaligned and within the
    // 16 bytes (the contract).
    unsafe {
        use core::arch::x86_64::*;
        let v = _mm_loadu_si128(p.cast());
        _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_setzero_si128())) != 0
    }
    #[cfg(target_arch = "aarch64")]
    // SAFETY: NEON is part of the aarch64 baseline; the load is within the 16 bytes.
    unsafe {
        use core::arch::aarch64::*;
        vminvq_u8(vld1q_u8(p)) == 0
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    // SAFETY: the 16 bytes are readable (the contract).
    unsafe {
        let lo = p.cast::<u64>().read_unaligned();
        let hi = p.add(8).cast::<u64>().read_unaligned();
        let zero = |x: u64| x.wrapping_sub(0x0101_0101_0101_0101) & !x & 0x8080_8080_8080_8080 != 0;
        zero(lo) || zero(hi)
    }
}

/// The arena's top before a call's first string copy, put back when the call ends (dropped
/// after the call's `Scratch`, or on unwinding): it gives back the space of the strings the
/// call copied with `StringArena::push_c_string`. If the call's `Scratch` started lower (made
/// by an earlier argument), the top goes back there (the lower of the two).
pub struct ArenaTop<'a> {
    arena: &'a StringArena,
    top: usize,
}

impl<'a> ArenaTop<'a> {
    #[inline(always)]
    pub fn new(arena: &'a StringArena) -> Self {
        ArenaTop {
            arena,
            top: arena.used.get(),
        }
    }
}

impl Drop for ArenaTop<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        self.arena.used.set(self.arena.used.get().min(self.top));
    }
}

/// The C strings of one call: in the env's arena while it has room, else on the heap.
/// Every pointer handed out stays valid until the Scratch is dropped.
pub struct Scratch<'a> {
    arena: Option<&'a StringArena>,
    start: usize,
    long: Vec<Box<[u8]>>,
}

impl<'a> Scratch<'a> {
    /// For a synchronous call on the arena's JS thread.
    #[inline]
    pub fn new(arena: &'a StringArena) -> Self {
        Scratch {
            arena: Some(arena),
            start: arena.used.get(),
            long: Vec::new(),
        }
    }
}

impl<'a> Scratch<'a> {
    /// The arena this Scratch takes space from (None: heap only).
    #[inline(always)]
    pub fn arena(&self) -> Option<&'a StringArena> {
        self.arena
    }

    /// Keep `bytes` alive as long as the Scratch (a string copied to the heap).
    pub fn keep(&mut self, bytes: Box<[u8]>) {
        self.long.push(bytes);
    }
}

impl Scratch<'_> {
    /// `size` zeroed bytes aligned to `align` (a power of two) that live as long as the
    /// Scratch: a struct argument written from a plain object. In the arena while it has room
    /// (no allocation), else on the heap. Taken from the arena before the caller writes into
    /// them, so calls made meanwhile (by getters) stack above them.
    pub fn bytes(&mut self, size: usize, align: usize) -> *mut u8 {
        if let Some(arena) = self.arena {
            let used = arena.used.get();
            let base = arena.buf.get().cast::<u8>();
            // SAFETY: used <= STRING_ARENA: the pointer is inside the arena or one past it.
            let skew = unsafe { base.add(used) }.align_offset(align);
            if let Some(end) = used
                .checked_add(skew)
                .and_then(|s| s.checked_add(size))
                .filter(|end| *end <= STRING_ARENA)
            {
                arena.used.set(end);
                // SAFETY: [used + skew, end) lies inside the arena, which only this thread
                // uses (see StringArena) and which nothing else holds now.
                unsafe {
                    let p = base.add(used + skew);
                    ptr::write_bytes(p, 0, size);
                    return p;
                }
            }
        }
        let mut heap = vec![0u8; size + align].into_boxed_slice();
        let skew = heap.as_ptr().align_offset(align).min(align);
        // SAFETY: skew <= align, so [skew, skew + size) is inside the size + align bytes.
        let p = unsafe { heap.as_mut_ptr().add(skew) };
        self.long.push(heap);
        p
    }
}

impl Scratch<'static> {
    /// Heap-only storage: for conversions that may move to or outlive another thread
    /// (nonblocking calls), or that never see strings.
    pub fn heap() -> Self {
        Scratch {
            arena: None,
            start: 0,
            long: Vec::new(),
        }
    }
}

impl Drop for Scratch<'_> {
    #[inline]
    fn drop(&mut self) {
        if let Some(a) = self.arena {
            a.used.set(self.start);
        }
    }
}
