//! The NAPI surface: the functions the module exports, kept thin. Each one reads its
//! arguments (trusting argc: OpenHarmony does not pad missing ones), delegates to the module
//! that does the job, and turns errors and panics into JS exceptions.

use std::ffi::c_void;
use std::ptr;
use std::sync::Arc;

use napi_ohos::sys;
use napi_ohos::sys::{napi_callback_info, napi_env, napi_value};

use crate::bind;
use crate::boundary::{guard, guard_value, thrown};
use crate::callback;
use crate::convert;
use crate::env_state;
use crate::error::{FfiError, FfiResult};
use crate::js;
use crate::layout::StructLayout;
use crate::library::LibraryHandle;
use crate::memory;
use crate::signature;
use crate::site::{self, CallSite};
use crate::structs;
use crate::types::FfiType;

/// The arguments of one native call, with missing ones read as `undefined`.
struct Args<const N: usize> {
    argv: [napi_value; N],
    argc: usize,
    data: *mut c_void,
    env: napi_env,
    /// `undefined`, fetched the first time a missing argument is read.
    undefined: std::cell::Cell<napi_value>,
}

impl<const N: usize> Args<N> {
    /// # Safety
    /// `env`/`info` are the current call's; the Args lives only during that call.
    unsafe fn get(env: napi_env, info: napi_callback_info) -> FfiResult<Self> {
        let mut argv = [ptr::null_mut(); N];
        // SAFETY: env/info from the current call.
        let (argc, data) = unsafe { js::cb_info(env, info, &mut argv)? };
        Ok(Args {
            argv,
            argc,
            data,
            env,
            undefined: std::cell::Cell::new(ptr::null_mut()),
        })
    }

    /// Argument `i` if the caller passed it (OpenHarmony's napi_get_cb_info does not pad
    /// argv, so argc decides).
    fn given(&self, i: usize) -> Option<napi_value> {
        (i < self.argc.min(N)).then(|| self.argv[i])
    }

    /// Argument `i`; `undefined` when the caller passed fewer.
    fn at(&self, i: usize) -> napi_value {
        self.given(i).unwrap_or_else(|| self.missing())
    }

    #[cold]
    fn missing(&self) -> napi_value {
        if self.undefined.get().is_null() {
            // SAFETY: Args lives only during the call of `env` (get's contract). A failure
            // leaves null, which the NAPI call that receives it refuses as an invalid arg.
            let v = unsafe { js::undefined(self.env) }.unwrap_or(ptr::null_mut());
            self.undefined.set(v);
        }
        self.undefined.get()
    }
}

/// A native function as NAPI calls it.
type Entry = unsafe extern "C" fn(napi_env, napi_callback_info) -> napi_value;

macro_rules! entry {
    ($name:ident, $body:path) => {
        unsafe extern "C" fn $name(env: napi_env, info: napi_callback_info) -> napi_value {
            // SAFETY: called by the engine with this call's env and info.
            unsafe { guard(env, || $body(env, info)) }
        }
    };
}

entry!(dlopen_entry, dlopen);
entry!(cfunction_entry, cfunction);
entry!(close_entry, library_close);
entry!(symbol_ptr_entry, library_symbol_ptr);
entry!(ptr_entry, buffer_ptr);
entry!(reader_entry, reader);
entry!(writer_entry, writer);
entry!(view_entry, view);
entry!(to_array_buffer_entry, to_array_buffer);
entry!(read_c_string_entry, read_c_string);

