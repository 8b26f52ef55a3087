//! Shaped direct calls: entry points compiled for one shape of arguments, the common C
//! prototypes whose every argument is an integer-class number (`Op::I32`, `Op::Int`: integers
//! up to 32 bits, pointers given as numbers) or a double, up to `MAX_ARGS` of them, or, up to
//! `MAX_STRING_ARGS`, also C strings (`Op::CString`, copied into the env's arena). The shape
//! (which arguments are doubles, which strings) is a constant of the entry, so each
//! argument's conversion and register slot are known when the entry is compiled: no
//! per-argument dispatch, the argument loop unrolled. Every argument the fast check refuses
//! (a bigint, null, a buffer, a fraction, a wrong type, a long string) and every error go
//! through the general direct conversion, so behaviour and messages are those of
//! `direct_call::invoke_direct`.

use napi_ohos::sys::{self, napi_callback_info, napi_env, napi_value};

use crate::arena::ArenaTop;
use crate::arena::Scratch;
use crate::boundary;
use crate::convert;
use crate::direct::{self, DirectPlan, Op};
use crate::direct_call;
use crate::js;
use crate::site::{self, CallSite};

/// The most arguments a shaped entry takes (2^(MAX_ARGS+1) - 1 entries are compiled).
pub const MAX_ARGS: usize = 4;

/// The most arguments of a shape with C strings among them ((3^(n+1) - 1) / 2 entries for
/// all shapes of up to n arguments).
pub const MAX_STRING_ARGS: usize = 2;

/// The shaped entry for `plan`, when its arguments have one of the compiled shapes.
pub fn entry(plan: &DirectPlan) -> sys::napi_callback {
    let (mut fp_mask, mut str_mask) = (0usize, 0usize);
    // The shape's index among those of its length: its kinds (integer 0, double 1, C string
    // 2) as the digits of a base-3 number, argument 0 the lowest.
    let mut index = 0usize;
    for (i, op) in plan.ops.iter().enumerate().rev() {
        let kind = match op {
            Op::I32 { .. } | Op::Int { .. } => 0,
            Op::F64 { .. } => 1,
            Op::CString { .. } => 2,
            _ => return None,
        };
        match kind {
            1 => fp_mask |= 1 << i,
            2 => str_mask |= 1 << i,
            _ => {}
        }
        index = index * 3 + kind;
    }
    type Entry = unsafe extern "C" fn(napi_env, napi_callback_info) -> napi_value;
    macro_rules! table {
        ($n:literal: $(($fp:literal, $st:literal))*) => {{
            const T: &[Entry] = &[$(invoke_shaped::<$n, $fp, $st>,)*];
            T
        }};
    }
    let table = match plan.ops.len() {
        0 => table!(0: (0, 0)),
        // By base-3 index: i d s.
        1 => table!(1: (0, 0) (1, 0) (0, 1)),
        // ii di si id dd sd is ds ss.
        2 => table!(2: (0, 0) (1, 0) (0, 1) (2, 0) (3, 0) (2, 1) (0, 2) (1, 2) (0, 3)),
        // Integers and doubles only: by the mask of doubles.
        3 if str_mask == 0 => table!(3: (0, 0) (1, 0) (2, 0) (3, 0) (4, 0) (5, 0) (6, 0) (7, 0)),
        4 if str_mask == 0 => table!(4: (0, 0) (1, 0) (2, 0) (3, 0) (4, 0) (5, 0) (6, 0) (7, 0)
            (8, 0) (9, 0) (10, 0) (11, 0) (12, 0) (13, 0) (14, 0) (15, 0)),
        _ => return None,
    };
    let index = if plan.ops.len() <= MAX_STRING_ARGS {
        index
    } else {
        fp_mask
    };
    table.get(index).copied()
}

unsafe extern "C" fn invoke_shaped<const N: usize, const FP_MASK: usize, const STR_MASK: usize>(
    env: napi_env,
    info: napi_callback_info,
) -> napi_value {
    // SAFETY: called by the engine with this call's env and info.
    unsafe { boundary::guard_value(env, || call_shaped::<N, FP_MASK, STR_MASK>(env, info)) }
}

/// Argument `i` of a shape with this mask (of doubles, of C strings) is one.
#[inline(always)]
const fn has(mask: usize, i: usize) -> bool {
    mask >> i & 1 == 1
}

/// The register of argument `i` within its class (integer or vector).
#[inline(always)]
const fn class_index(fp_mask: usize, i: usize) -> usize {
    let below = fp_mask & ((1 << i) - 1);
    if has(fp_mask, i) {
        below.count_ones() as usize
    } else {
        i - below.count_ones() as usize
    }
}

