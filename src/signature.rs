//! Call preparation: a function definition from JS (`{ args, returns }`) becomes a
//! `Signature` once, at dlopen / CFunction time: the argument and result types plus the
//! libffi call interface (CIF) every later call reuses.

use std::ffi::CStr;
use std::sync::Arc;

use libffi::low::ffi_cif;
use libffi::middle::Cif;
use napi_ohos::sys::{napi_env, napi_value};
use parking_lot::Mutex;

use crate::direct::DirectPlan;
use crate::error::{FfiError, FfiResult};
use crate::js;
pub use crate::layout::ArgType;
use crate::structs;
use crate::types::FfiType;

/// The prepared shape of one C function.
pub struct Signature {
    pub args: Box<[ArgType]>,
    pub ret: ArgType,
    cif: Cif,
    /// Register plan for calls without libffi (see `direct`), when the shape allows it.
    pub direct: Option<DirectPlan>,
    /// Takes a callback and a buffer or pointer: a JS callback may run during the call and
    /// detach or resize a buffer C is using, so such calls refuse resizable buffers and check
    /// their buffers after the call (see `call::BufferWatch`). Such calls take libffi's path.
    pub watches_buffers: bool,
    /// A struct result is read into a new JS object inside the call (a `StructSchema.value`
    /// token) instead of being held until `releasePtr`.
    pub ret_object: bool,
    /// A variadic function (`variadic: true`): `args` are its fixed parameters, and its
    /// prepared interfaces per list of extra types (see `variadic`).
    pub variadic: Option<Cache>,
    /// Per argument, the signature of a `CallbackType` parameter (a function pointer that
    /// takes a plain JS function for one call); None when no parameter is one.
    pub call_callbacks: Option<Box<[Option<std::sync::Arc<Signature>>]>>,
}

// SAFETY: the CIF is built once and only read afterwards (ffi_call takes it by pointer but
// does not modify a prepared CIF); the type arrays it points to are owned by `cif`.
unsafe impl Send for Signature {}
// SAFETY: as above, shared reads only.
unsafe impl Sync for Signature {}

/// The most arguments a definition may declare (C guarantees 127; libffi has no limit of
/// its own, but every call allocates by this count, so it is bounded).
pub const MAX_ARGS: u32 = 255;

/// The most bytes of structs passed by value in one call (all struct arguments together),
/// and the largest struct result by value. libffi copies by-value structs onto the calling
/// thread's stack, and the C function may copy them again: 64 KiB leaves room on the
/// smallest stacks ArkFFI's calls run on (Worker and TaskPool threads, the nonblocking
/// worker threads; a 512 KiB stack is assumed possible). Larger structs go by pointer.
pub const MAX_BY_VALUE: usize = 64 * 1024;

impl Signature {
    pub fn new(args: Vec<ArgType>, ret: ArgType) -> FfiResult<Signature> {
        if let Some(i) = args.iter().position(|t| t.is_void()) {
            return Err(FfiError::type_error(format!(
                "args[{i}] is void; void is only valid in returns"
            )));
        }
        let mut by_value = 0usize;
        for (i, t) in args.iter().enumerate() {
            if let ArgType::Struct(s) = t {
                by_value += s.size;
                if by_value > MAX_BY_VALUE {
                    return Err(FfiError::range_error(format!(
                        "args[{i}] is a struct of {} bytes passed by value, which makes {by_value} bytes of struct arguments; by-value structs are copied onto the thread's stack and limited to {MAX_BY_VALUE} bytes per call: pass a pointer instead (declare FFIType.ptr and pass the buffer)",
                        s.size
                    )));
                }
            }
        }
        if let ArgType::Struct(s) = &ret {
            if s.size > MAX_BY_VALUE {
                return Err(FfiError::range_error(format!(
                    "returns is a struct of {} bytes by value; by-value structs are limited to {MAX_BY_VALUE} bytes (they are copied on the thread's stack): return it through a pointer argument instead",
                    s.size
                )));
            }
        }
        let cif = Cif::try_new(args.iter().map(|t| t.ffi_type()), ret.ffi_type()).map_err(|e| {
            FfiError::error(format!(
                "libffi could not prepare the call interface: {e:?}"
            ))
        })?;
        let has = |ty: FfiType| {
            args.iter()
                .any(|a| matches!(a, ArgType::Scalar(t) if *t == ty))
        };
        let watches_buffers = has(FfiType::Callback) && (has(FfiType::Buffer) || has(FfiType::Ptr));
        let direct = if *crate::direct::ENABLED && !watches_buffers {
            DirectPlan::new(&args, &ret)
        } else {
            None
        };
        Ok(Signature {
            args: args.into_boxed_slice(),
            ret,
            cif,
            direct,
            watches_buffers,
            ret_object: false,
            variadic: None,
            call_callbacks: None,
        })
    }

