//! Variadic functions (`variadic: true`): a call passes the fixed arguments, then a
//! (type, value) pair for each extra one, as koffi does:
//! `snprintf(buf, 64, '%d %s', FFIType.i32, 42, FFIType.CString, 'x')`.
//!
//! The extra arguments get C's default argument promotions (`float` → `double`; `bool`,
//! `char` and 8- and 16-bit integers → `int`): libffi's `ffi_prep_cif_var` refuses
//! unpromoted types, and the callee reads promoted ones (`va_arg(ap, int)`). The values are
//! converted by the rules of their declared type first (an `FFIType.u8` extra takes 0..255).
//!
//! A call interface is prepared per distinct list of extra types and cached on the function
//! (`signature::Cache`, bounded): a call whose list is cached allocates nothing. Variadic calls always go
//! through libffi (`ffi_call` with a `ffi_prep_cif_var` interface: on Apple arm64 variadic
//! arguments go on the stack, so the fixed-argument paths would be wrong there).

use std::ffi::c_void;
use std::ptr;
use std::sync::Arc;

use libffi::raw::ffi_call;
use napi_ohos::sys::{napi_callback_info, napi_env, napi_value};

use crate::arena::Scratch;
use crate::boundary;
use crate::call;
use crate::convert;
use crate::env_state;
use crate::error::{FfiError, FfiResult};
use crate::js;
use crate::signature::{self, ArgType, Prepared, MAX_ARGS};
use crate::site::{self, CallSite};
use crate::types::FfiType;

/// Arguments (fixed and extra together) converted on the stack before the heap is used.
const INLINE_ARGS: usize = 32;

/// C's default argument promotion of an extra argument's type.
pub fn promoted(t: FfiType) -> FfiType {
    match t {
        FfiType::F32 => FfiType::F64,
        FfiType::Bool | FfiType::Char | FfiType::I8 | FfiType::U8 | FfiType::I16 | FfiType::U16 => {
            FfiType::I32
        }
        other => other,
    }
}

/// The slot of an extra argument converted as `declared`, as its promoted type holds it.
fn promote_slot(declared: FfiType, slot: u64) -> u64 {
    match declared {
        FfiType::F32 => (f32::from_bits(slot as u32) as f64).to_bits(),
        // Integers are already sign- or zero-extended to 64 bits by to_c: their low 32 bits
        // are the promoted int.
        _ => slot,
    }
}

/// Check the count and types of a variadic call's arguments, convert them all into
/// `slots`/`ptrs` (the fixed ones by the signature, the extra values by their declared
/// types, promoted), and return the call interface for them. `slots` and `ptrs` have room
/// for the fixed arguments plus one per pair. `made`: the per-call callbacks of a
/// synchronous call; None for a nonblocking call, whose extra `ptr` / `buffer` values must be
/// addresses (its buffer copies cover the fixed arguments only).
///
/// # Safety
/// `env` live; `argv` the call's values.
pub unsafe fn convert(
    env: napi_env,
    site: &CallSite,
    argv: &[napi_value],
    slots: &mut [u64],
    ptrs: &mut [*mut c_void],
    scratch: &mut Scratch,
    made: Option<&mut call::CallCallbacks>,
) -> FfiResult<Arc<Prepared>> {
    // Synchronous calls make per-call callbacks (`made`) and lend buffers to C; nonblocking
    // calls do neither for their extra arguments.
    let buffers_ok = made.is_some();
    let Some(cache) = &site.sig.variadic else {
        return Err(FfiError::error(format!(
            "{}: internal error: not variadic",
            site.name
        )));
    };
    let n = site.sig.args.len();
    let pairs = pair_count(site, argv.len())?;
    let mut types = [FfiType::Void; MAX_ARGS as usize];
    let mut declared = [FfiType::Void; MAX_ARGS as usize];
    for j in 0..pairs {
        let i = n + 2 * j;
        // SAFETY: env/argv of this call.
        let t = unsafe { extra_type(env, argv[i]) }
            .map_err(|e| e.subject(&format!("{}: args[{i}]", site.name)))?;
        declared[j] = t;
        types[j] = promoted(t);
    }
    let prepared = cache.get(&site.sig, &types[..pairs])?;
    // SAFETY: env/argv of this call; the slices have at least n entries.
    unsafe {
        call::convert_args(
            env,
            site,
            &argv[..n],
            &mut slots[..n],
            &mut ptrs[..n],
            scratch,
            made,
        )?
    };
    for j in 0..pairs {
        let (i, t) = (n + 2 * j + 1, declared[j]);
        let v = argv[i];
        // SAFETY: env/v of this call.
        if !buffers_ok
            && matches!(t, FfiType::Ptr | FfiType::Buffer)
            && unsafe { !matches!(convert::buffer_arg(env, v), Ok(None)) }
        {
            return Err(FfiError::type_error(format!(
                "{}: args[{i}] is a buffer: the variadic arguments of a nonblocking call take addresses (a buffer's memory is only lent to C for the fixed arguments of a nonblocking call); declare the buffer as a fixed argument",
                site.name
            )));
        }
        let slot = &mut slots[n + j];
        // SAFETY: env/v of this call; the scratch outlives the call.
        unsafe { convert::to_c(env, t, v, slot, scratch) }
            .map_err(|e| e.subject(&format!("{}: args[{i}]", site.name)))?;
        *slot = promote_slot(t, *slot);
        ptrs[n + j] = (slot as *mut u64).cast();
    }
    Ok(prepared)
}

