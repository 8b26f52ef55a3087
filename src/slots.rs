//! The callback slot table: the C function pointers of JSCallbacks are machine code compiled
//! into libarkffi.so, so that no code is ever mapped at run time.
//!
//! HarmonyOS maps executable pages only from signed files, and a library kept uncompressed in
//! the .hap is mapped straight from the package. libffi's own closures either allocate
//! executable memory or (static trampolines) map extra copies of a code page of the library
//! file at run time; neither happens here. Instead the `.text` section holds a fixed table of
//! [`SLOT_COUNT`] stubs, 16 bytes each, all alike:
//!
//! ```text
//! slot i:   (landing pad)  r = address of slot i  ;  jump to common
//! common:   i = (r - table) / 16;  closure = data[i].closure;  entry = data[i].entry
//!           jump to entry with the closure in libffi's closure register
//! ```
//!
//! `data[i]` is ordinary memory (`.bss`). `entry` is one of libffi's closure entry points,
//! which expect the closure in a register (x86_64: `r10`, aarch64: `x17`), exactly as libffi's
//! own trampolines leave it; from there libffi does all the ABI work (arguments, results,
//! structs by value, HFAs, x8 returns) and calls the closure's function. The closures are
//! prepared by `ffi_prep_closure_loc` in ordinary memory: the trampoline bytes it writes into
//! them are never executed.
//!
//! A free slot points at a "dead" closure whose function aborts with a clear message, so a C
//! library that calls a closed callback's pointer gets that message rather than a jump into
//! freed memory. Freed slots are reused in the order they were freed (first in, first out),
//! so a stale pointer meets the dead closure for as long as possible; once its slot serves a
//! new callback, a call through the stale pointer runs the new callback (that cannot be told
//! apart from a legitimate call).
//!
//! The number of slots is set at build time: `ARKFFI_CALLBACK_SLOTS=<n>` in the environment of
//! `cargo build` (1 to 65536; default 4096). Each slot costs 16 bytes of code and 16 bytes of
//! data plus a closure (about 56 bytes) of zeroed memory.

use std::cell::UnsafeCell;
use std::collections::VecDeque;
use std::ffi::c_void;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

use libffi::low::ffi_cif;
use libffi::raw::{ffi_closure, ffi_prep_cif, ffi_prep_closure_loc, ffi_status_FFI_OK};
use once_cell::sync::Lazy;
use parking_lot::Mutex;

/// How many callbacks can be open at once (set at build time, see the module docs).
pub const SLOT_COUNT: usize = parse_count(option_env!("ARKFFI_CALLBACK_SLOTS"));

/// Bytes of code per slot.
pub const SLOT_STRIDE: usize = 16;

const fn parse_count(s: Option<&str>) -> usize {
    let Some(s) = s else { return 4096 };
    let b = s.as_bytes();
    assert!(!b.is_empty(), "ARKFFI_CALLBACK_SLOTS is empty");
    let mut n = 0usize;
    let mut i = 0;
    while i < b.len() {
        assert!(
            b[i].is_ascii_digit(),
            "ARKFFI_CALLBACK_SLOTS must be a whole number"
        );
        n = n * 10 + (b[i] - b'0') as usize;
        assert!(n <= 65536, "ARKFFI_CALLBACK_SLOTS must be at most 65536");
        i += 1;
    }
    assert!(n >= 1, "ARKFFI_CALLBACK_SLOTS must be at least 1");
    n
}

/// What stub `i` jumps to: read by the assembly below, written only under [`FREE`]'s lock.
#[repr(C)]
struct SlotData {
    closure: AtomicPtr<ffi_closure>,
    entry: AtomicUsize,
}

const _: () = assert!(std::mem::size_of::<SlotData>() == SLOT_STRIDE);

extern "C" {
    /// The first stub (the table's code, [`SLOT_COUNT`] × [`SLOT_STRIDE`] bytes).
    static arkffi_slot_code: u8;
    /// One past the last stub.
    static arkffi_slot_code_end: u8;
    /// `SLOT_COUNT` records of [`SlotData`] (zeroed memory).
    static arkffi_slot_data: [SlotData; SLOT_COUNT];
}