    #[inline]
    pub fn cif_ptr(&self) -> *mut ffi_cif {
        self.cif.as_raw_ptr()
    }

    /// `(i32, f64) -> f64`, for messages.
    pub fn describe(&self) -> String {
        let args: Vec<_> = self.args.iter().map(|t| t.name()).collect();
        let ret = self.ret.name();
        format!("({}) -> {ret}", args.join(", "))
    }
}

/// The property of a typed token (`C.i32`, ets/src/main/ets/ctype.ets) that holds its
/// FFIType code.
pub const TOKEN_PROPERTY: &CStr = c"ffiType";

/// The property of a `StructSchema.value` token that asks for the struct result as an object.
pub const AS_OBJECT_PROPERTY: &CStr = c"asObject";

/// Read an argument or result type: an FFIType code, a typed token (`C.i32`: an object
/// whose `ffiType` is a code) or a StructSchema (and its `.value` token).
///
/// # Safety
/// `env` live; `v` a value of it.
pub unsafe fn parse_type(env: napi_env, v: napi_value) -> FfiResult<ArgType> {
    // SAFETY: forwarded contract.
    unsafe {
        if let Some(layout) = structs::from_schema(env, v) {
            return Ok(ArgType::Struct(layout));
        }
        let code_v = match js::kind(env, v) {
            js::Kind::Object => js::get_named(env, v, TOKEN_PROPERTY)?,
            _ => v,
        };
        if let Some(code) = js::get_f64(env, code_v) {
            if let Some(t) = FfiType::from_code(code) {
                return Ok(ArgType::Scalar(t));
            }
        }
        Err(FfiError::type_error(format!(
            "is not an FFIType or a StructSchema, got {}",
            js::describe(env, v)
        )))
    }
}

/// Parse `{ args?: FFIType[], returns?: FFIType }` (plus the extra keys a caller allows).
/// Unknown keys are refused so that a typo (`return:`) is not silently a void function.
///
/// # Safety
/// `env` live; `def` a value of it.
pub unsafe fn parse_definition(
    env: napi_env,
    def: napi_value,
    extra_keys: &[&str],
) -> FfiResult<Signature> {
    // SAFETY (whole body): env/def and every value read from def belong to this env.
    unsafe {
        if js::kind(env, def) != js::Kind::Object || js::is_array(env, def) {
            return Err(FfiError::type_error(format!(
                "definition must be an object {{ args?: FFIType[], returns?: FFIType }}, got {}",
                js::describe(env, def)
            )));
        }
        let keys = js::property_names(env, def)?;
        for i in 0..js::array_len(env, keys)? {
            let key = js::get_string(env, js::element(env, keys, i)?).unwrap_or_default();
            if key != "args" && key != "returns" && !extra_keys.contains(&key.as_str()) {
                let mut allowed = vec!["args", "returns"];
                allowed.extend_from_slice(extra_keys);
                return Err(FfiError::type_error(format!(
                    "unknown key \"{key}\" in definition (allowed: {})",
                    allowed.join(", ")
                )));
            }
        }
        let args_v = js::get_named(env, def, c"args")?;
        let mut args = Vec::new();
        let mut call_callbacks = Vec::new();
        match js::kind(env, args_v) {
            js::Kind::Undefined => {}
            _ if js::is_array(env, args_v) => {
                let n = js::array_len(env, args_v)?;
                if n > MAX_ARGS {
                    return Err(FfiError::range_error(format!(
                        "args has {n} elements; at most {MAX_ARGS} arguments are supported"
                    )));
                }
                args.reserve(n as usize);
                for i in 0..n {
                    let v = js::element(env, args_v, i)?;
                    let t = parse_type(env, v).map_err(|e| e.subject(&format!("args[{i}]")))?;
                    call_callbacks.push(
                        callback_type(env, v, &t)
                            .map_err(|e| e.context(&format!("args[{i}] (CallbackType)")))?,
                    );
                    args.push(t);
                }
            }
            _ => {
                return Err(FfiError::type_error(format!(
                    "args must be an array of FFIType, got {}",
                    js::describe(env, args_v)
                )))
            }
        }
        let ret_v = js::get_named(env, def, c"returns")?;
        let ret = match js::kind(env, ret_v) {
            js::Kind::Undefined => ArgType::Scalar(FfiType::Void),
            _ => parse_type(env, ret_v).map_err(|e| e.subject("returns"))?,
        };
        let ret_object = matches!(ret, ArgType::Struct(_))
            && flag(env, ret_v, AS_OBJECT_PROPERTY).map_err(|e| e.subject("returns"))?;
        let mut sig = Signature::new(args, ret)?;
        sig.ret_object = ret_object;
        if call_callbacks.iter().any(Option::is_some) {
            // Calls that make callbacks for themselves take the general path (call::run).
            sig.direct = None;
            sig.call_callbacks = Some(call_callbacks.into_boxed_slice());
        }
        if extra_keys.contains(&"variadic") && flag(env, def, c"variadic")? {
            if matches!(sig.ret, ArgType::Struct(_)) {
                return Err(FfiError::type_error(
                    "a variadic function returns a scalar here (returns is a StructSchema): return the struct through a pointer argument",
                ));
            }
            // Variadic calls always go through libffi's variadic interfaces.
            sig.direct = None;
            sig.variadic = Some(Cache::default());
        }
        Ok(sig)
    }
}