/// `dlopen(path, { name: { args, returns } })` → `{ path, symbols, close, symbolPtr }`.
unsafe fn dlopen(env: napi_env, info: napi_callback_info) -> FfiResult<napi_value> {
    // SAFETY (whole body): env/info from the current call; values read belong to env.
    unsafe {
        let a = Args::<2>::get(env, info)?;
        let path = match js::kind(env, a.at(0)) {
            js::Kind::String => js::get_string(env, a.at(0)).unwrap_or_default(),
            _ => {
                return Err(FfiError::type_error(format!(
                    "dlopen: path must be a string, got {}",
                    js::describe(env, a.at(0))
                )))
            }
        };
        let defs = a.at(1);
        if js::kind(env, defs) != js::Kind::Object || js::is_array(env, defs) {
            return Err(FfiError::type_error(format!(
                "dlopen(\"{path}\"): symbols must be an object of {{ name: {{ args, returns }} }}, got {}",
                js::describe(env, defs)
            )));
        }
        // Prepare every signature before touching the file system: a bad definition is a
        // TypeError whatever the library.
        let keys = js::property_names(env, defs)?;
        let mut prepared = Vec::new();
        for i in 0..js::array_len(env, keys)? {
            let key = js::element(env, keys, i)?;
            let name = js::get_string(env, key).unwrap_or_default();
            let def = js::get_property(env, defs, key)?;
            let ctx = |e: FfiError| e.context(&format!("dlopen(\"{path}\"): symbol \"{name}\""));
            let sig =
                signature::parse_definition(env, def, &["nonblocking", "variadic"]).map_err(ctx)?;
            let nonblocking = signature::flag(env, def, c"nonblocking").map_err(ctx)?;
            prepared.push((key, name, sig, nonblocking));
        }
        let shared = env_state::get(env)?.shared().clone();
        let handle = Arc::new(LibraryHandle::open(&path)?);
        let symbols = js::object(env)?;
        for (key, name, sig, nonblocking) in prepared {
            let code = handle.symbol(&name)?;
            let site = CallSite {
                name: name.into(),
                code,
                sig: site::SiteSig::new(sig),
                owner: Some(handle.clone()),
                env: shared.clone(),
                nonblocking,
            };
            js::set_property(env, symbols, key, bind::bind(env, site)?)?;
        }
        let lib = js::object(env)?;
        js::set_named(env, lib, c"path", js::string(env, &path)?)?;
        js::set_named(env, lib, c"symbols", symbols)?;
        let data = Arc::into_raw(handle.clone()) as *mut c_void;
        match library_methods(env, lib, data) {
            Ok(()) => Ok(lib),
            Err(e) => {
                // SAFETY: no finalizer took the count (and no method is reachable from JS).
                drop(Arc::from_raw(data as *const LibraryHandle));
                Err(e)
            }
        }
    }
}

/// The property through which each library method keeps the next one alive. A string, not a
/// symbol: OpenHarmony's NAPI has no `napi_create_symbol` (napi-sys-ohos leaves it out for the
/// ohos targets).
const LINK_KEY: &std::ffi::CStr = c"__arkffiNext";

/// The library's methods `close`, `symbolPtr` and `bind`, which share `data`, one count of
/// the library handle (`Arc::into_raw`), released by one finalizer: each method reaches the
/// next through a hidden property (`LINK_KEY`: not writable, enumerable nor configurable), so
/// the three live and die together. One finalizer record per library
/// instead of three, which in a loop that never yields to the event loop (where finalizers
/// run) is memory kept per dlopen. On an error the count is still the caller's.
///
/// # Safety
/// `env` live; `lib` an object of it; `data` a count of an `Arc<LibraryHandle>`.
unsafe fn library_methods(env: napi_env, lib: napi_value, data: *mut c_void) -> FfiResult<()> {
    unsafe extern "C" fn finalize(_env: napi_env, data: *mut c_void, _hint: *mut c_void) {
        let _ = std::panic::catch_unwind(|| {
            // SAFETY: data is the Arc::into_raw count of dlopen, released exactly once here.
            drop(unsafe { Arc::from_raw(data as *const LibraryHandle) });
        });
    }
    // SAFETY (whole body): env live; data stays valid until the finalizer attached last
    // releases it, which runs only when all three methods are collected (they reach each
    // other); if attaching fails the caller keeps the count and the methods are unreachable.
    unsafe {
        let close = js::function(env, "close", Some(close_entry), data)?;
        let symbol_ptr = js::function(env, "symbolPtr", Some(symbol_ptr_entry), data)?;
        let bind = js::function(env, "bind", Some(bind_entry), data)?;
        for (from, to) in [(close, symbol_ptr), (symbol_ptr, bind), (bind, close)] {
            let link = sys::napi_property_descriptor {
                utf8name: LINK_KEY.as_ptr(),
                name: ptr::null_mut(),
                method: None,
                getter: None,
                setter: None,
                value: to,
                attributes: sys::PropertyAttributes::default,
                data: ptr::null_mut(),
            };
            js::check(
                env,
                sys::napi_define_properties(env, from, 1, &link),
                "napi_define_properties",
            )?;
        }
        js::set_named(env, lib, c"close", close)?;
        js::set_named(env, lib, c"symbolPtr", symbol_ptr)?;
        js::set_named(env, lib, c"bind", bind)?;
        js::check(
            env,
            sys::napi_add_finalizer(
                env,
                close,
                data,
                Some(finalize),
                ptr::null_mut(),
                ptr::null_mut(),
            ),
            "napi_add_finalizer",
        )
    }
}

