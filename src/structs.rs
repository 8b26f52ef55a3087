//! Struct values: StructSchema handles (the native layout behind an ArkTS StructSchema),
//! the field record → layout parser, and reading / writing struct values in memory.

use std::collections::HashSet;
use std::ffi::c_void;
use std::ptr;
use std::sync::Arc;

use napi_ohos::sys;
use napi_ohos::sys::{napi_env, napi_value};
use once_cell::sync::Lazy;
use parking_lot::Mutex;

use crate::arena::Scratch;
use crate::convert;
use crate::error::{FfiError, FfiResult};
use crate::js;
use crate::layout::{FieldKind, StructLayout};
use crate::types::FfiType;

/// Addresses of the live layouts (`Arc::into_raw`) behind our externals. A JS external that
/// is not in this set (another module's) is never dereferenced.
static LIVE_HANDLES: Lazy<Mutex<HashSet<usize>>> = Lazy::new(|| Mutex::new(HashSet::new()));

/// The property of an ArkTS StructSchema that holds its native handle.
pub const HANDLE_PROPERTY: &std::ffi::CStr = c"nativeLayout";

/// Wrap a layout in a JS external whose finalizer drops it.
///
/// # Safety
/// `env` live.
pub unsafe fn new_handle(env: napi_env, layout: Arc<StructLayout>) -> FfiResult<napi_value> {
    unsafe extern "C" fn finalize(_env: napi_env, data: *mut c_void, _hint: *mut c_void) {
        let _ = std::panic::catch_unwind(|| {
            LIVE_HANDLES.lock().remove(&(data as usize));
            // SAFETY: data is the Arc::into_raw count of new_handle, finalized once.
            drop(unsafe { Arc::from_raw(data as *const StructLayout) });
        });
    }
    // The external holds one count of the layout itself (no box: less malloc that only the
    // finalizer, run from the event loop, frees).
    let data = Arc::into_raw(layout) as *mut StructLayout;
    LIVE_HANDLES.lock().insert(data as usize);
    let mut v = ptr::null_mut();
    // SAFETY: env live; finalize frees data once when the external is collected.
    let status = unsafe {
        sys::napi_create_external(env, data.cast(), Some(finalize), ptr::null_mut(), &mut v)
    };
    if status != sys::Status::napi_ok {
        LIVE_HANDLES.lock().remove(&(data as usize));
        // SAFETY: not attached; the count is still ours.
        drop(unsafe { Arc::from_raw(data) });
    }
    // SAFETY: env live.
    unsafe { js::check(env, status, "napi_create_external")? };
    Ok(v)
}

/// The layout behind a handle external, if `v` is one of ours.
///
/// # Safety
/// `env` live; `v` a value of it.
pub unsafe fn from_handle(env: napi_env, v: napi_value) -> Option<Arc<StructLayout>> {
    let mut data: *mut c_void = ptr::null_mut();
    // SAFETY: env/v valid; fails with a status for non-externals.
    if unsafe { sys::napi_get_value_external(env, v, &mut data) } != sys::Status::napi_ok {
        return None;
    }
    let live = LIVE_HANDLES.lock();
    if !live.contains(&(data as usize)) {
        return None;
    }
    let data = data as *const StructLayout;
    // SAFETY: data is a live count of ours (in the set, and the external `v` holding it is
    // alive during this call, so it cannot be finalized meanwhile): take one more.
    unsafe { Arc::increment_strong_count(data) };
    // SAFETY: the count just taken.
    Some(unsafe { Arc::from_raw(data) })
}

/// The layout of a StructSchema object (its `nativeLayout` handle), if `v` is one.
///
/// # Safety
/// `env` live; `v` a value of it.
pub unsafe fn from_schema(env: napi_env, v: napi_value) -> Option<Arc<StructLayout>> {
    // SAFETY: forwarded contract.
    unsafe {
        if js::kind(env, v) != js::Kind::Object {
            return None;
        }
        let h = js::get_named(env, v, HANDLE_PROPERTY).ok()?;
        from_handle(env, h)
    }
}

/// A field type: an FFIType code, a StructSchema, or an array description
/// `{ element, length }` (what `StructSchema.array()` makes).
///
/// # Safety
/// `env` live; `v` a value of it.
pub unsafe fn parse_field_type(env: napi_env, v: napi_value) -> FfiResult<FieldKind> {
    // SAFETY: forwarded contract.
    unsafe { parse_field_type_at(env, v, 1) }
}

