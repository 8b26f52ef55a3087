//! Direct calls: the fast path for the common shapes, without libffi.
//!
//! On the two supported ABIs (System V x86-64 and AAPCS64) a non-variadic call passes its
//! integer-class arguments (integers, bool, pointers) in general registers in order, and its
//! floating arguments in vector registers in order, each class independently of the other.
//! So every signature whose arguments fit in registers (at most 6 integer-class and 8
//! floating ones) and whose result is an integer, pointer, float or void can be called
//! through ONE function type with 6 `u64` and 8 `f64` parameters: the callee reads the
//! registers its own prototype names and ignores the rest. Integer arguments are passed
//! sign- or zero-extended to 64 bits (what clang-built callees expect of narrow ones); an f32
//! travels as its bits in the low half of a vector register, which is where the callee reads
//! it. Narrow integer results are masked by the result conversion (the upper bits of the
//! register are undefined); an f32 result is read from the low half of the f64 register.
//! Structs, more arguments, and other targets use libffi.

use std::mem::MaybeUninit;

use crate::layout::ArgType;
use crate::types::FfiType;

/// Direct calls are on unless the environment variable `ARKFFI_NO_DIRECT=1` turns them off
/// (so the tests and benchmarks can run every call through libffi too).
pub static ENABLED: once_cell::sync::Lazy<bool> =
    once_cell::sync::Lazy::new(|| std::env::var_os("ARKFFI_NO_DIRECT").is_none_or(|v| v != "1"));

pub const INT_REGS: usize = 6;
pub const FP_REGS: usize = 8;

/// Where one argument goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reg {
    Int(u8),
    Fp(u8),
}

impl Reg {
    /// The register's slot in `Regs`: integer registers at 0..6, vector registers at 8..16.
    pub const fn at(self) -> u8 {
        match self {
            Reg::Int(k) => k,
            Reg::Fp(k) => FP_BASE + k,
        }
    }
}

/// The slot of vector register 0 in `Regs`.
const FP_BASE: u8 = 8;

/// How one argument of a direct call is converted: the common kinds inline, the rest by
/// `convert::to_c` (which also produces every error message). `at` is the argument's slot in
/// `Regs` (`Reg::at`), always below `SLOTS`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op {
    /// An `int32_t`: a number that is a whole i32 (one round trip, no range compares).
    I32 { at: u8 },
    /// A whole number in `lo..=hi` into a general register: any other integer of at most 32
    /// bits (char, i8..u32) in its type's range, a `_fast` or size integer within 2^53, a
    /// pointer given as a number (0..=2^53), a function pointer (4096..=2^53); anything else
    /// (null, bigint, buffers, JSCallback objects) by the general conversion. The bounds are
    /// doubles, compared with the argument as it is.
    Int { at: u8, lo: f64, hi: f64 },
    /// A double into a vector register.
    F64 { at: u8 },
    /// A float (narrowed from the number) into a vector register.
    F32 { at: u8 },
    /// A 64-bit integer (i64, u64): a bigint in range first, then the general conversion.
    Wide { at: u8, signed: bool },
    /// A boolean.
    Bool { at: u8 },
    /// A C string: the JS string copied into the call's scratch (`convert::c_string`).
    CString { at: u8 },
    /// A buffer argument: the bytes of a non-empty typed array inline; ArrayBuffers,
    /// DataViews and everything else (null, empty or detached buffers, refusals) by the
    /// general conversion.
    Buffer { at: u8 },
    /// Any other scalar: converted by `convert::to_c`, then placed.
    Other { at: u8, ty: FfiType },
}

impl Op {
    fn new(ty: FfiType, reg: Reg) -> Op {
        let at = reg.at();
        let int = matches!(reg, Reg::Int(_));
        let exact = crate::types::MAX_EXACT as f64;
        match ty {
            FfiType::F64 if !int => Op::F64 { at },
            FfiType::F32 if !int => Op::F32 { at },
            FfiType::I32 if int => Op::I32 { at },
            FfiType::Char
            | FfiType::I8
            | FfiType::U8
            | FfiType::I16
            | FfiType::U16
            | FfiType::U32
                if int =>
            {
                let (lo, hi) = ty.int_range().unwrap_or((0, 0));
                Op::Int {
                    at,
                    lo: lo as f64,
                    hi: hi as f64,
                }
            }
            // The `_fast` and size types usually get numbers (lengths, counts): a whole
            // number within 2^53 first; a bigint by the general conversion.
            FfiType::I64Fast | FfiType::ISize if int => Op::Int {
                at,
                lo: -exact,
                hi: exact,
            },
            FfiType::U64Fast | FfiType::USize | FfiType::Ptr if int => Op::Int {
                at,
                lo: 0.0,
                hi: exact,
            },
            FfiType::I64 if int => Op::Wide { at, signed: true },
            FfiType::U64 if int => Op::Wide { at, signed: false },
            FfiType::Bool if int => Op::Bool { at },
            // A function pointer as a number: NULL and the rest of the first page are below
            // the range, so the general conversion takes them (NULL allowed, the rest refused).
            FfiType::Callback if int => Op::Int {
                at,
                lo: 4096.0,
                hi: exact,
            },
            FfiType::CString if int => Op::CString { at },
            FfiType::Buffer if int => Op::Buffer { at },
            _ => Op::Other { at, ty },
        }
    }
}