/// The library handle behind a method of `library_methods` (not to be dropped: the count is
/// the methods').
unsafe fn handle_of<const N: usize>(a: &Args<N>) -> std::mem::ManuallyDrop<Arc<LibraryHandle>> {
    // SAFETY: data is the Arc::into_raw count shared by the library's methods; one of them
    // is being called, so it has not been finalized; ManuallyDrop leaves the count alone.
    std::mem::ManuallyDrop::new(unsafe { Arc::from_raw(a.data as *const LibraryHandle) })
}

unsafe fn library_close(env: napi_env, info: napi_callback_info) -> FfiResult<napi_value> {
    // SAFETY: env/info from the current call.
    unsafe {
        let a = Args::<0>::get(env, info)?;
        let lib = handle_of(&a);
        let shared = env_state::get(env)?.shared();
        // From a callback during a synchronous call, C code of this library may be on the
        // stack: dlclose waits until the JS thread is out of its synchronous calls.
        if shared.in_call() {
            if lib.close_in_call()? {
                shared.unload_after_calls(Arc::<LibraryHandle>::clone(&lib));
            }
        } else {
            lib.close()?;
        }
        js::undefined(env)
    }
}

unsafe fn library_symbol_ptr(env: napi_env, info: napi_callback_info) -> FfiResult<napi_value> {
    // SAFETY: env/info from the current call.
    unsafe {
        let a = Args::<1>::get(env, info)?;
        let lib = handle_of(&a);
        let name = match js::kind(env, a.at(0)) {
            js::Kind::String => js::get_string(env, a.at(0)).unwrap_or_default(),
            _ => {
                return Err(FfiError::type_error(format!(
                    "getSymbolPtr: name must be a string, got {}",
                    js::describe(env, a.at(0))
                )))
            }
        };
        let p = lib.symbol(&name).map_err(|e| e.context("getSymbolPtr"))?;
        crate::convert::pointer_to_js(env, p as usize)
    }
}

/// `cfunction({ ptr, args, returns })`: a callable for a raw C function pointer.
unsafe fn cfunction(env: napi_env, info: napi_callback_info) -> FfiResult<napi_value> {
    // SAFETY (whole body): env/info from the current call.
    unsafe {
        let a = Args::<1>::get(env, info)?;
        let def = a.at(0);
        let sig = signature::parse_definition(env, def, &["ptr", "nonblocking", "variadic"])
            .map_err(|e| e.context("CFunction"))?;
        let nonblocking =
            signature::flag(env, def, c"nonblocking").map_err(|e| e.context("CFunction"))?;
        let p = signature::extra(env, def, c"ptr")?;
        let code =
            crate::convert::function_address(env, p).map_err(|e| e.subject("CFunction: ptr"))?;
        if code == 0 {
            return Err(FfiError::type_error(
                "CFunction: ptr must be a function address, got null or 0",
            ));
        }
        let site = CallSite {
            name: format!("CFunction(0x{code:x})").into(),
            code: code as *const c_void,
            sig: site::SiteSig::new(sig),
            owner: None,
            env: env_state::get(env)?.shared().clone(),
            nonblocking,
        };
        bind::bind(env, site)
    }
}

unsafe fn buffer_ptr(env: napi_env, info: napi_callback_info) -> FfiResult<napi_value> {
    // SAFETY: env/info from the current call.
    unsafe {
        let a = Args::<2>::get(env, info)?;
        memory::buffer_address(env, a.at(0), a.at(1))
    }
}

/// `reader(type)` → a native function `(ptr, byteOffset?)` that reads one value of that
/// type (`read.i32` & co. in memory.ets). The type is checked here, once; each type has an
/// entry of its own (`READ_ENTRIES`), compiled for that type, so a read decides nothing
/// about its type at run time.
unsafe fn reader(env: napi_env, info: napi_callback_info) -> FfiResult<napi_value> {
    // SAFETY: env/info from the current call.
    unsafe {
        let a = Args::<1>::get(env, info)?;
        let ty =
            crate::types::parse_type_code(env, a.at(0)).map_err(|e| e.context("reader: type"))?;
        if matches!(ty, FfiType::Void | FfiType::CString) {
            return Err(FfiError::type_error(format!(
                "reader: cannot read a value of type {}",
                ty.name()
            )));
        }
        let entry = FfiType::ALL
            .iter()
            .position(|t| *t == ty)
            .and_then(|i| READ_ENTRIES.get(i))
            .ok_or_else(|| FfiError::error(format!("reader: {} has no entry", ty.name())))?;
        js::function(env, ty.name(), Some(*entry), ptr::null_mut())
    }
}