/// `parse_field_type` for a field `level` levels deep (arrays of arrays nest without a
/// StructSchema in between, and a self-referencing `{ element, length }` would recurse
/// forever).
unsafe fn parse_field_type_at(env: napi_env, v: napi_value, level: usize) -> FfiResult<FieldKind> {
    // SAFETY (whole body): forwarded contract.
    unsafe {
        if level > crate::layout::MAX_NESTING {
            return Err(FfiError::range_error(crate::layout::nesting_message(level)));
        }
        if js::kind(env, v) == js::Kind::Number {
            return Ok(FieldKind::Scalar(crate::types::parse_type_code(env, v)?));
        }
        if let Some(layout) = from_schema(env, v) {
            return Ok(FieldKind::Struct(layout));
        }
        if js::kind(env, v) == js::Kind::Object {
            let element = js::get_named(env, v, c"element")?;
            let length = js::get_named(env, v, c"length")?;
            if js::kind(env, element) != js::Kind::Undefined
                && js::kind(env, length) == js::Kind::Number
            {
                let n = js::get_f64(env, length).unwrap_or(f64::NAN);
                if !(n.fract() == 0.0 && n >= 1.0 && n <= crate::layout::MAX_STRUCT_SIZE as f64) {
                    return Err(FfiError::range_error(format!(
                        "array length must be a whole number >= 1, got {}",
                        js::describe(env, length)
                    )));
                }
                // The subject once, at the outermost array (not once per level).
                let element = parse_field_type_at(env, element, level + 1).map_err(|e| {
                    if level == 1 {
                        e.subject("array element")
                    } else {
                        e
                    }
                })?;
                return Ok(FieldKind::Array {
                    element: Box::new(element),
                    length: n as usize,
                });
            }
        }
        Err(FfiError::type_error(format!(
            "must be an FFIType, a StructSchema or StructSchema.array(type, length), got {}",
            js::describe(env, v)
        )))
    }
}

/// `new StructSchema(fields)` (or `new UnionSchema(fields)` when `union`): the layout of a
/// `{ name: FieldType }` record, in key order.
///
/// # Safety
/// `env` live; `fields` a value of it.
pub unsafe fn parse_layout(
    env: napi_env,
    fields: napi_value,
    union: bool,
) -> FfiResult<StructLayout> {
    // SAFETY (whole body): forwarded contract.
    unsafe {
        if js::kind(env, fields) != js::Kind::Object || js::is_array(env, fields) {
            return Err(FfiError::type_error(format!(
                "fields must be an object {{ name: FieldType }}, got {}",
                js::describe(env, fields)
            )));
        }
        let keys = js::property_names(env, fields)?;
        let mut parsed = Vec::new();
        for i in 0..js::array_len(env, keys)? {
            let key = js::element(env, keys, i)?;
            let name = js::get_string(env, key).unwrap_or_default();
            let kind = parse_field_type(env, js::get_property(env, fields, key)?)
                .map_err(|e| e.subject(&format!("field \"{name}\"")))?;
            if 1 + kind.depth() > crate::layout::MAX_NESTING {
                return Err(FfiError::range_error(format!(
                    "field \"{name}\": {}",
                    crate::layout::nesting_message(1 + kind.depth())
                )));
            }
            parsed.push((name, kind));
        }
        if union {
            StructLayout::new_union(parsed)
        } else {
            StructLayout::new(parsed)
        }
        .map_err(FfiError::type_error)
    }
}

/// What a struct may be read from or written to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A buffer (ArrayBuffer, SharedArrayBuffer, typed array, DataView): bounds-checked.
    Buffer,
    /// A C address (trusted; NULL and the first page refused).
    Address,
    /// Either (`write`).
    BufferOrAddress,
}

