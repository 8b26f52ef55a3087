//! The generic direct call: the entry point of every signature with a direct plan (see
//! `direct`) that has no shaped entry (`shaped`), one per argument count: arguments converted
//! straight into registers by their ops, one register call, one result conversion. Also the
//! general conversion and the deferred-result path the shaped entries share.

use std::ptr;

use napi_ohos::sys;
use napi_ohos::sys::{napi_callback_info, napi_env, napi_value};

use crate::boundary;
use crate::convert::{self, Scratch};
use crate::direct;
use crate::env_state::{self, EnvShared};
use crate::error::FfiResult;
use crate::js;
use crate::site::{self, argument_error, check_call, site_type, still_open, CallSite};

/// Direct calls of at most this many arguments convert them in unrolled code.
const UNROLLED: usize = 7;

/// The entry point of a function with a direct plan, specialised for its argument count
/// (None above the most arguments a direct plan takes).
pub fn entry(n: usize) -> sys::napi_callback {
    macro_rules! table {
        ($($n:literal)*) => {
            match n {
                $($n => Some(invoke_direct::<$n>),)*
                _ => None,
            }
        };
    }
    table!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14)
}

unsafe extern "C" fn invoke_direct<const N: usize>(
    env: napi_env,
    info: napi_callback_info,
) -> napi_value {
    // SAFETY: called by the engine with this call's env and info.
    unsafe { boundary::guard_value(env, || call_direct::<N>(env, info)) }
}

/// The hot path: exactly N arguments fetched, converted straight into registers (the loop
/// unrolled: N is a constant), one register call, one result conversion. No libffi, no heap
/// allocation for scalars or for strings that fit the env's arena. Returns the result, or
/// null with the error thrown (so no `FfiResult` travels through memory on the way out).
#[inline(always)]
unsafe fn call_direct<const N: usize>(env: napi_env, info: napi_callback_info) -> napi_value {
    let mut argv: [napi_value; N] = [ptr::null_mut(); N];
    // SAFETY: env/info of this call.
    let (argc, data) = match unsafe { js::cb_info(env, info, &mut argv) } {
        Ok(v) => v,
        // SAFETY: env is live.
        Err(e) => return unsafe { boundary::thrown(env, e) },
    };
    // SAFETY: data is the CallSite bound to this function in `call::bind`; it is being called.
    let site = unsafe { site::site_of(data) };
    if let Err(e) = check_call(site, argc) {
        // SAFETY: env is live.
        return unsafe { boundary::thrown(env, e) };
    }
    // SAFETY: `call::bind` gives this entry only to sites whose signature has a direct plan of N
    // arguments, and the library is open (checked above), so the signature is there.
    let plan = unsafe { site.sig.direct.as_ref().unwrap_unchecked() };
    debug_assert_eq!(plan.ops.len(), N);
    let mut regs = direct::Regs::new();
    // Made by the first argument that needs one (a CString): most calls need none.
    let mut scratch: Option<Scratch> = None;
    // One argument: its op, its conversion (a loop body, or one of the unrolled copies).
    macro_rules! arg {
        ($i:expr) => {{
            let i = $i;
            // SAFETY: i < N == plan.ops.len() (the plan was made from the signature's N args).
            let op = unsafe { *plan.ops.get_unchecked(i) };
            // SAFETY: argv[i] is an argument of this call (argc == N was checked).
            let converted =
                unsafe { convert_direct(env, site, i, op, argv[i], &mut regs, &mut scratch) };
            if let Err(e) = converted {
                // SAFETY: env is live.
                return unsafe { boundary::thrown(env, e) };
            }
        }};
    }
    if N <= UNROLLED {
        // Unrolled (N is a constant): each argument has its own copy of the op dispatch,
        // which the loop below would pay for in loop overhead and reloads on every argument.
        macro_rules! unrolled {
            ($($k:literal)*) => { $(if $k < N { arg!($k); })* };
        }
        unrolled!(0 1 2 3 4 5 6);
    } else {
        for i in 0..N {
            arg!(i);
        }
    }
    site.env.enter();
    // SAFETY: the plan was made from this signature; regs hold the converted arguments
    // (strings in `scratch`, alive until the end of this function).
    let raw = unsafe { direct::call_regs(site.code, plan, &regs) };
    site.env.leave();
    let ret = plan.ret;
    let result = if site.env.has_deferred() {
        // SAFETY: env of this call; raw holds a result of type `ret`, read before the
        // deferred unload may release the signature; `scratch` goes after.
        unsafe { deferred_then_result(env, &site.env, ret, raw) }
    } else if ret == crate::types::FfiType::Void {
        // A callback that returns NULL returns `undefined` (Node-API and OpenHarmony's
        // ArkNAPI both): one engine call less for every void function.
        Ok(ptr::null_mut())
    } else {
        // SAFETY: raw holds a result of type `ret`; converted before `scratch` goes.
        unsafe { convert::to_js(env, ret, raw) }
    };
    drop(scratch);
    match result {
        Ok(v) => v,
        // SAFETY: env is live.
        Err(e) => unsafe { boundary::thrown(env, e) },
    }
}