/// The function `reader` makes for `FfiType::ALL[I]`.
unsafe extern "C" fn read_entry_of<const I: usize>(
    env: napi_env,
    info: napi_callback_info,
) -> napi_value {
    let ty = FfiType::ALL[I];
    // SAFETY: called by the engine with this call's env and info.
    unsafe {
        guard_value(env, || {
            // The common call, `read.i32(p)` with p a number, without the general path.
            let mut argv = [ptr::null_mut(); 1];
            if let Ok((1, _)) = js::cb_info(env, info, &mut argv) {
                if let Some(v) = memory::read_at_number(env, ty, argv[0]) {
                    return v.unwrap_or_else(|e| thrown(env, e));
                }
            }
            read_general(env, info, ty)
        })
    }
}

/// `read.<type>` with every argument form and every error (`memory::read`).
///
/// # Safety
/// `env`/`info` of the current call.
#[inline(never)]
unsafe fn read_general(env: napi_env, info: napi_callback_info, ty: FfiType) -> napi_value {
    // SAFETY: forwarded contract.
    unsafe {
        match Args::<2>::get(env, info) {
            Ok(a) => memory::read(env, ty, a.at(0), a.given(1)),
            Err(e) => Err(e),
        }
        .unwrap_or_else(|e| thrown(env, e))
    }
}

/// One read entry per `FfiType::ALL` index (void and CString ones are never handed out).
const READ_ENTRIES: [Entry; FfiType::ALL.len()] = [
    read_entry_of::<0>,
    read_entry_of::<1>,
    read_entry_of::<2>,
    read_entry_of::<3>,
    read_entry_of::<4>,
    read_entry_of::<5>,
    read_entry_of::<6>,
    read_entry_of::<7>,
    read_entry_of::<8>,
    read_entry_of::<9>,
    read_entry_of::<10>,
    read_entry_of::<11>,
    read_entry_of::<12>,
    read_entry_of::<13>,
    read_entry_of::<14>,
    read_entry_of::<15>,
    read_entry_of::<16>,
    read_entry_of::<17>,
    read_entry_of::<18>,
    read_entry_of::<19>,
    read_entry_of::<20>,
];

/// `writer(type)` → a native function `(ptr, byteOffset, value)` that writes one value of
/// that type (`write.i32` & co. in memory.ets); one entry per type, as `reader`.
unsafe fn writer(env: napi_env, info: napi_callback_info) -> FfiResult<napi_value> {
    // SAFETY: env/info from the current call.
    unsafe {
        let a = Args::<1>::get(env, info)?;
        let ty =
            crate::types::parse_type_code(env, a.at(0)).map_err(|e| e.context("writer: type"))?;
        if matches!(ty, FfiType::Void | FfiType::CString) {
            return Err(FfiError::type_error(format!(
                "writer: cannot write a value of type {}",
                ty.name()
            )));
        }
        let entry = FfiType::ALL
            .iter()
            .position(|t| *t == ty)
            .and_then(|i| WRITE_ENTRIES.get(i))
            .ok_or_else(|| FfiError::error(format!("writer: {} has no entry", ty.name())))?;
        js::function(env, ty.name(), Some(*entry), ptr::null_mut())
    }
}

/// The function `writer` makes for `FfiType::ALL[I]`.
unsafe extern "C" fn write_entry_of<const I: usize>(
    env: napi_env,
    info: napi_callback_info,
) -> napi_value {
    // SAFETY: called by the engine with this call's env and info.
    unsafe {
        guard(env, || {
            let a = Args::<3>::get(env, info)?;
            memory::write(env, FfiType::ALL[I], a.at(0), a.at(1), a.at(2))?;
            js::undefined(env)
        })
    }
}

/// One write entry per `FfiType::ALL` index (void and CString ones are never handed out).
const WRITE_ENTRIES: [Entry; FfiType::ALL.len()] = [
    write_entry_of::<0>,
    write_entry_of::<1>,
    write_entry_of::<2>,
    write_entry_of::<3>,
    write_entry_of::<4>,
    write_entry_of::<5>,
    write_entry_of::<6>,
    write_entry_of::<7>,
    write_entry_of::<8>,
    write_entry_of::<9>,
    write_entry_of::<10>,
    write_entry_of::<11>,
    write_entry_of::<12>,
    write_entry_of::<13>,
    write_entry_of::<14>,
    write_entry_of::<15>,
    write_entry_of::<16>,
    write_entry_of::<17>,
    write_entry_of::<18>,
    write_entry_of::<19>,
    write_entry_of::<20>,
];