/// One shaped call (see the module doc). Returns the result, or null with the error thrown.
#[inline(always)]
unsafe fn call_shaped<const N: usize, const FP_MASK: usize, const STR_MASK: usize>(
    env: napi_env,
    info: napi_callback_info,
) -> napi_value {
    let mut argv = [std::mem::MaybeUninit::<napi_value>::uninit(); N];
    // SAFETY: env/info of this call.
    let (argc, data) = match unsafe { js::cb_info_n(env, info, &mut argv) } {
        Ok(v) => v,
        // SAFETY: env is live.
        Err(e) => return unsafe { boundary::thrown(env, e) },
    };
    // SAFETY: data is the CallSite bound to this function in `bind::bind`; it is called.
    let site = unsafe { site::site_of(data) };
    if let Err(e) = site::check_call(site, argc) {
        // SAFETY: env is live.
        return unsafe { boundary::thrown(env, e) };
    }
    // SAFETY: `entry` gives this function only to sites whose signature has a direct plan
    // of this shape, and the library is open (checked above), so the signature is there.
    let plan = unsafe { site.sig.direct.as_ref().unwrap_unchecked() };
    debug_assert_eq!(plan.ops.len(), N);
    let mut regs = direct::Regs::new();
    // With C strings: the arena's top, put back when the call ends (after `scratch`); the
    // fast path's string copies go there (as `direct_call::call_direct`'s).
    let top = (STR_MASK != 0).then(|| ArenaTop::new(&site.env.arena));
    // Made by the slow path of an argument that needs one.
    let mut scratch: Option<Scratch> = None;
    for (i, v) in argv.iter().enumerate() {
        // SAFETY: the engine wrote all N arguments, as it returned argc == N (checked above).
        let v = unsafe { v.assume_init() };
        // The argument's slot (a constant of the shape): see direct::Reg::at.
        let at = if has(FP_MASK, i) {
            direct::Reg::Fp(class_index(FP_MASK, i) as u8).at()
        } else {
            direct::Reg::Int(class_index(FP_MASK, i) as u8).at()
        };
        if has(STR_MASK, i) {
            // SAFETY: env/v of this call, on the env's JS thread (its arena).
            if let Some(p) = unsafe { site.env.arena.push_c_string(env, v) } {
                // SAFETY: `at` is a slot of Reg::at, below direct::SLOTS.
                unsafe { regs.set(at, p as u64) };
                continue;
            }
        } else if has(FP_MASK, i) {
            // SAFETY: v is an argument of this call (argc == N was checked).
            if let Some(d) = unsafe { js::get_f64(env, v) } {
                // SAFETY: `at` is a slot of Reg::at, below direct::SLOTS.
                unsafe { regs.set(at, d.to_bits()) };
                continue;
            }
        // SAFETY: as above.
        } else if let Some(d) = unsafe { js::get_f64(env, v) } {
            // As `direct_call::convert_direct`. SAFETY: i < N == plan.ops.len().
            match unsafe { plan.ops.get_unchecked(i) } {
                Op::I32 { .. } => {
                    if let Some(n) = convert::whole_i32(d) {
                        // SAFETY: `at` is a slot of Reg::at, below direct::SLOTS.
                        unsafe { regs.set(at, n as i64 as u64) };
                        continue;
                    }
                }
                Op::Int { lo, hi, .. } => {
                    // SAFETY: Op::Int bounds lie within ±2^53 (direct::Op::new).
                    if let Some(n) = unsafe { convert::whole_in(d, *lo, *hi) } {
                        // SAFETY: `at` is a slot of Reg::at, below direct::SLOTS.
                        unsafe { regs.set(at, n as u64) };
                        continue;
                    }
                }
                // SAFETY: `entry` gave this shape only to plans whose integer-class
                // arguments are all Op::I32 or Op::Int.
                _ => unsafe { std::hint::unreachable_unchecked() },
            }
        }
        // SAFETY: as above; the general conversion gives the value or the error.
        match unsafe { slow(env, site, i, v, &mut scratch) } {
            // SAFETY: `at` is a slot of Reg::at, below direct::SLOTS.
            Ok(slot) => unsafe { regs.set(at, slot) },
            // SAFETY: env is live.
            Err(e) => return unsafe { boundary::thrown(env, e) },
        }
    }
    site.env.enter();
    // SAFETY: the shape was checked against this signature's plan by `entry`, so the
    // function reads exactly the registers filled above.
    let raw = unsafe { direct::call_regs_as(site.code, FP_MASK == 0, plan.float_result, &regs) };
    site.env.leave();
    // SAFETY: raw holds a result of type `plan.ret`.
    let value = unsafe { direct_call::finish(env, &site.env, plan.ret, raw) };
    drop(scratch);
    drop(top);
    value
}

/// The slow path of argument `i`: `direct_call::convert_slow` with the argument's type.
///
/// # Safety
/// As `direct_call::convert_slow`.
#[cold]
#[inline(never)]
unsafe fn slow<'a>(
    env: napi_env,
    site: &'a CallSite,
    i: usize,
    v: napi_value,
    scratch: &mut Option<Scratch<'a>>,
) -> crate::error::FfiResult<u64> {
    let ty = site::site_type(site, i);
    // SAFETY: forwarded contract.
    unsafe { direct_call::convert_slow(env, site, i, ty, v, scratch) }
}