/// After a direct call with something deferred (a callback's error, a library a callback
/// closed, whose unload may release the call's signature: `ret` was read before): throw or
/// unload, then convert the result.
///
/// # Safety
/// `env` the live env of this call, `shared` its state; `raw` a result of type `ret`.
#[cold]
#[inline(never)]
pub unsafe fn deferred_then_result(
    env: napi_env,
    shared: &EnvShared,
    ret: crate::types::FfiType,
    raw: u64,
) -> FfiResult<napi_value> {
    // SAFETY: forwarded contract.
    unsafe {
        env_state::throw_deferred(env, shared)?;
        convert::to_js(env, ret, raw)
    }
}

/// Convert argument `i` of a direct call by its op: numbers for the common kinds inline
/// (one napi_get_value_double and a range check), everything else, and every refusal, by
/// `convert_slow` (out of line).
///
/// # Safety
/// `env` is the live env of this call and `v` one of its values; `scratch` outlives the call.
#[inline(always)]
unsafe fn convert_direct<'a>(
    env: napi_env,
    site: &'a CallSite,
    i: usize,
    op: direct::Op,
    v: napi_value,
    regs: &mut direct::Regs,
    scratch: &mut Option<Scratch<'a>>,
) -> FfiResult<()> {
    use direct::{Op, Reg};
    let (reg, ty) = match op {
        Op::Int { reg, lo, hi } => {
            // SAFETY: forwarded contract.
            if let Some(d) = unsafe { js::get_f64(env, v) } {
                // Whole numbers in range only; the rest take the slow path for their error.
                // SAFETY: Op::Int bounds lie within ±2^53 (direct::Op::new).
                if let Some(n) = unsafe { convert::whole_in(d, lo, hi) } {
                    regs.set_int(reg, n as u64);
                    return Ok(());
                }
            }
            (Reg::Int(reg), site_type(site, i))
        }
        Op::F64 { reg } => {
            // SAFETY: forwarded contract.
            if let Some(d) = unsafe { js::get_f64(env, v) } {
                regs.set_fp(reg, d);
                return Ok(());
            }
            (Reg::Fp(reg), crate::types::FfiType::F64)
        }
        Op::F32 { reg } => {
            // SAFETY: forwarded contract.
            if let Some(d) = unsafe { js::get_f64(env, v) } {
                regs.set_fp(reg, f64::from_bits((d as f32).to_bits() as u64));
                return Ok(());
            }
            (Reg::Fp(reg), crate::types::FfiType::F32)
        }
        Op::Wide { reg, signed } => {
            // SAFETY: forwarded contract (both getters).
            let exact = unsafe {
                if signed {
                    js::get_bigint_i64(env, v).map(|(x, ok)| (x as u64, ok))
                } else {
                    js::get_bigint_u64(env, v)
                }
            };
            if let Some((x, true)) = exact {
                regs.set_int(reg, x);
                return Ok(());
            }
            (Reg::Int(reg), site_type(site, i))
        }
        Op::Bool { reg } => {
            // SAFETY: forwarded contract.
            if let Some(b) = unsafe { js::get_bool(env, v) } {
                regs.set_int(reg, b as u64);
                return Ok(());
            }
            (Reg::Int(reg), crate::types::FfiType::Bool)
        }
        Op::CString { reg } => {
            let scratch = scratch.get_or_insert_with(|| Scratch::new(&site.env.arena));
            // SAFETY: forwarded contract; the string lives as long as `scratch`.
            return match unsafe { convert::c_string(env, v, scratch) } {
                Ok(p) => {
                    regs.set_int(reg, p as u64);
                    Ok(())
                }
                Err(e) => Err(argument_error(e, site, i)),
            };
        }
        Op::Buffer { reg } => {
            // SAFETY: forwarded contract.
            if let Some((p, len)) = unsafe { convert::buffer_bytes(env, v) } {
                if len > 0 {
                    regs.set_int(reg, p as u64);
                    return Ok(());
                }
            }
            (Reg::Int(reg), crate::types::FfiType::Buffer)
        }
        Op::Other { reg, ty } => (reg, ty),
    };
    // SAFETY: forwarded contract.
    let slot = unsafe { convert_slow(env, site, i, ty, v, scratch)? };
    regs.place(reg, slot);
    Ok(())
}

/// The general conversion of argument `i` (type `ty`) of a direct call, and every refusal:
/// `convert::to_c`, then the library-open check (a getter of an object argument may run JS,
/// which may close the library; the fast paths run none, so checking here covers the call).
///
/// # Safety
/// As `convert_direct`.
#[inline(never)]
pub unsafe fn convert_slow<'a>(
    env: napi_env,
    site: &'a CallSite,
    i: usize,
    ty: crate::types::FfiType,
    v: napi_value,
    scratch: &mut Option<Scratch<'a>>,
) -> FfiResult<u64> {
    let scratch = scratch.get_or_insert_with(|| Scratch::new(&site.env.arena));
    let mut slot = 0u64;
    site.env.pin();
    // SAFETY: forwarded contract.
    let converted = unsafe { convert::to_c(env, ty, v, &mut slot, scratch) };
    site.env.unpin();
    if let Err(e) = converted {
        return Err(argument_error(e, site, i));
    }
    still_open(site)?;
    Ok(slot)
}