/// The register assignment of a signature, when it can be called directly.
#[derive(Clone, Debug, PartialEq)]
pub struct DirectPlan {
    pub regs: Box<[Reg]>,
    /// The result type (a scalar: plans are made for scalar results only).
    pub ret: FfiType,
    /// One conversion per argument, in order.
    pub ops: Box<[Op]>,
    /// The result is read from the floating register (f32/f64) rather than the integer one.
    pub float_result: bool,
    /// No floating arguments: the call need not load the vector registers.
    pub int_only: bool,
}

impl DirectPlan {
    /// The plan for `args -> ret`, or None when libffi must do the call.
    pub fn new(args: &[ArgType], ret: &ArgType) -> Option<DirectPlan> {
        if !cfg!(any(target_arch = "x86_64", target_arch = "aarch64")) {
            return None;
        }
        let ret = match ret {
            ArgType::Struct(_) => return None,
            ArgType::Scalar(t) => *t,
        };
        let float_result = is_float(ret);
        let (mut ints, mut fps) = (0u8, 0u8);
        let mut regs = Vec::with_capacity(args.len());
        let mut ops = Vec::with_capacity(args.len());
        for a in args {
            let ArgType::Scalar(t) = *a else {
                return None;
            };
            let reg = if is_float(t) {
                fps += 1;
                Reg::Fp(fps - 1)
            } else {
                ints += 1;
                Reg::Int(ints - 1)
            };
            if ints as usize > INT_REGS || fps as usize > FP_REGS {
                return None;
            }
            regs.push(reg);
            ops.push(Op::new(t, reg));
        }
        Some(DirectPlan {
            regs: regs.into_boxed_slice(),
            ret,
            ops: ops.into_boxed_slice(),
            float_result,
            int_only: fps == 0,
        })
    }
}

fn is_float(t: FfiType) -> bool {
    matches!(t, FfiType::F32 | FfiType::F64)
}

/// A register value, left uninitialised when the callee's prototype does not name the
/// register: the call passes all of them, the callee reads only its own (so the registers
/// need no zeroing before each call, and no uninitialised value is ever read as a number).
type Word = MaybeUninit<u64>;
type FWord = MaybeUninit<f64>;

/// The prototype a direct call is made through: the six integer argument registers, the
/// eight vector ones, and the result in the register of `R` (u64: the integer register; f64:
/// the vector register).
type AllRegsFn<R> = unsafe extern "C" fn(
    Word,
    Word,
    Word,
    Word,
    Word,
    Word,
    FWord,
    FWord,
    FWord,
    FWord,
    FWord,
    FWord,
    FWord,
    FWord,
) -> R;
/// As `AllRegsFn`, without vector arguments (a callee of integer-class arguments only).
type IntRegsFn<R> = unsafe extern "C" fn(Word, Word, Word, Word, Word, Word) -> R;

/// The number of slots of `Regs`.
pub const SLOTS: usize = 16;

/// The registers of one direct call, by slot (`Reg::at`): the six integer argument registers
/// at 0..6, the eight vector ones at 8..16, each a u64 (a double as its bits). Only the slots
/// the arguments fill are written; the rest stay uninitialised (see `Word`).
pub struct Regs {
    slots: [Word; SLOTS],
}

impl Regs {
    #[inline(always)]
    pub fn new() -> Regs {
        Regs {
            slots: [MaybeUninit::uninit(); SLOTS],
        }
    }