// libffi's closure entry points (hidden symbols of the statically linked libffi). The `_sse`
// / `_V` variants also save the vector argument registers; the others are for signatures
// without floating-point arguments (libffi chooses the same way).
#[cfg(target_arch = "x86_64")]
extern "C" {
    fn ffi_closure_unix64();
    fn ffi_closure_unix64_sse();
}
#[cfg(target_arch = "aarch64")]
extern "C" {
    fn ffi_closure_SYSV();
    fn ffi_closure_SYSV_V();
}

#[cfg(target_arch = "aarch64")]
use self::{ffi_closure_SYSV as plain_entry, ffi_closure_SYSV_V as vector_entry};
#[cfg(target_arch = "x86_64")]
use self::{ffi_closure_unix64 as plain_entry, ffi_closure_unix64_sse as vector_entry};

fn entry_point(vector_args: bool) -> usize {
    if vector_args {
        vector_entry as *const () as usize
    } else {
        plain_entry as *const () as usize
    }
}

// x86_64 stub: `endbr64` (a no-op without CET), `lea` of its own address into r10, and a
// 5-byte `jmp` written as bytes so that the assembler cannot shorten it: exactly 16 bytes.
#[cfg(target_arch = "x86_64")]
std::arch::global_asm!(
    ".pushsection .text.arkffi_slots,\"ax\",@progbits",
    ".balign 16",
    "arkffi_slot_common:",
    "lea arkffi_slot_code(%rip), %r11",
    "sub %r11, %r10",
    "lea arkffi_slot_data(%rip), %r11",
    "add %r11, %r10",
    "mov 8(%r10), %r11",
    "mov (%r10), %r10",
    "jmp *%r11",
    ".balign 16",
    ".globl arkffi_slot_code",
    ".hidden arkffi_slot_code",
    "arkffi_slot_code:",
    ".rept {n}",
    "2:",
    "endbr64",
    "lea 2b(%rip), %r10",
    ".byte 0xe9",
    ".long arkffi_slot_common - (. + 4)",
    ".balign 16, 0xcc",
    ".endr",
    ".globl arkffi_slot_code_end",
    ".hidden arkffi_slot_code_end",
    "arkffi_slot_code_end:",
    ".popsection",
    ".pushsection .bss.arkffi_slots,\"aw\",@nobits",
    ".balign 64",
    ".globl arkffi_slot_data",
    ".hidden arkffi_slot_data",
    "arkffi_slot_data:",
    ".zero {size}",
    ".popsection",
    n = const SLOT_COUNT,
    size = const SLOT_COUNT * SLOT_STRIDE,
    options(att_syntax)
);

// aarch64 stub: `bti c` (a no-op without BTI), `adr` of its own address into x17, a branch to
// the common part: 12 bytes, padded to 16. x16/x17 are the intra-procedure-call scratch
// registers; x8 (the struct result address) and the argument registers are left alone.
#[cfg(target_arch = "aarch64")]
std::arch::global_asm!(
    ".pushsection .text.arkffi_slots,\"ax\",%progbits",
    ".balign 16",
    "arkffi_slot_common:",
    "adr x16, arkffi_slot_code",
    "sub x17, x17, x16",
    "adrp x16, arkffi_slot_data",
    "add x16, x16, :lo12:arkffi_slot_data",
    "add x17, x16, x17",
    "ldr x16, [x17, #8]",
    "ldr x17, [x17]",
    "br x16",
    ".balign 16",
    ".globl arkffi_slot_code",
    ".hidden arkffi_slot_code",
    "arkffi_slot_code:",
    ".rept {n}",
    "2:",
    "hint #34",
    "adr x17, 2b",
    "b arkffi_slot_common",
    ".balign 16",
    ".endr",
    ".globl arkffi_slot_code_end",
    ".hidden arkffi_slot_code_end",
    "arkffi_slot_code_end:",
    ".popsection",
    ".pushsection .bss.arkffi_slots,\"aw\",%nobits",
    ".balign 64",
    ".globl arkffi_slot_data",
    ".hidden arkffi_slot_data",
    "arkffi_slot_data:",
    ".zero {size}",
    ".popsection",
    n = const SLOT_COUNT,
    size = const SLOT_COUNT * SLOT_STRIDE,
);