/// The number of (type, value) pairs after the fixed arguments, refusing too few arguments
/// and an odd count.
fn pair_count(site: &CallSite, argc: usize) -> FfiResult<usize> {
    let n = site.sig.args.len();
    if argc < n {
        return Err(FfiError::type_error(format!(
            "{} expects at least {n} argument{} (then a type and a value per variadic argument), got {argc}",
            site.name,
            if n == 1 { "" } else { "s" }
        )));
    }
    let extra = argc - n;
    if !extra.is_multiple_of(2) {
        return Err(FfiError::type_error(format!(
            "{}: variadic arguments come in (type, value) pairs after the {n} fixed argument{}: args[{}], a type, has no value after it",
            site.name,
            if n == 1 { "" } else { "s" },
            argc - 1
        )));
    }
    if n + extra / 2 > MAX_ARGS as usize {
        return Err(FfiError::range_error(format!(
            "{}: {} arguments; at most {MAX_ARGS} are supported",
            site.name,
            n + extra / 2
        )));
    }
    Ok(extra / 2)
}

/// The declared type of an extra argument: an FFIType code or a typed token; no struct, no
/// void.
unsafe fn extra_type(env: napi_env, v: napi_value) -> FfiResult<FfiType> {
    // SAFETY: forwarded contract.
    let parsed = unsafe { signature::parse_type(env, v) };
    match parsed {
        Ok(ArgType::Scalar(FfiType::Void)) => Err(FfiError::type_error(
            "is void: a variadic argument needs a value type (an FFIType)",
        )),
        Ok(ArgType::Scalar(t)) => Ok(t),
        Ok(ArgType::Struct(_)) => Err(FfiError::type_error(
            "is a StructSchema: structs are not variadic arguments here; pass a pointer (FFIType.ptr and the struct's buffer)",
        )),
        // SAFETY: forwarded contract.
        Err(_) => Err(FfiError::type_error(format!(
            "must be the FFIType of a variadic argument (then its value), got {}",
            unsafe { js::describe(env, v) }
        ))),
    }
}

/// Jump into C through a variadic interface.
///
/// # Safety
/// `prepared` was made for the site's signature and the call's extra types; every `ptrs[i]`
/// points at a value of its type, alive until this returns; `rvalue` holds the result.
pub unsafe fn ffi(
    site: &CallSite,
    prepared: &Prepared,
    rvalue: *mut c_void,
    ptrs: &mut [*mut c_void],
) {
    // SAFETY: per this function's contract.
    unsafe {
        let code: unsafe extern "C" fn() = std::mem::transmute(site.code);
        ffi_call(prepared.cif_ptr(), Some(code), rvalue, ptrs.as_mut_ptr());
    }
}

/// The NAPI callback of a synchronous variadic function.
///
/// # Safety
/// Called by the engine only, with the env and callback info of the current call.
pub unsafe extern "C" fn invoke(env: napi_env, info: napi_callback_info) -> napi_value {
    // SAFETY: called by the engine with this call's env and info.
    unsafe { boundary::guard(env, || call_sync(env, info)) }
}