    /// Put an argument's bits in slot `at`.
    ///
    /// # Safety
    /// `at < SLOTS` (every `Op`'s and `Reg::at`'s slot is).
    #[inline(always)]
    pub unsafe fn set(&mut self, at: u8, bits: u64) {
        // SAFETY: at < SLOTS (the contract).
        unsafe { *self.slots.get_unchecked_mut(at as usize) = MaybeUninit::new(bits) };
    }

    /// The vector register slots as doubles (same size and alignment; still maybe
    /// uninitialised).
    #[inline(always)]
    fn fp(&self, k: usize) -> FWord {
        // SAFETY: MaybeUninit<u64> and MaybeUninit<f64> have the same size and alignment,
        // and a MaybeUninit may hold any bits (or none).
        unsafe { std::mem::transmute::<Word, FWord>(self.slots[FP_BASE as usize + k]) }
    }
}

impl Default for Regs {
    fn default() -> Self {
        Regs::new()
    }
}

/// Call `code` with registers filled by `Regs::set`. Signatures without floating arguments go
/// through a prototype with only the six integer registers (a callee never reads a vector
/// register its prototype does not name).
///
/// # Safety
/// `code` is a non-variadic C function whose prototype matches `plan`, and `r` holds every
/// argument of `plan` in its slot (see the module doc); x86_64 or aarch64.
#[inline(always)]
pub unsafe fn call_regs(code: *const std::ffi::c_void, plan: &DirectPlan, r: &Regs) -> u64 {
    // SAFETY: per the contract.
    unsafe { call_regs_as(code, plan.int_only, plan.float_result, r) }
}

/// `call_regs` with the prototype's kind given: `int_only` (no vector argument registers),
/// `float_result` (the result is read from the vector register).
///
/// # Safety
/// As `call_regs`, with `int_only` and `float_result` those of the function's plan.
#[inline(always)]
pub unsafe fn call_regs_as(
    code: *const std::ffi::c_void,
    int_only: bool,
    float_result: bool,
    r: &Regs,
) -> u64 {
    // SAFETY: per the contract.
    unsafe {
        match (int_only, float_result) {
            (true, false) => call_as::<IntRegsFn<u64>, u64>(code, r),
            (true, true) => call_as::<IntRegsFn<f64>, f64>(code, r).to_bits(),
            (false, false) => call_as::<AllRegsFn<u64>, u64>(code, r),
            (false, true) => call_as::<AllRegsFn<f64>, f64>(code, r).to_bits(),
        }
    }
}

/// A prototype of a direct call: called with the registers of `Regs`.
trait RegsFn<R>: Copy {
    /// # Safety
    /// `self` is a function whose prototype matches the filled slots of `r`.
    unsafe fn call(self, r: &Regs) -> R;
}

impl<R> RegsFn<R> for IntRegsFn<R> {
    #[inline(always)]
    unsafe fn call(self, r: &Regs) -> R {
        let i = &r.slots;
        // SAFETY: per the contract.
        unsafe { self(i[0], i[1], i[2], i[3], i[4], i[5]) }
    }
}

impl<R> RegsFn<R> for AllRegsFn<R> {
    #[inline(always)]
    unsafe fn call(self, r: &Regs) -> R {
        let (i, f) = (&r.slots, |k| r.fp(k));
        // SAFETY: per the contract.
        unsafe {
            self(
                i[0],
                i[1],
                i[2],
                i[3],
                i[4],
                i[5],
                f(0),
                f(1),
                f(2),
                f(3),
                f(4),
                f(5),
                f(6),
                f(7),
            )
        }
    }
}