/// The closures of the slots (ordinary zeroed memory; libffi fills them).
struct Closures(UnsafeCell<[ffi_closure; SLOT_COUNT]>);
// SAFETY: closure i is written only by the owner of slot i (under FREE's lock while it is
// acquired or released); C threads only read it through the stubs.
unsafe impl Sync for Closures {}
// SAFETY: all-zero bytes are a valid ffi_closure (null pointers, zero bytes).
static CLOSURES: Closures = Closures(UnsafeCell::new(unsafe { std::mem::zeroed() }));

/// The free slots, least recently freed first.
static FREE: Lazy<Mutex<VecDeque<u32>>> = Lazy::new(|| {
    let dead = dead_closure();
    // SAFETY: the data table has SLOT_COUNT records; no slot is handed out yet, so nothing
    // else writes them.
    let data = unsafe { &*std::ptr::addr_of!(arkffi_slot_data) };
    for d in data.iter() {
        d.entry.store(entry_point(false), Ordering::Relaxed);
        d.closure.store(dead, Ordering::Release);
    }
    Mutex::new((0..SLOT_COUNT as u32).collect())
});

/// The closure every free slot points at: `void (void)`, its function aborts.
fn dead_closure() -> *mut ffi_closure {
    /// The address of the dead closure, prepared once in memory that never moves: the
    /// closure points at its cif, so both must stay where they were prepared (a cif prepared
    /// in a local and then moved into a static left the closure pointing at a stale stack
    /// slot, which crashed instead of aborting with the message below).
    static DEAD: Lazy<usize> = Lazy::new(|| {
        // SAFETY: all-zero bytes are a valid cif and closure before preparation.
        let pair: &'static mut (ffi_cif, ffi_closure) =
            Box::leak(Box::new(unsafe { std::mem::zeroed() }));
        let (cif, closure) = (&mut pair.0 as *mut ffi_cif, &mut pair.1 as *mut ffi_closure);
        // SAFETY: a cif of no arguments returning libffi's static void type, and a closure
        // of it, both in a leaked allocation that lives (and stays put) for ever.
        unsafe {
            let void = std::ptr::addr_of_mut!(libffi::raw::ffi_type_void);
            let status = ffi_prep_cif(
                cif,
                libffi::raw::ffi_abi_FFI_DEFAULT_ABI,
                0,
                void,
                std::ptr::null_mut(),
            );
            assert_eq!(
                status, ffi_status_FFI_OK,
                "libffi could not prepare a void cif"
            );
            let status = ffi_prep_closure_loc(
                closure,
                cif,
                Some(dead),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            );
            assert_eq!(
                status, ffi_status_FFI_OK,
                "libffi could not prepare a closure"
            );
        }
        closure as usize
    });
    unsafe extern "C" fn dead(
        _cif: *mut ffi_cif,
        _ret: *mut c_void,
        _args: *mut *mut c_void,
        _data: *mut c_void,
    ) {
        crate::boundary::fatal(
            "a closed JSCallback was called from C: the C library kept its pointer after close()",
        );
    }
    *DEAD as *mut ffi_closure
}

/// The code address of slot `i` (the C function pointer).
pub fn code(i: u32) -> usize {
    let base = std::ptr::addr_of!(arkffi_slot_code) as usize;
    base + i as usize * SLOT_STRIDE
}

/// The table's code as a range of addresses (for tests).
pub fn code_range() -> (usize, usize) {
    (
        std::ptr::addr_of!(arkffi_slot_code) as usize,
        std::ptr::addr_of!(arkffi_slot_code_end) as usize,
    )
}

/// Every slot is in use.
#[derive(Debug)]
pub struct Exhausted;

/// Takes a free slot (it still reaches the dead closure until [`arm`]).
pub fn take() -> Result<u32, Exhausted> {
    FREE.lock().pop_front().ok_or(Exhausted)
}