/// The property of a `CallbackType` token that holds its signature `{ args, returns }`.
pub const CALLBACK_SIGNATURE_PROPERTY: &CStr = c"signature";

/// How deeply CallbackType signatures may nest (a callback taking a callback …).
const MAX_CALLBACK_NESTING: usize = 8;

thread_local! {
    static CALLBACK_DEPTH: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The signature of a `CallbackType` token (an object whose `ffiType` is `callback` and
/// whose `signature` is a definition), if `v` is one.
///
/// # Safety
/// `env` live; `v` a value of it.
unsafe fn callback_type(
    env: napi_env,
    v: napi_value,
    t: &ArgType,
) -> FfiResult<Option<std::sync::Arc<Signature>>> {
    if !matches!(t, ArgType::Scalar(FfiType::Callback)) {
        return Ok(None);
    }
    // SAFETY (whole body): forwarded contract.
    unsafe {
        if js::kind(env, v) != js::Kind::Object {
            return Ok(None);
        }
        let def = js::get_named(env, v, CALLBACK_SIGNATURE_PROPERTY)?;
        if js::kind(env, def) == js::Kind::Undefined {
            return Ok(None);
        }
        let depth = CALLBACK_DEPTH.with(|d| d.get());
        if depth >= MAX_CALLBACK_NESTING {
            return Err(FfiError::range_error(format!(
                "callback signatures nest more than {MAX_CALLBACK_NESTING} levels deep"
            )));
        }
        CALLBACK_DEPTH.with(|d| d.set(depth + 1));
        let sig = parse_definition(env, def, &[]);
        CALLBACK_DEPTH.with(|d| d.set(depth));
        Ok(Some(std::sync::Arc::new(sig?)))
    }
}

/// An optional boolean option of a definition (`nonblocking`, `threadsafe`): false when
/// absent.
///
/// # Safety
/// `env` live; `obj` an object of it.
pub unsafe fn flag(env: napi_env, obj: napi_value, key: &CStr) -> FfiResult<bool> {
    // SAFETY: forwarded contract.
    unsafe {
        let v = js::get_named(env, obj, key)?;
        match js::kind(env, v) {
            js::Kind::Undefined => Ok(false),
            js::Kind::Boolean => Ok(js::get_bool(env, v).unwrap_or(false)),
            _ => Err(FfiError::type_error(format!(
                "{} must be a boolean, got {}",
                key.to_string_lossy(),
                js::describe(env, v)
            ))),
        }
    }
}

/// A named property read, for the keys that callers allow.
///
/// # Safety
/// `env` live; `obj` an object of it.
pub unsafe fn extra(env: napi_env, obj: napi_value, key: &CStr) -> FfiResult<napi_value> {
    // SAFETY: forwarded contract.
    unsafe { js::get_named(env, obj, key) }
}

/// Distinct lists of extra types a function keeps prepared interfaces for; past that, the
/// oldest is replaced (one allocation for the call that adds it).
pub const CACHE_SIZE: usize = 16;

/// One prepared interface: the (promoted) extra types it was made for.
pub struct Prepared {
    extra: Box<[FfiType]>,
    cif: Cif,
}

// SAFETY: the CIF is prepared once and only read afterwards (ffi_call does not modify it);
// the type arrays it points to are owned by `cif`.
unsafe impl Send for Prepared {}
// SAFETY: as above, shared reads only.
unsafe impl Sync for Prepared {}

impl Prepared {
    pub fn cif_ptr(&self) -> *mut ffi_cif {
        self.cif.as_raw_ptr()
    }
}

/// The prepared interfaces of one variadic function (`variadic` makes its calls), bounded:
/// a call whose list of extra types is cached allocates nothing.
#[derive(Default)]
pub struct Cache {
    entries: Mutex<(Vec<Arc<Prepared>>, usize)>,
}

impl Cache {
    /// The interface for these (promoted) extra types, prepared on first use.
    pub fn get(&self, sig: &Signature, extra: &[FfiType]) -> FfiResult<Arc<Prepared>> {
        {
            let entries = self.entries.lock();
            if let Some(p) = entries.0.iter().find(|p| *p.extra == *extra) {
                return Ok(p.clone());
            }
        }
        let types = sig
            .args
            .iter()
            .map(|t| t.ffi_type())
            .chain(extra.iter().map(|t| t.ffi_type()))
            .collect::<Vec<_>>();
        let cif =
            Cif::try_new_variadic(types, sig.args.len(), sig.ret.ffi_type()).map_err(|e| {
                FfiError::error(format!(
                    "libffi could not prepare the variadic call interface: {e:?}"
                ))
            })?;
        let p = Arc::new(Prepared {
            extra: extra.into(),
            cif,
        });
        let mut entries = self.entries.lock();
        let (list, next) = &mut *entries;
        if list.len() < CACHE_SIZE {
            list.push(p.clone());
        } else {
            list[*next % CACHE_SIZE] = p.clone();
            *next = (*next + 1) % CACHE_SIZE;
        }
        Ok(p)
    }

    /// How many interfaces are cached (tests).
    #[cfg(test)]
    pub fn cached(&self) -> usize {
        self.entries.lock().0.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{FieldKind, StructLayout};
    use std::sync::Arc;

    fn sc(t: FfiType) -> ArgType {
        ArgType::Scalar(t)
    }

    #[test]
    fn void_argument_is_refused() {
        let e = Signature::new(vec![sc(FfiType::I32), sc(FfiType::Void)], sc(FfiType::Void))
            .err()
            .unwrap();
        assert!(e.message().contains("args[1]"));
    }

    #[test]
    fn every_type_prepares_as_result_and_non_void_as_argument() {
        for t in FfiType::ALL {
            assert!(Signature::new(vec![], sc(t)).is_ok(), "{t:?} as result");
            if t != FfiType::Void {
                let s = Signature::new(vec![sc(t), sc(t)], sc(t)).unwrap();
                assert_eq!(s.args.len(), 2);
            }
        }
        let s = Signature::new(
            vec![sc(FfiType::I32), sc(FfiType::F64)],
            sc(FfiType::CString),
        )
        .unwrap();
        assert_eq!(s.describe(), "(i32, f64) -> CString");
    }

    #[test]
    fn structs_prepare_as_arguments_and_results() {
        let layout = Arc::new(
            StructLayout::new(vec![
                ("re".into(), FieldKind::Scalar(FfiType::F64)),
                ("im".into(), FieldKind::Scalar(FfiType::F64)),
            ])
            .unwrap(),
        );
        let s = Signature::new(
            vec![ArgType::Struct(layout.clone()); 2],
            ArgType::Struct(layout),
        )
        .unwrap();
        assert_eq!(
            s.describe(),
            "(struct (16 bytes), struct (16 bytes)) -> struct (16 bytes)"
        );
    }
}