unsafe fn view(env: napi_env, info: napi_callback_info) -> FfiResult<napi_value> {
    // SAFETY: env/info from the current call.
    unsafe {
        let a = Args::<3>::get(env, info)?;
        memory::view(env, a.at(0), a.at(1), a.at(2))
    }
}

unsafe fn to_array_buffer(env: napi_env, info: napi_callback_info) -> FfiResult<napi_value> {
    // SAFETY: env/info from the current call.
    unsafe {
        let a = Args::<3>::get(env, info)?;
        memory::to_array_buffer(env, a.at(0), a.at(1), a.at(2))
    }
}

unsafe fn read_c_string(env: napi_env, info: napi_callback_info) -> FfiResult<napi_value> {
    // SAFETY: env/info from the current call.
    unsafe {
        let a = Args::<3>::get(env, info)?;
        memory::read_c_string(env, a.at(0), a.at(1), a.at(2))
    }
}

/// Put every native function on `exports`.
///
/// # Safety
/// `env` live; `exports` the module's exports object.
pub unsafe fn register(env: napi_env, exports: napi_value) -> FfiResult<()> {
    // SAFETY: env live; module initialisation runs once per env.
    unsafe { env_state::install(env)? };
    let table: &[(&str, &std::ffi::CStr, Entry)] = &[
        ("dlopen", c"dlopen", dlopen_entry),
        ("cfunction", c"cfunction", cfunction_entry),
        ("ptr", c"ptr", ptr_entry),
        ("reader", c"reader", reader_entry),
        ("writer", c"writer", writer_entry),
        ("view", c"view", view_entry),
        ("toArrayBuffer", c"toArrayBuffer", to_array_buffer_entry),
        ("readCString", c"readCString", read_c_string_entry),
        ("typeName", c"typeName", type_name_entry),
        ("errno", c"errno", errno_entry),
        ("structLayout", c"structLayout", struct_layout_entry),
        ("structCreate", c"structCreate", struct_create_entry),
        ("structWrite", c"structWrite", struct_write_entry),
        ("structRead", c"structRead", struct_read_entry),
        (
            "structReadBuffer",
            c"structReadBuffer",
            struct_read_buffer_entry,
        ),
        ("structOffsetOf", c"structOffsetOf", struct_offset_of_entry),
        ("releasePtr", c"releasePtr", release_ptr_entry),
        ("heldPtrCount", c"heldPtrCount", held_ptr_count_entry),
        ("callbackCreate", c"callbackCreate", callback_create_entry),
        ("callbackClose", c"callbackClose", callback_close_entry),
        (
            "callbackLiveCount",
            c"callbackLiveCount",
            callback_live_count_entry,
        ),
        (
            "callbackSlotCount",
            c"callbackSlotCount",
            callback_slot_count_entry,
        ),
        ("__debugPanic", c"__debugPanic", debug_panic_entry),
        #[cfg(feature = "alloc-stats")]
        (
            "__debugAllocations",
            c"__debugAllocations",
            debug_allocations_entry,
        ),
    ];
    for &(name, cname, cb) in table {
        // SAFETY: env live; the functions carry no data.
        unsafe {
            let f = js::function(env, name, Some(cb), ptr::null_mut())?;
            js::set_named(env, exports, cname, f)?;
        }
    }
    Ok(())
}

entry!(type_name_entry, type_name);
entry!(errno_entry, errno);

/// `errno()`: C's `errno` right after the most recent synchronous FFI call of this JS thread
/// returned (kept by the call path, see `EnvShared::leave`). Nonblocking calls do not change
/// it: their C runs on a worker thread, whose errno is its own.
unsafe fn errno(env: napi_env, info: napi_callback_info) -> FfiResult<napi_value> {
    // SAFETY: env/info from the current call.
    unsafe {
        let _ = Args::<0>::get(env, info)?;
        js::number(env, env_state::get(env)?.shared().errno() as f64)
    }
}