/// Call `code` through the prototype `F`.
///
/// # Safety
/// `code` is a function of prototype `F` (see the module doc) whose arguments are in `r`.
#[inline(always)]
unsafe fn call_as<F: RegsFn<R>, R>(code: *const std::ffi::c_void, r: &Regs) -> R {
    // SAFETY: a function pointer and a code address have the same size; the contract says
    // the code has this prototype.
    let fun: F = unsafe { std::mem::transmute_copy(&code) };
    // SAFETY: forwarded contract.
    unsafe { fun.call(r) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Call `code` with the argument slots placed by `plan`; returns the raw result bits (an
    /// integer register, or the bits of the floating register).
    ///
    /// # Safety
    /// `code` is a non-variadic C function whose prototype matches the signature `plan` was
    /// made from, and `slots[i]` holds argument i as convert::to_c writes it (integers extended
    /// to 64 bits, floats as their bits). Only compiled in on x86_64 and aarch64, whose calling
    /// conventions are described at the top of this module.
    #[inline]
    pub unsafe fn call(code: *const std::ffi::c_void, plan: &DirectPlan, slots: &[u64]) -> u64 {
        let mut regs = Regs::new();
        for (reg, &slot) in plan.regs.iter().zip(slots) {
            // SAFETY: Reg::at is below SLOTS.
            unsafe { regs.set(reg.at(), slot) };
        }
        // SAFETY: forwarded contract.
        unsafe { call_regs(code, plan, &regs) }
    }

    fn sc(t: FfiType) -> ArgType {
        ArgType::Scalar(t)
    }

    extern "C" fn mixed(a: i8, x: f32, b: u16, y: f64, c: i64, p: *const u8) -> f64 {
        a as f64 + x as f64 + b as f64 + y + c as f64 + if p.is_null() { 0.0 } else { 1000.0 }
    }
    extern "C" fn narrow(a: i8, b: i8) -> i8 {
        a.wrapping_add(b)
    }
    extern "C" fn f32_result(a: f32, n: i32) -> f32 {
        a * n as f32
    }
    extern "C" fn six_and_eight(
        a: i64,
        b: i64,
        c: i64,
        d: i64,
        e: i64,
        f: i64,
        g: f64,
        h: f64,
        i: f64,
        j: f64,
        k: f64,
        l: f64,
        m: f64,
        n: f64,
    ) -> i64 {
        a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f + (g + h + i + j + k + l + m + n) as i64
    }

    #[test]
    fn plans() {
        let p = DirectPlan::new(
            &[
                sc(FfiType::I32),
                sc(FfiType::F64),
                sc(FfiType::Ptr),
                sc(FfiType::F32),
            ],
            &sc(FfiType::F32),
        )
        .unwrap();
        assert_eq!(
            &*p.regs,
            &[Reg::Int(0), Reg::Fp(0), Reg::Int(1), Reg::Fp(1)]
        );
        assert!(p.float_result);
        assert!(DirectPlan::new(&vec![sc(FfiType::I64); 7], &sc(FfiType::Void)).is_none());
        assert!(DirectPlan::new(&vec![sc(FfiType::F64); 9], &sc(FfiType::Void)).is_none());
        assert!(DirectPlan::new(&vec![sc(FfiType::F64); 8], &sc(FfiType::Void)).is_some());
    }

    #[test]
    fn calls_match_the_callees_prototypes() {
        let plan = DirectPlan::new(
            &[
                sc(FfiType::I8),
                sc(FfiType::F32),
                sc(FfiType::U16),
                sc(FfiType::F64),
                sc(FfiType::I64),
                sc(FfiType::Ptr),
            ],
            &sc(FfiType::F64),
        )
        .unwrap();
        let slots = [
            (-3i64) as u64,
            1.5f32.to_bits() as u64,
            65535,
            0.25f64.to_bits(),
            (-10i64) as u64,
            0x1000,
        ];
        // SAFETY: the plan was made from mixed's prototype; slots hold values as to_c does.
        let r = f64::from_bits(unsafe { call(mixed as *const _, &plan, &slots) });
        assert_eq!(r, -3.0 + 1.5 + 65535.0 + 0.25 - 10.0 + 1000.0);

        let plan = DirectPlan::new(&[sc(FfiType::I8), sc(FfiType::I8)], &sc(FfiType::I8)).unwrap();
        // SAFETY: as above.
        let raw = unsafe {
            call(
                narrow as *const _,
                &plan,
                &[(-100i64) as u64, (-100i64) as u64],
            )
        };
        assert_eq!(raw as u8 as i8, (-100i8).wrapping_add(-100));

        let plan =
            DirectPlan::new(&[sc(FfiType::F32), sc(FfiType::I32)], &sc(FfiType::F32)).unwrap();
        // SAFETY: as above.
        let raw = unsafe { call(f32_result as *const _, &plan, &[2.5f32.to_bits() as u64, 4]) };
        assert_eq!(f32::from_bits(raw as u32), 10.0);

        let mut args = vec![sc(FfiType::I64); 6];
        args.extend(vec![sc(FfiType::F64); 8]);
        let plan = DirectPlan::new(&args, &sc(FfiType::I64)).unwrap();
        let mut slots: Vec<u64> = (1..=6).map(|v| v as u64).collect();
        slots.extend((1..=8).map(|v| (v as f64).to_bits()));
        // SAFETY: as above.
        let raw = unsafe { call(six_and_eight as *const _, &plan, &slots) };
        assert_eq!(raw as i64, 1 + 4 + 9 + 16 + 25 + 36 + 36);
    }
}