/// Where a struct is read or written: `size` bytes at `byteOffset` of a buffer
/// (bounds-checked) or of C memory at an address (trusted, NULL and the first page refused),
/// as `accept` allows. `what` names the function in errors.
///
/// # Safety
/// `env` live; values of it.
pub unsafe fn memory_at(
    env: napi_env,
    target: napi_value,
    offset: napi_value,
    size: usize,
    accept: Target,
    what: &str,
) -> FfiResult<*mut u8> {
    use crate::memory;
    // SAFETY (whole body): env and values from the current call.
    unsafe {
        let off = memory::size_arg(
            env,
            offset,
            memory::Label(what, ": byteOffset", ""),
            Some(0),
        )?;
        let bytes = if accept == Target::Address {
            Ok(None)
        } else {
            convert::buffer_arg(env, target)
        };
        match bytes {
            Ok(Some((data, len))) => {
                if off.checked_add(size).is_none_or(|end| end > len) {
                    return Err(FfiError::range_error(format!(
                        "{what}: a struct of {size} bytes at byteOffset {off} does not fit in a buffer of {len} bytes"
                    )));
                }
                Ok(data.cast::<u8>().add(off))
            }
            Ok(None) if accept != Target::Buffer => {
                let base = convert::bare_address(env, target).map_err(|e| {
                    let e = e.subject(&format!("{what}: argument"));
                    if accept == Target::Address && convert::buffer_bytes(env, target).is_some() {
                        FfiError::type_error(format!(
                            "{}; fromBuffer(buffer) reads a struct from a buffer",
                            e.message()
                        ))
                    } else {
                        e
                    }
                })?;
                Ok(memory::checked_address(base, off, size, what)?.cast_mut())
            }
            _ => Err(FfiError::type_error(format!(
                "{what}: argument must be an ArrayBuffer, SharedArrayBuffer, typed array or DataView, got {}{}",
                js::describe(env, target),
                match js::kind(env, target) {
                    js::Kind::Number | js::Kind::BigInt => "; fromPtr(address) reads a struct at an address",
                    _ => "",
                }
            ))),
        }
    }
}

/// The type a scalar field is read and written as: string-ish and buffer-ish fields hold plain
/// addresses (never converted to strings, never freed).
fn storage_type(t: FfiType) -> FfiType {
    match t {
        FfiType::CString | FfiType::Buffer | FfiType::Callback => FfiType::Ptr,
        other => other,
    }
}

/// Read a struct at `base` into a new JS object.
///
/// # Safety
/// `env` live; `base` readable for `layout.size` bytes.
pub unsafe fn read(env: napi_env, layout: &StructLayout, base: *const u8) -> FfiResult<napi_value> {
    // SAFETY (whole body): offsets are inside the layout's size, which the caller promises.
    unsafe {
        let obj = js::object(env)?;
        // All fields in one napi_define_properties call, keyed by their C-string names
        // (engines intern those; no key string is created per read).
        let blank = sys::napi_property_descriptor {
            utf8name: ptr::null(),
            name: ptr::null_mut(),
            method: None,
            getter: None,
            setter: None,
            value: ptr::null_mut(),
            attributes: sys::PropertyAttributes::writable
                | sys::PropertyAttributes::enumerable
                | sys::PropertyAttributes::configurable,
            data: ptr::null_mut(),
        };
        let n = layout.fields.len();
        let mut stack = [blank; 16];
        let mut heap = Vec::new();
        let descs: &mut [sys::napi_property_descriptor] = if n <= stack.len() {
            &mut stack[..n]
        } else {
            heap.resize(n, blank);
            &mut heap
        };
        for (f, d) in layout.fields.iter().zip(descs.iter_mut()) {
            d.value = read_kind(env, &f.kind, base.add(f.offset))?;
            match &f.cname {
                Some(c) => d.utf8name = c.as_ptr(),
                None => d.name = js::string(env, &f.name)?,
            }
        }
        js::check(
            env,
            sys::napi_define_properties(env, obj, n, descs.as_ptr()),
            "napi_define_properties",
        )?;
        Ok(obj)
    }
}

unsafe fn read_kind(env: napi_env, kind: &FieldKind, at: *const u8) -> FfiResult<napi_value> {
    // SAFETY (whole body): `at` is readable for kind.size() bytes (caller contract).
    unsafe {
        match kind {
            FieldKind::Scalar(t) => {
                let raw = read_raw(at, t.size());
                convert::to_js(env, storage_type(*t), raw)
            }
            FieldKind::Struct(s) => read(env, s, at),
            FieldKind::Array { element, length } => {
                let mut arr = ptr::null_mut();
                js::check(
                    env,
                    sys::napi_create_array_with_length(env, *length, &mut arr),
                    "napi_create_array",
                )?;
                let step = element.size();
                for i in 0..*length {
                    let v = read_kind(env, element, at.add(i * step))?;
                    js::check(
                        env,
                        sys::napi_set_element(env, arr, i as u32, v),
                        "napi_set_element",
                    )?;
                }
                Ok(arr)
            }
        }
    }
}