/// `typeName(code)`: the canonical name of a type code (used by the package's messages and
/// to check that the ArkTS enum and the native table agree).
unsafe fn type_name(env: napi_env, info: napi_callback_info) -> FfiResult<napi_value> {
    // SAFETY: env/info from the current call.
    unsafe {
        let a = Args::<1>::get(env, info)?;
        let ty = crate::types::parse_type_code(env, a.at(0)).map_err(|e| e.context("typeName"))?;
        js::string(env, ty.name())
    }
}

entry!(struct_layout_entry, struct_layout);
entry!(struct_create_entry, struct_create);
entry!(struct_write_entry, struct_write);
entry!(struct_read_entry, struct_read);
entry!(struct_read_buffer_entry, struct_read_buffer);
entry!(struct_offset_of_entry, struct_offset_of);
entry!(release_ptr_entry, release_ptr);
entry!(held_ptr_count_entry, held_ptr_count);

/// The layout behind argument 0 (a StructSchema's native handle).
unsafe fn layout_arg<const N: usize>(
    env: napi_env,
    a: &Args<N>,
    what: &str,
) -> FfiResult<Arc<StructLayout>> {
    // SAFETY: env and the argument belong to the current call.
    unsafe {
        structs::from_handle(env, a.at(0)).ok_or_else(|| {
            FfiError::type_error(format!(
                "{what}: argument 0 must be a StructSchema handle, got {}",
                js::describe(env, a.at(0))
            ))
        })
    }
}

/// `structLayout(fields, union?)` → `{ handle, size, alignment, offsets }`.
unsafe fn struct_layout(env: napi_env, info: napi_callback_info) -> FfiResult<napi_value> {
    // SAFETY (whole body): env/info from the current call.
    unsafe {
        let a = Args::<2>::get(env, info)?;
        let union = js::get_bool(env, a.at(1)) == Some(true);
        let what = if union { "UnionSchema" } else { "StructSchema" };
        let layout =
            Arc::new(structs::parse_layout(env, a.at(0), union).map_err(|e| e.context(what))?);
        let offsets = js::object(env)?;
        for f in &layout.fields {
            js::set_property(
                env,
                offsets,
                js::string(env, &f.name)?,
                js::number(env, f.offset as f64)?,
            )?;
        }
        let out = js::object(env)?;
        js::set_named(env, out, c"size", js::number(env, layout.size as f64)?)?;
        js::set_named(
            env,
            out,
            c"alignment",
            js::number(env, layout.align as f64)?,
        )?;
        js::set_named(env, out, c"offsets", offsets)?;
        js::set_named(env, out, c"handle", structs::new_handle(env, layout)?)?;
        Ok(out)
    }
}

/// `structCreate(handle, value)` → a new zeroed ArrayBuffer holding the struct.
unsafe fn struct_create(env: napi_env, info: napi_callback_info) -> FfiResult<napi_value> {
    // SAFETY (whole body): env/info from the current call; the new buffer has size bytes.
    unsafe {
        let a = Args::<2>::get(env, info)?;
        let layout = layout_arg(env, &a, "StructSchema.create")?;
        let mut data: *mut c_void = ptr::null_mut();
        let mut buffer = ptr::null_mut();
        js::check(
            env,
            sys::napi_create_arraybuffer(env, layout.size, &mut data, &mut buffer),
            "napi_create_arraybuffer",
        )?;
        ptr::write_bytes(data.cast::<u8>(), 0, layout.size);
        let what = if layout.union {
            "UnionSchema.create"
        } else {
            "StructSchema.create"
        };
        structs::write(env, &layout, a.at(1), data.cast(), "").map_err(|e| e.context(what))?;
        Ok(buffer)
    }
}

/// `structWrite(handle, value, target, byteOffset?)`.
unsafe fn struct_write(env: napi_env, info: napi_callback_info) -> FfiResult<napi_value> {
    // SAFETY (whole body): env/info from the current call; struct_memory gives size bytes.
    unsafe {
        let a = Args::<4>::get(env, info)?;
        let layout = layout_arg(env, &a, "StructSchema.write")?;
        let at = structs::memory_at(
            env,
            a.at(2),
            a.at(3),
            layout.size,
            structs::Target::BufferOrAddress,
            "StructSchema.write",
        )?;
        structs::write(env, &layout, a.at(1), at, "")
            .map_err(|e| e.context("StructSchema.write"))?;
        js::undefined(env)
    }
}

