//! Shaped direct calls: entry points compiled for one shape of arguments, the common C
//! prototypes whose every argument is an integer-class number (`Op::I32`, `Op::Int`: integers
//! up to 32 bits, pointers given as numbers) or a double, up to `MAX_ARGS` of them. The shape
//! (which arguments are doubles) is a constant of the entry, so each argument's register slot
//! is known when the entry is compiled: no per-argument dispatch, the argument loop unrolled.
//! Every argument the fast check refuses (a bigint, null, a buffer, a fraction, a wrong type)
//! and every error go through the general direct conversion, so behaviour and messages are
//! those of `direct_call::invoke_direct`.

use napi_ohos::sys::{self, napi_callback_info, napi_env, napi_value};

use crate::boundary;
use crate::convert::{self, Scratch};
use crate::direct::{self, DirectPlan, Op};
use crate::direct_call;
use crate::js;
use crate::site::{self, CallSite};

/// The most arguments a shaped entry takes (2^(MAX_ARGS+1) - 1 entries are compiled).
pub const MAX_ARGS: usize = 4;

/// The shaped entry for `plan`, when its arguments have one of the compiled shapes.
pub fn entry(plan: &DirectPlan) -> sys::napi_callback {
    let mut fp_mask = 0usize;
    for (i, op) in plan.ops.iter().enumerate() {
        match op {
            Op::I32 { .. } | Op::Int { .. } => {}
            Op::F64 { .. } => fp_mask |= 1 << i,
            _ => return None,
        }
    }
    macro_rules! table {
        ($n:literal: $($mask:literal)*) => {{
            const T: &[unsafe extern "C" fn(napi_env, napi_callback_info) -> napi_value] =
                &[$(invoke_shaped::<$n, $mask>,)*];
            T
        }};
    }
    let table = match plan.ops.len() {
        0 => table!(0: 0),
        1 => table!(1: 0 1),
        2 => table!(2: 0 1 2 3),
        3 => table!(3: 0 1 2 3 4 5 6 7),
        4 => table!(4: 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15),
        _ => return None,
    };
    table.get(fp_mask).copied()
}

unsafe extern "C" fn invoke_shaped<const N: usize, const FP_MASK: usize>(
    env: napi_env,
    info: napi_callback_info,
) -> napi_value {
    // SAFETY: called by the engine with this call's env and info.
    unsafe { boundary::guard_value(env, || call_shaped::<N, FP_MASK>(env, info)) }
}

/// Argument `i` of a shape is a double.
#[inline(always)]
const fn is_fp(fp_mask: usize, i: usize) -> bool {
    fp_mask >> i & 1 == 1
}

/// The register of argument `i` within its class (integer or vector).
#[inline(always)]
const fn class_index(fp_mask: usize, i: usize) -> usize {
    let below = fp_mask & ((1 << i) - 1);
    if is_fp(fp_mask, i) {
        below.count_ones() as usize
    } else {
        i - below.count_ones() as usize
    }
}

/// One shaped call (see the module doc). Returns the result, or null with the error thrown.
#[inline(always)]
unsafe fn call_shaped<const N: usize, const FP_MASK: usize>(
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
    // SAFETY: data is the CallSite bound to this function in `call::bind`; it is called.
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
    // Made by the slow path of an argument that needs one; the shapes take no strings.
    let mut scratch: Option<Scratch> = None;
    for (i, v) in argv.iter().enumerate() {
        // SAFETY: the engine wrote all N arguments, as it returned argc == N (checked above).
        let v = unsafe { v.assume_init() };
        // The argument's slot (a constant of the shape): see direct::Reg::at.
        let at = if is_fp(FP_MASK, i) {
            direct::Reg::Fp(class_index(FP_MASK, i) as u8).at()
        } else {
            direct::Reg::Int(class_index(FP_MASK, i) as u8).at()
        };
        // SAFETY: v is an argument of this call (argc == N was checked).
        let fast = unsafe { js::get_f64(env, v) };
        if is_fp(FP_MASK, i) {
            if let Some(d) = fast {
                // SAFETY: `at` is a slot of Reg::at, below direct::SLOTS.
                unsafe { regs.set(at, d.to_bits()) };
                continue;
            }
        } else if let Some(d) = fast {
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
                // SAFETY: `entry` gave this shape only to plans whose non-double arguments
                // are all Op::I32 or Op::Int.
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
