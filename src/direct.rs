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

/// How one argument of a direct call is converted: the common kinds inline, the rest by
/// `convert::to_c` (which also produces every error message).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op {
    /// A whole number in `lo..=hi` into general register `reg`: an integer of at most 32
    /// bits (char, i8..u32) in its type's range, a `_fast` or size integer within 2^53, a
    /// pointer given as a number (0..=2^53), a function pointer (4096..=2^53); anything else
    /// (null, bigint, buffers, JSCallback objects) by the general conversion. The bounds are
    /// doubles, compared with the argument as it is.
    Int { reg: u8, lo: f64, hi: f64 },
    /// A double into vector register `reg`.
    F64 { reg: u8 },
    /// A float (narrowed from the number) into vector register `reg`.
    F32 { reg: u8 },
    /// A 64-bit integer (i64, u64): a bigint in range first, then the general conversion.
    Wide { reg: u8, signed: bool },
    /// A boolean.
    Bool { reg: u8 },
    /// A C string: the JS string copied into the call's scratch (`convert::c_string`).
    CString { reg: u8 },
    /// A buffer argument: the bytes of a non-empty typed array, ArrayBuffer or DataView;
    /// everything else (null, empty or detached buffers, refusals) by the general conversion.
    Buffer { reg: u8 },
    /// Any other scalar: converted by `convert::to_c`, then placed.
    Other { reg: Reg, ty: FfiType },
}