/// `structRead(handle, address, byteOffset?)` (fromPtr) → a new object with the struct's
/// fields.
unsafe fn struct_read(env: napi_env, info: napi_callback_info) -> FfiResult<napi_value> {
    // SAFETY: env/info from the current call.
    unsafe { struct_read_from(env, info, structs::Target::Address, "StructSchema.fromPtr") }
}

/// `structReadBuffer(handle, buffer, byteOffset?)` (fromBuffer): buffers only, bounds-checked.
unsafe fn struct_read_buffer(env: napi_env, info: napi_callback_info) -> FfiResult<napi_value> {
    // SAFETY: env/info from the current call.
    unsafe {
        struct_read_from(
            env,
            info,
            structs::Target::Buffer,
            "StructSchema.fromBuffer",
        )
    }
}

unsafe fn struct_read_from(
    env: napi_env,
    info: napi_callback_info,
    target: structs::Target,
    what: &str,
) -> FfiResult<napi_value> {
    // SAFETY (whole body): env/info from the current call; memory_at gives size bytes.
    unsafe {
        let a = Args::<3>::get(env, info)?;
        let layout = layout_arg(env, &a, what)?;
        let at = structs::memory_at(env, a.at(1), a.at(2), layout.size, target, what)?;
        structs::read(env, &layout, at)
    }
}

/// `structOffsetOf(handle, path)`.
unsafe fn struct_offset_of(env: napi_env, info: napi_callback_info) -> FfiResult<napi_value> {
    // SAFETY (whole body): env/info from the current call.
    unsafe {
        let a = Args::<2>::get(env, info)?;
        let layout = layout_arg(env, &a, "StructSchema.offsetOf")?;
        if js::kind(env, a.at(1)) != js::Kind::String {
            return Err(FfiError::type_error(format!(
                "StructSchema.offsetOf: name must be a string, got {}",
                js::describe(env, a.at(1))
            )));
        }
        let path = js::get_string(env, a.at(1)).unwrap_or_default();
        let off = structs::offset_of(&layout, &path)
            .map_err(|m| FfiError::type_error(format!("StructSchema.offsetOf: {m}")))?;
        js::number(env, off as f64)
    }
}

/// `releasePtr(address)`: drop a held struct result. Unknown addresses are ignored.
unsafe fn release_ptr(env: napi_env, info: napi_callback_info) -> FfiResult<napi_value> {
    // SAFETY (whole body): env/info from the current call.
    unsafe {
        let a = Args::<1>::get(env, info)?;
        let address =
            convert::bare_address(env, a.at(0)).map_err(|e| e.subject("releasePtr: argument 0"))?;
        env_state::get(env)?.release(address);
        js::undefined(env)
    }
}

/// `heldPtrCount()`: how many struct results are held (not yet released).
unsafe fn held_ptr_count(env: napi_env, info: napi_callback_info) -> FfiResult<napi_value> {
    // SAFETY (whole body): env/info from the current call.
    unsafe {
        let _ = Args::<0>::get(env, info)?;
        js::number(env, env_state::get(env)?.held_count() as f64)
    }
}

entry!(callback_create_entry, callback_create);
entry!(callback_close_entry, callback_close);
entry!(callback_live_count_entry, callback_live_count);
entry!(callback_slot_count_entry, callback_slot_count);

/// `callbackCreate(fn, { args, returns, threadsafe })` → `{ handle, ptr }`.
unsafe fn callback_create(env: napi_env, info: napi_callback_info) -> FfiResult<napi_value> {
    // SAFETY (whole body): env/info from the current call.
    unsafe {
        let a = Args::<2>::get(env, info)?;
        if js::kind(env, a.at(0)) != js::Kind::Function {
            return Err(FfiError::type_error(format!(
                "JSCallback: argument 0 must be a function, got {}",
                js::describe(env, a.at(0))
            )));
        }
        let def = a.at(1);
        let sig = signature::parse_definition(env, def, &["threadsafe"])
            .map_err(|e| e.context("JSCallback"))?;
        let threadsafe =
            signature::flag(env, def, c"threadsafe").map_err(|e| e.context("JSCallback"))?;
        let (key, code) = callback::create(env, a.at(0), Arc::new(sig), threadsafe)?;
        let out = js::object(env)?;
        js::set_named(env, out, c"handle", callback::handle(env, key)?)?;
        js::set_named(env, out, c"ptr", convert::pointer_to_js(env, code)?)?;
        Ok(out)
    }
}