/// Little-endian read of a 1/2/4/8-byte scalar into the low bytes of a u64.
///
/// # Safety
/// `at` readable for `size` bytes.
pub unsafe fn read_raw(at: *const u8, size: usize) -> u64 {
    // SAFETY: caller contract; unaligned reads.
    unsafe {
        match size {
            1 => ptr::read_unaligned(at) as u64,
            2 => ptr::read_unaligned(at.cast::<u16>()) as u64,
            4 => ptr::read_unaligned(at.cast::<u32>()) as u64,
            _ => ptr::read_unaligned(at.cast::<u64>()),
        }
    }
}

/// Write the JS object `value` as a struct at `base`. Missing (undefined) fields are zeroed.
/// A union takes at most one member (the rest of its bytes are zeroed). Errors name the
/// field path (`outer.inner[2]`).
///
/// # Safety
/// `env` live; `base` writable for `layout.size` bytes.
pub unsafe fn write(
    env: napi_env,
    layout: &StructLayout,
    value: napi_value,
    base: *mut u8,
    path: &str,
) -> FfiResult<()> {
    // SAFETY (whole body): offsets lie inside the layout's size, writable per the contract.
    unsafe {
        if js::kind(env, value) != js::Kind::Object {
            let what = subject(path);
            return Err(FfiError::type_error(format!(
                "{what} must be an object with the {}'s fields, got {}",
                layout.noun(),
                js::describe(env, value)
            )));
        }
        if layout.union {
            return write_union(env, layout, value, base, path);
        }
        for f in &layout.fields {
            let v = field_value(env, value, f)?;
            write_kind(
                env,
                &f.kind,
                v,
                base.add(f.offset),
                &field_path(path, &f.name),
            )?;
        }
        Ok(())
    }
}

/// What a message of `write` is about: the value itself, or the field at `path`.
fn subject(path: &str) -> String {
    if path.is_empty() {
        "the value".to_owned()
    } else {
        format!("field \"{path}\"")
    }
}

/// The field path of error messages (allocated for nested fields only).
fn field_path<'a>(path: &str, name: &'a str) -> std::borrow::Cow<'a, str> {
    if path.is_empty() {
        std::borrow::Cow::Borrowed(name)
    } else {
        std::borrow::Cow::Owned(format!("{path}.{name}"))
    }
}

/// The JS value of field `f` of the object `value`.
///
/// # Safety
/// `env` live; `value` an object of it.
unsafe fn field_value(
    env: napi_env,
    value: napi_value,
    f: &crate::layout::Field,
) -> FfiResult<napi_value> {
    // SAFETY: forwarded contract.
    unsafe {
        match &f.cname {
            Some(c) => js::get_named(env, value, c),
            None => js::get_property(env, value, js::string(env, &f.name)?),
        }
    }
}

/// `write` of a union: the one member `value` gives (none: all zero), the rest zero.
///
/// # Safety
/// As `write`.
unsafe fn write_union(
    env: napi_env,
    layout: &StructLayout,
    value: napi_value,
    base: *mut u8,
    path: &str,
) -> FfiResult<()> {
    // SAFETY (whole body): members are at offset 0 and fit in layout.size (the contract).
    unsafe {
        let mut given: Option<(&crate::layout::Field, napi_value)> = None;
        for f in &layout.fields {
            let v = field_value(env, value, f)?;
            if js::kind(env, v) == js::Kind::Undefined {
                continue;
            }
            if let Some((first, _)) = given {
                let what = subject(path);
                return Err(FfiError::type_error(format!(
                    "{what} is a union: give one member, got \"{}\" and \"{}\"",
                    first.name, f.name
                )));
            }
            given = Some((f, v));
        }
        ptr::write_bytes(base, 0, layout.size);
        if let Some((f, v)) = given {
            write_kind(env, &f.kind, v, base, &field_path(path, &f.name))?;
        }
        Ok(())
    }
}