unsafe fn call_sync(env: napi_env, info: napi_callback_info) -> FfiResult<napi_value> {
    let mut inline_argv = [ptr::null_mut(); INLINE_ARGS * 2];
    // SAFETY: env/info of this call.
    let (argc, data) = unsafe { js::cb_info(env, info, &mut inline_argv)? };
    // SAFETY: data is the CallSite bound to this function in `bind`; it is being called.
    let site = unsafe { site::site_of(data) };
    let mut heap_argv = Vec::new();
    let argv: &[napi_value] = if argc <= inline_argv.len() {
        &inline_argv[..argc]
    } else {
        heap_argv.resize(argc, ptr::null_mut());
        // SAFETY: env/info of this call.
        unsafe { js::cb_info(env, info, &mut heap_argv)? };
        &heap_argv
    };
    site::still_open(site)?;
    let count = site.sig.args.len() + pair_count(site, argc)?;
    let (mut inline_slots, mut inline_ptrs) = ([0u64; INLINE_ARGS], [ptr::null_mut(); INLINE_ARGS]);
    let (mut heap_slots, mut heap_ptrs) = (Vec::new(), Vec::new());
    let (slots, ptrs): (&mut [u64], &mut [*mut c_void]) = if count <= INLINE_ARGS {
        (&mut inline_slots[..count], &mut inline_ptrs[..count])
    } else {
        heap_slots.resize(count, 0);
        heap_ptrs.resize(count, ptr::null_mut());
        (&mut heap_slots, &mut heap_ptrs)
    };
    let mut scratch = Scratch::new(&site.env.arena);
    let mut made = call::CallCallbacks::new(env);
    // Typed tokens and getters of object arguments may run JS, which may close the library.
    site.env.pin();
    // SAFETY: env/argv of this call.
    let prepared = unsafe { convert(env, site, argv, slots, ptrs, &mut scratch, Some(&mut made)) };
    site.env.unpin();
    let prepared = prepared?;
    site::still_open(site)?;
    let ArgType::Scalar(ret_ty) = site.sig.ret else {
        return Err(FfiError::error(format!(
            "{}: internal error: variadic struct result",
            site.name
        )));
    };
    let mut ret = [0u64; 2];
    site.env.enter();
    // SAFETY: prepared for this signature and these extra types; ptrs point at the slots,
    // struct bytes and strings of this call (alive until the end of this function).
    unsafe { ffi(site, &prepared, ret.as_mut_ptr().cast(), ptrs) };
    site.env.leave();
    // SAFETY: env of this call.
    unsafe { env_state::throw_deferred_if_any(env, &site.env)? };
    // SAFETY: ret was written by a call returning ret_ty; converted before `scratch` goes.
    let value = unsafe { convert::to_js(env, ret_ty, ret[0]) }?;
    drop(scratch);
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::{Cache, CACHE_SIZE};

    #[test]
    fn promotions_are_cs_defaults() {
        assert_eq!(promoted(FfiType::F32), FfiType::F64);
        for t in [
            FfiType::Bool,
            FfiType::Char,
            FfiType::I8,
            FfiType::U8,
            FfiType::I16,
            FfiType::U16,
        ] {
            assert_eq!(promoted(t), FfiType::I32, "{t:?}");
        }
        for t in [
            FfiType::I32,
            FfiType::U32,
            FfiType::I64,
            FfiType::F64,
            FfiType::Ptr,
        ] {
            assert_eq!(promoted(t), t);
        }
        assert_eq!(
            f64::from_bits(promote_slot(FfiType::F32, 1.5f32.to_bits() as u64)),
            1.5
        );
    }

    #[test]
    fn the_cache_is_bounded_and_reuses_entries() {
        let mut sig = signature::Signature::new(
            vec![ArgType::Scalar(FfiType::I32)],
            ArgType::Scalar(FfiType::I32),
        )
        .unwrap();
        sig.variadic = Some(Cache::default());
        let cache = sig.variadic.as_ref().unwrap();
        let a = cache.get(&sig, &[FfiType::F64]).unwrap();
        let b = cache.get(&sig, &[FfiType::F64]).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        for k in 0..(CACHE_SIZE + 5) {
            cache.get(&sig, &vec![FfiType::I64; k + 2]).unwrap();
        }
        assert_eq!(cache.cached(), CACHE_SIZE);
    }
}