/// Makes the stub of slot `i` call `fun(cif, ret, args, user_data)` through libffi.
/// `vector_args` must be true when any argument is floating-point or a struct (the entry that
/// also saves the vector registers).
///
/// # Safety
/// `i` came from [`take`] and is not released; `cif` stays valid until the slot is released;
/// `fun` is safe to call with `user_data` for as long as the slot is held.
pub unsafe fn arm(
    i: u32,
    cif: *mut ffi_cif,
    fun: unsafe extern "C" fn(*mut ffi_cif, *mut c_void, *mut *mut c_void, *mut c_void),
    user_data: *mut c_void,
    vector_args: bool,
) {
    // SAFETY: slot i is ours (taken off the free list): nothing else writes its closure; a
    // stub that C calls through a stale pointer still reads the dead closure until the store
    // below. The closure is reached through a raw pointer, never a reference to the table.
    unsafe {
        let closure = CLOSURES.0.get().cast::<ffi_closure>().add(i as usize);
        let status =
            ffi_prep_closure_loc(closure, cif, Some(fun), user_data, code(i) as *mut c_void);
        if status != ffi_status_FFI_OK {
            crate::boundary::fatal(&format!(
                "libffi could not prepare a closure (status {status})"
            ));
        }
        let d = &arkffi_slot_data[i as usize];
        d.entry.store(entry_point(vector_args), Ordering::Relaxed);
        d.closure.store(closure, Ordering::Release);
    }
}

/// Gives slot `i` back: its stub reaches the dead closure again, and the slot is reused after
/// every slot freed before it.
///
/// # Safety
/// `i` came from [`take`] and is released once; C must not call it any more.
pub unsafe fn release(i: u32) {
    let mut free = FREE.lock();
    // SAFETY: slot i is ours until it is back on the free list.
    unsafe {
        let d = &arkffi_slot_data[i as usize];
        d.closure.store(dead_closure(), Ordering::Release);
        d.entry.store(entry_point(false), Ordering::Relaxed);
    }
    free.push_back(i);
}

/// Slots in use.
pub fn in_use() -> usize {
    SLOT_COUNT - FREE.lock().len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use libffi::middle::{Cif, Type};

    #[test]
    fn the_table_has_one_stub_of_16_bytes_per_slot() {
        let (start, end) = code_range();
        assert_eq!(end - start, SLOT_COUNT * SLOT_STRIDE);
        assert_eq!(code(1) - code(0), SLOT_STRIDE);
    }

    unsafe extern "C" fn add(
        _cif: *mut ffi_cif,
        ret: *mut c_void,
        args: *mut *mut c_void,
        data: *mut c_void,
    ) {
        // SAFETY: the cif below is (i32, f64, i64) -> i64; data is a plain number.
        unsafe {
            let a = *(*args.add(0) as *const i32) as i64;
            let b = *(*args.add(1) as *const f64) as i64;
            let c = *(*args.add(2) as *const i64);
            *(ret as *mut i64) = a + b + c + data as i64;
        }
    }

    #[test]
    fn a_slot_calls_its_closure_with_libffi_decoding_the_arguments() {
        let cif = Cif::new([Type::i32(), Type::f64(), Type::i64()], Type::i64());
        // SAFETY: the cif lives to the end of the test, where the slot is released.
        unsafe {
            let i = take().unwrap();
            arm(i, cif.as_raw_ptr(), add, 1000 as *mut c_void, true);
            let f: extern "C" fn(i32, f64, i64) -> i64 = std::mem::transmute(code(i));
            assert_eq!(f(1, 20.5, 300), 1321);
            // A second slot with other data at the same time.
            let j = take().unwrap();
            arm(j, cif.as_raw_ptr(), add, 5 as *mut c_void, true);
            let g: extern "C" fn(i32, f64, i64) -> i64 = std::mem::transmute(code(j));
            assert_eq!(g(1, 2.0, 3), 11);
            assert_eq!(f(0, 0.0, 0), 1000);
            release(j);
            release(i);
        }
    }

    #[test]
    fn released_slots_are_reused_last() {
        let cif = Cif::new([Type::i32(), Type::f64(), Type::i64()], Type::i64());
        // SAFETY: as above.
        unsafe {
            let a = take().unwrap();
            arm(a, cif.as_raw_ptr(), add, std::ptr::null_mut(), true);
            release(a);
            let b = take().unwrap();
            assert_ne!(a, b, "a freed slot goes to the back of the queue");
            release(b);
        }
    }
}