/// `callbackClose(handle)`: idempotent.
unsafe fn callback_close(env: napi_env, info: napi_callback_info) -> FfiResult<napi_value> {
    // SAFETY (whole body): env/info from the current call; close runs on the owner thread
    // (a handle only exists in the env that made it).
    unsafe {
        let a = Args::<1>::get(env, info)?;
        let key = callback::key_of(env, a.at(0)).ok_or_else(|| {
            FfiError::type_error(format!(
                "JSCallback.close: not a JSCallback handle, got {}",
                js::describe(env, a.at(0))
            ))
        })?;
        callback::close(env, key);
        js::undefined(env)
    }
}

/// `callbackLiveCount()`: callbacks created and not closed.
unsafe fn callback_live_count(env: napi_env, info: napi_callback_info) -> FfiResult<napi_value> {
    // SAFETY: env/info from the current call.
    unsafe {
        let _ = Args::<0>::get(env, info)?;
        js::number(env, callback::live_count() as f64)
    }
}

entry!(debug_panic_entry, debug_panic);

/// `__debugPanic(where)`: drives the internal-error paths in tests (not part of the package
/// API). 'entry' panics inside this native call; 'callback' makes the next JS callback
/// invocation panic inside its trampoline.
unsafe fn debug_panic(env: napi_env, info: napi_callback_info) -> FfiResult<napi_value> {
    // SAFETY (whole body): env/info from the current call.
    unsafe {
        let a = Args::<1>::get(env, info)?;
        match js::get_string(env, a.at(0)).as_deref() {
            Some("entry") => crate::debug::panic_now(),
            Some("callback") => crate::debug::arm_callback_panic(),
            _ => {
                return Err(FfiError::type_error(
                    "__debugPanic: where must be 'entry' or 'callback'",
                ))
            }
        }
        js::undefined(env)
    }
}

#[cfg(feature = "alloc-stats")]
entry!(debug_allocations_entry, debug_allocations);

/// `__debugAllocations()`: the number of heap allocations this library has made (builds
/// with the cargo feature `alloc-stats` only; see tests/host/allocations.test.js).
#[cfg(feature = "alloc-stats")]
unsafe fn debug_allocations(env: napi_env, _info: napi_callback_info) -> FfiResult<napi_value> {
    // SAFETY: env from the current call.
    unsafe { js::number(env, crate::debug::alloc_stats::count() as f64) }
}

/// `callbackSlotCount()`: how many callbacks can be open at once (set at build time).
unsafe fn callback_slot_count(env: napi_env, info: napi_callback_info) -> FfiResult<napi_value> {
    // SAFETY: env/info from the current call.
    unsafe {
        let _ = Args::<0>::get(env, info)?;
        js::number(env, crate::slots::SLOT_COUNT as f64)
    }
}

entry!(bind_entry, library_bind);

/// `lib.bind(name, { args, returns, nonblocking })`: binds one more symbol of an open
/// library (what `Library.func` / `funcAsync` / `funcN` return): the same kind of function,
/// the same prepared signature and call path as a symbol bound by `dlopen`.
unsafe fn library_bind(env: napi_env, info: napi_callback_info) -> FfiResult<napi_value> {
    // SAFETY (whole body): env/info from the current call; data is the library's count
    // shared by its methods (`library_methods`), alive while one is being called.
    unsafe {
        let a = Args::<2>::get(env, info)?;
        let handle = Arc::clone(&handle_of(&a));
        let def = a.at(1);
        let nonblocking = js::kind(env, def) == js::Kind::Object
            && signature::flag(env, def, c"nonblocking").unwrap_or(false);
        let what = if nonblocking {
            "Library.funcAsync"
        } else {
            "Library.func"
        };
        let name = match js::kind(env, a.at(0)) {
            js::Kind::String => js::get_string(env, a.at(0)).unwrap_or_default(),
            _ => {
                return Err(FfiError::type_error(format!(
                    "{what}: name must be a string, got {}",
                    js::describe(env, a.at(0))
                )))
            }
        };
        let ctx = |e: FfiError| e.context(&format!("{what}(\"{name}\")"));
        let sig =
            signature::parse_definition(env, def, &["nonblocking", "variadic"]).map_err(ctx)?;
        let nonblocking = signature::flag(env, def, c"nonblocking").map_err(ctx)?;
        let code = handle.symbol(&name).map_err(ctx)?;
        let site = CallSite {
            name: name.into(),
            code,
            sig: site::SiteSig::new(sig),
            owner: Some(handle),
            env: env_state::get(env)?.shared().clone(),
            nonblocking,
        };
        bind::bind(env, site)
    }
}
