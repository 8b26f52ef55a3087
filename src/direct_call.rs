//! The generic direct call: the entry point of every signature with a direct plan (see
//! `direct`) that has no shaped entry (`shaped`), one per argument count: arguments converted
//! straight into registers by their ops, one register call, one result conversion. Also the
//! general conversion and the deferred-result path the shaped entries share.

use std::ptr;

use napi_ohos::sys;
use napi_ohos::sys::{napi_callback_info, napi_env, napi_value};

use crate::arena::ArenaTop;
use crate::arena::Scratch;
use crate::boundary;
use crate::convert;
use crate::direct;
use crate::env_state::{self, EnvShared};
use crate::error::FfiResult;
use crate::js;
use crate::site::{self, argument_error, check_call, site_type, still_open, CallSite};
use crate::types::FfiType;

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
    let mut argv = [std::mem::MaybeUninit::<napi_value>::uninit(); N];
    // SAFETY: env/info of this call.
    let (argc, data) = match unsafe { js::cb_info_n(env, info, &mut argv) } {
        Ok(v) => v,
        // SAFETY: env is live.
        Err(e) => return unsafe { boundary::thrown(env, e) },
    };
    // SAFETY: data is the CallSite bound to this function in `bind::bind`; it is being called.
    let site = unsafe { site::site_of(data) };
    if let Err(e) = check_call(site, argc) {
        // SAFETY: env is live.
        return unsafe { boundary::thrown(env, e) };
    }
    // SAFETY: `bind::bind` gives this entry only to sites whose signature has a direct plan of N
    // arguments, and the library is open (checked above), so the signature is there.
    let plan = unsafe { site.sig.direct.as_ref().unwrap_unchecked() };
    debug_assert_eq!(plan.ops.len(), N);
    let mut regs = direct::Regs::new();
    // Where this call's strings go; most calls make neither part.
    let mut store = Strings {
        scratch: None,
        top: None,
    };
    // One argument: its op, its conversion (a loop body, or one of the unrolled copies).
    macro_rules! arg {
        ($i:expr) => {{
            let i = $i;
            // SAFETY: i < N == plan.ops.len() (the plan was made from the signature's N args).
            let op = unsafe { plan.ops.get_unchecked(i) };
            // SAFETY: the engine wrote all N arguments, as it returned argc == N (checked
            // above); argv[i] is one of them.
            let v = unsafe { argv[i].assume_init() };
            // SAFETY: v is an argument of this call.
            let converted = unsafe { convert_direct(env, site, i, op, v, &mut regs, &mut store) };
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
    // (strings in `store`, alive until the end of this function).
    let raw = unsafe { direct::call_regs(site.code, plan, &regs) };
    site.env.leave();
    // SAFETY: raw holds a result of type `plan.ret`.
    let value = unsafe { finish(env, &site.env, plan.ret, raw) };
    drop(store);
    value
}

/// The tail of a direct call: the result as a JS value (null with the error thrown), the
/// deferred work first when there is some. The caller drops the call's strings after it, as
/// a string result may point into an argument's copy.
///
/// # Safety
/// `env` the live env of this call, `shared` its state; `raw` a result of type `ret`.
#[inline(always)]
pub unsafe fn finish(env: napi_env, shared: &EnvShared, ret: FfiType, raw: u64) -> napi_value {
    if shared.has_deferred() {
        // SAFETY: forwarded contract (raw was read before the deferred unload may release
        // the call's signature).
        return match unsafe { deferred_then_result(env, shared, ret, raw) } {
            Ok(v) => v,
            // SAFETY: env is live.
            Err(e) => unsafe { boundary::thrown(env, e) },
        };
    }
    if ret == FfiType::Void {
        // A callback that returns NULL returns `undefined` (Node-API and OpenHarmony's
        // ArkNAPI both): one engine call less for every void function.
        return ptr::null_mut();
    }
    // SAFETY: forwarded contract.
    unsafe { convert::to_js_or_throw(env, ret, raw) }
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
    ret: FfiType,
    raw: u64,
) -> FfiResult<napi_value> {
    // SAFETY: forwarded contract.
    unsafe {
        env_state::throw_deferred(env, shared)?;
        convert::to_js(env, ret, raw)
    }
}

/// Where one direct call's strings go: the general conversions' `Scratch`, and the arena's
/// top before the first string copied by the fast path. The fields drop in this order (the
/// Scratch gives its arena space back first, then the top goes back), also on unwinding.
struct Strings<'a> {
    scratch: Option<Scratch<'a>>,
    top: Option<ArenaTop<'a>>,
}

/// Convert argument `i` of a direct call by its op: numbers for the common kinds inline
/// (one napi_get_value_double and a range check), everything else, and every refusal, by
/// `convert_slow` (out of line).
///
/// # Safety
/// `env` is the live env of this call and `v` one of its values; `store` outlives the call.
#[inline(always)]
unsafe fn convert_direct<'a>(
    env: napi_env,
    site: &'a CallSite,
    i: usize,
    op: &direct::Op,
    v: napi_value,
    regs: &mut direct::Regs,
    store: &mut Strings<'a>,
) -> FfiResult<()> {
    use direct::Op;
    // Each fast path returns once its slot is set; what it refuses falls through to the
    // general conversion of the argument's type, which also gives every error message.
    let (at, ty) = match *op {
        Op::I32 { at } => {
            // SAFETY: forwarded contract.
            if let Some(n) = unsafe { js::get_f64(env, v) }.and_then(convert::whole_i32) {
                // SAFETY: the op's slot is below direct::SLOTS (direct::Op::new).
                unsafe { regs.set(at, n as i64 as u64) };
                return Ok(());
            }
            (at, FfiType::I32)
        }
        Op::Int { at, ref lo, ref hi } => {
            // SAFETY: forwarded contract.
            if let Some(d) = unsafe { js::get_f64(env, v) } {
                // Whole numbers in range only; the rest take the slow path for their error.
                // The bounds are read here, after the engine call, not kept across it.
                // SAFETY: Op::Int bounds lie within ±2^53 (direct::Op::new).
                if let Some(n) = unsafe { convert::whole_in(d, *lo, *hi) } {
                    // SAFETY: the op's slot is below direct::SLOTS (direct::Op::new).
                    unsafe { regs.set(at, n as u64) };
                    return Ok(());
                }
            }
            (at, site_type(site, i))
        }
        Op::F64 { at } => {
            // SAFETY: forwarded contract.
            if let Some(d) = unsafe { js::get_f64(env, v) } {
                // SAFETY: the op's slot is below direct::SLOTS (direct::Op::new).
                unsafe { regs.set(at, d.to_bits()) };
                return Ok(());
            }
            (at, FfiType::F64)
        }
        Op::F32 { at } => {
            // SAFETY: forwarded contract.
            if let Some(d) = unsafe { js::get_f64(env, v) } {
                // SAFETY: the op's slot is below direct::SLOTS (direct::Op::new).
                unsafe { regs.set(at, (d as f32).to_bits() as u64) };
                return Ok(());
            }
            (at, FfiType::F32)
        }
        Op::Wide { at, signed } => {
            // SAFETY: forwarded contract (both getters).
            let exact = unsafe {
                if signed {
                    js::get_bigint_i64(env, v).map(|(x, ok)| (x as u64, ok))
                } else {
                    js::get_bigint_u64(env, v)
                }
            };
            if let Some((x, true)) = exact {
                // SAFETY: the op's slot is below direct::SLOTS (direct::Op::new).
                unsafe { regs.set(at, x) };
                return Ok(());
            }
            (at, site_type(site, i))
        }
        Op::Bool { at } => {
            // SAFETY: forwarded contract.
            if let Some(b) = unsafe { js::get_bool(env, v) } {
                // SAFETY: the op's slot is below direct::SLOTS (direct::Op::new).
                unsafe { regs.set(at, b as u64) };
                return Ok(());
            }
            (at, FfiType::Bool)
        }
        Op::CString { at } => {
            // The arena's top before the call's first string, put back when the call ends.
            if store.top.is_none() {
                store.top = Some(ArenaTop::new(&site.env.arena));
            }
            // SAFETY: forwarded contract (the JS thread's arena of this env).
            if let Some(p) = unsafe { site.env.arena.push_c_string(env, v) } {
                // SAFETY: the op's slot is below direct::SLOTS (direct::Op::new).
                unsafe { regs.set(at, p as u64) };
                return Ok(());
            }
            let scratch = store
                .scratch
                .get_or_insert_with(|| Scratch::new(&site.env.arena));
            // SAFETY: forwarded contract; the string lives as long as `scratch`.
            return match unsafe { convert::c_string(env, v, scratch) } {
                Ok(p) => {
                    // SAFETY: the op's slot is below direct::SLOTS (direct::Op::new).
                    unsafe { regs.set(at, p as u64) };
                    Ok(())
                }
                Err(e) => Err(argument_error(e, site, i)),
            };
        }
        Op::Buffer { at } => {
            // SAFETY: forwarded contract.
            if let Some(p) = unsafe { convert::typed_array_data(env, v) } {
                // SAFETY: the op's slot is below direct::SLOTS (direct::Op::new).
                unsafe { regs.set(at, p as u64) };
                return Ok(());
            }
            (at, FfiType::Buffer)
        }
        Op::Other { at, ty } => (at, ty),
    };
    // SAFETY: forwarded contract.
    let slot = unsafe { convert_slow(env, site, i, ty, v, &mut store.scratch)? };
    // SAFETY: as above.
    unsafe { regs.set(at, slot) };
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