unsafe fn write_kind(
    env: napi_env,
    kind: &FieldKind,
    v: napi_value,
    at: *mut u8,
    path: &str,
) -> FfiResult<()> {
    // SAFETY (whole body): `at` writable for kind.size() bytes (caller contract).
    unsafe {
        if js::kind(env, v) == js::Kind::Undefined {
            ptr::write_bytes(at, 0, kind.size());
            return Ok(());
        }
        match kind {
            FieldKind::Scalar(t) => {
                let mut slot = 0u64;
                let mut scratch = Scratch::heap();
                convert::to_c(env, storage_type(*t), v, &mut slot, &mut scratch)
                    .map_err(|e| e.subject(&format!("field \"{path}\"")))?;
                let bytes = slot.to_le_bytes();
                ptr::copy_nonoverlapping(bytes.as_ptr(), at, t.size());
                Ok(())
            }
            FieldKind::Struct(s) => write(env, s, v, at, path),
            FieldKind::Array { element, length } => {
                let is_list = js::is_array(env, v) || js::is_typedarray(env, v);
                if !is_list {
                    return Err(FfiError::type_error(format!(
                        "field \"{path}\" must be an array of up to {length} elements, got {}",
                        js::describe(env, v)
                    )));
                }
                let n = js::get_f64(env, js::get_named(env, v, c"length")?).unwrap_or(0.0) as usize;
                if n > *length {
                    return Err(FfiError::range_error(format!(
                        "field \"{path}\" holds {length} elements, got an array of {n}"
                    )));
                }
                let step = element.size();
                for i in 0..*length {
                    let item = if i < n {
                        js::element(env, v, i as u32)?
                    } else {
                        js::undefined(env)?
                    };
                    write_kind(
                        env,
                        element,
                        item,
                        at.add(i * step),
                        &format!("{path}[{i}]"),
                    )?;
                }
                Ok(())
            }
        }
    }
}

/// The offset of a field path such as `inner.x` or `bytes[3]`.
pub fn offset_of(layout: &StructLayout, path: &str) -> Result<usize, String> {
    let mut offset = 0usize;
    let mut current: Option<&StructLayout> = Some(layout);
    let mut kind: Option<&FieldKind> = None;
    for part in path.split('.') {
        let (name, indexes) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        let s = current.ok_or_else(|| format!("\"{path}\": {name} is not inside a struct"))?;
        let f = s
            .field(name)
            .ok_or_else(|| format!("no field \"{name}\" in \"{path}\""))?;
        offset += f.offset;
        let mut k = &f.kind;
        let mut rest = indexes;
        while let Some(stripped) = rest.strip_prefix('[') {
            let close = stripped
                .find(']')
                .ok_or_else(|| format!("\"{path}\": missing ]"))?;
            let index: usize = stripped[..close]
                .parse()
                .map_err(|_| format!("\"{path}\": bad index"))?;
            match k {
                FieldKind::Array { element, length } if index < *length => {
                    offset += index * element.size();
                    k = element;
                }
                FieldKind::Array { length, .. } => {
                    return Err(format!("\"{path}\": index {index} >= length {length}"))
                }
                _ => return Err(format!("\"{path}\": {name} is not an array")),
            }
            rest = &stripped[close + 1..];
        }
        if !rest.is_empty() {
            return Err(format!("\"{path}\" is not a field path"));
        }
        current = match k {
            FieldKind::Struct(s) => Some(s),
            _ => None,
        };
        kind = Some(k);
    }
    kind.map(|_| offset)
        .ok_or_else(|| format!("\"{path}\" is not a field path"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_of_paths() {
        let inner = Arc::new(
            StructLayout::new(vec![
                ("x".into(), FieldKind::Scalar(FfiType::U8)),
                ("y".into(), FieldKind::Scalar(FfiType::I32)),
            ])
            .unwrap(),
        );
        let l = StructLayout::new(vec![
            ("tag".into(), FieldKind::Scalar(FfiType::U8)),
            ("inner".into(), FieldKind::Struct(inner.clone())),
            (
                "list".into(),
                FieldKind::Array {
                    element: Box::new(FieldKind::Struct(inner)),
                    length: 2,
                },
            ),
        ])
        .unwrap();
        assert_eq!(offset_of(&l, "tag"), Ok(0));
        assert_eq!(offset_of(&l, "inner"), Ok(4));
        assert_eq!(offset_of(&l, "inner.y"), Ok(8));
        assert_eq!(offset_of(&l, "list[1].y"), Ok(12 + 8 + 4));
        assert!(offset_of(&l, "nope").is_err());
        assert!(offset_of(&l, "list[2]").is_err());
        assert!(offset_of(&l, "tag.x").is_err());
        assert!(offset_of(&l, "tag[0]").is_err());
        assert!(offset_of(&l, "inner.").is_err());
    }
}