impl Op {
    fn new(ty: FfiType, reg: Reg) -> Op {
        match (ty, reg) {
            (FfiType::F64, Reg::Fp(r)) => Op::F64 { reg: r },
            (FfiType::F32, Reg::Fp(r)) => Op::F32 { reg: r },
            (
                FfiType::Char
                | FfiType::I8
                | FfiType::U8
                | FfiType::I16
                | FfiType::U16
                | FfiType::I32
                | FfiType::U32,
                Reg::Int(r),
            ) => {
                let (lo, hi) = ty.int_range().unwrap_or((0, 0));
                Op::Int {
                    reg: r,
                    lo: lo as f64,
                    hi: hi as f64,
                }
            }
            // The `_fast` and size types usually get numbers (lengths, counts): a whole
            // number within 2^53 first; a bigint by the general conversion.
            (FfiType::I64Fast | FfiType::ISize, Reg::Int(r)) => Op::Int {
                reg: r,
                lo: -(crate::types::MAX_EXACT as f64),
                hi: crate::types::MAX_EXACT as f64,
            },
            (FfiType::U64Fast | FfiType::USize, Reg::Int(r)) => Op::Int {
                reg: r,
                lo: 0.0,
                hi: crate::types::MAX_EXACT as f64,
            },
            (FfiType::I64, Reg::Int(r)) => Op::Wide {
                reg: r,
                signed: true,
            },
            (FfiType::U64, Reg::Int(r)) => Op::Wide {
                reg: r,
                signed: false,
            },
            (FfiType::Bool, Reg::Int(r)) => Op::Bool { reg: r },
            (FfiType::Ptr, Reg::Int(r)) => Op::Int {
                reg: r,
                lo: 0.0,
                hi: crate::types::MAX_EXACT as f64,
            },
            // A function pointer as a number: NULL and the rest of the first page are below
            // the range, so the general conversion takes them (NULL allowed, the rest refused).
            (FfiType::Callback, Reg::Int(r)) => Op::Int {
                reg: r,
                lo: 4096.0,
                hi: crate::types::MAX_EXACT as f64,
            },
            (FfiType::CString, Reg::Int(r)) => Op::CString { reg: r },
            (FfiType::Buffer, Reg::Int(r)) => Op::Buffer { reg: r },
            _ => Op::Other { reg, ty },
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

type IntResultFn = unsafe extern "C" fn(
    u64,
    u64,
    u64,
    u64,
    u64,
    u64,
    f64,
    f64,
    f64,
    f64,
    f64,
    f64,
    f64,
    f64,
) -> u64;
type FloatResultFn = unsafe extern "C" fn(
    u64,
    u64,
    u64,
    u64,
    u64,
    u64,
    f64,
    f64,
    f64,
    f64,
    f64,
    f64,
    f64,
    f64,
) -> f64;

type IntOnlyFn = unsafe extern "C" fn(u64, u64, u64, u64, u64, u64) -> u64;
type IntOnlyFloatResultFn = unsafe extern "C" fn(u64, u64, u64, u64, u64, u64) -> f64;

/// The registers of one direct call. Both arrays have 8 entries (only the first 6 integer
/// ones are passed) so an index masked with `& 7` needs no bounds check.
pub struct Regs {
    pub int: [u64; 8],
    pub fp: [f64; FP_REGS],
}

impl Regs {
    #[inline(always)]
    pub fn new() -> Regs {
        Regs {
            int: [0; 8],
            fp: [0.0; FP_REGS],
        }
    }

    /// Put the converted argument `slot` where `reg` says.
    #[inline(always)]
    pub fn place(&mut self, reg: Reg, slot: u64) {
        match reg {
            Reg::Int(k) => self.set_int(k, slot),
            Reg::Fp(k) => self.set_fp(k, f64::from_bits(slot)),
        }
    }

    #[inline(always)]
    pub fn set_int(&mut self, k: u8, v: u64) {
        self.int[k as usize & 7] = v;
    }

    #[inline(always)]
    pub fn set_fp(&mut self, k: u8, v: f64) {
        self.fp[k as usize & 7] = v;
    }
}

impl Default for Regs {
    fn default() -> Self {
        Regs::new()
    }
}

/// Call `code` with registers filled by `Regs::place`. Signatures without floating
/// arguments go through a prototype with only the six integer registers (a callee never
/// reads a vector register its prototype does not name).
///
/// # Safety
/// As `call`; `plan` is the plan `r` was filled by.
#[inline(always)]
pub unsafe fn call_regs(code: *const std::ffi::c_void, plan: &DirectPlan, r: &Regs) -> u64 {
    // SAFETY: per `call`'s contract.
    unsafe {
        if plan.int_only {
            call_regs_int(code, plan.float_result, &r.int)
        } else {
            call_regs_all(code, plan.float_result, &r.int, &r.fp)
        }
    }
}

/// Call `code` with the first six of `int` in the integer argument registers; the result is
/// read from the vector register when `float_result`.
///
/// # Safety
/// `code` is a non-variadic C function of integer-class arguments only, whose prototype
/// matches the values (see the module doc); x86_64 or aarch64.
#[inline(always)]
pub unsafe fn call_regs_int(
    code: *const std::ffi::c_void,
    float_result: bool,
    int: &[u64; 8],
) -> u64 {
    let i = int;
    // SAFETY: per the contract.
    unsafe {
        if float_result {
            let fun: IntOnlyFloatResultFn = std::mem::transmute(code);
            return fun(i[0], i[1], i[2], i[3], i[4], i[5]).to_bits();
        }
        let fun: IntOnlyFn = std::mem::transmute(code);
        fun(i[0], i[1], i[2], i[3], i[4], i[5])
    }
}

/// Call `code` with six integer and eight vector argument registers; the result is read
/// from the vector register when `float_result`.
///
/// # Safety
/// `code` is a non-variadic C function whose prototype matches the values (see the module
/// doc); x86_64 or aarch64.
#[inline(always)]
pub unsafe fn call_regs_all(
    code: *const std::ffi::c_void,
    float_result: bool,
    i: &[u64; 8],
    f: &[f64; FP_REGS],
) -> u64 {
    // SAFETY: per the contract.
    unsafe {
        if float_result {
            let fun: FloatResultFn = std::mem::transmute(code);
            fun(
                i[0], i[1], i[2], i[3], i[4], i[5], f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7],
            )
            .to_bits()
        } else {
            let fun: IntResultFn = std::mem::transmute(code);
            fun(
                i[0], i[1], i[2], i[3], i[4], i[5], f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7],
            )
        }
    }
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
            regs.place(*reg, slot);
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
