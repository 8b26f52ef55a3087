//! Struct layouts: the C compiler's rules (natural alignment, padding between fields, tail
//! padding to the struct's alignment) for scalars, nested structs and fixed-size arrays, and
//! the matching libffi struct type for passing structs by value.

use std::sync::Arc;

use libffi::middle::Type;

use crate::types::FfiType;

/// The type of one struct field.
#[derive(Clone, Debug)]
pub enum FieldKind {
    Scalar(FfiType),
    Struct(Arc<StructLayout>),
    Array {
        element: Box<FieldKind>,
        length: usize,
    },
}

impl FieldKind {
    pub fn size(&self) -> usize {
        match self {
            FieldKind::Scalar(t) => t.size(),
            FieldKind::Struct(s) => s.size,
            FieldKind::Array { element, length } => element.size() * length,
        }
    }

    pub fn align(&self) -> usize {
        match self {
            FieldKind::Scalar(t) => t.align(),
            FieldKind::Struct(s) => s.align,
            FieldKind::Array { element, .. } => element.align(),
        }
    }

    /// The libffi element types this field contributes (an array is its elements in a row,
    /// which is how libffi describes C arrays inside structs).
    fn push_ffi_types(&self, out: &mut Vec<Type>) {
        match self {
            FieldKind::Scalar(t) => out.push(t.ffi_type()),
            FieldKind::Struct(s) => out.push(s.ffi_type()),
            FieldKind::Array { element, length } => {
                for _ in 0..*length {
                    element.push_ffi_types(out);
                }
            }
        }
    }

    /// Levels of nesting below this field: 0 for a scalar, a struct's own depth, one more
    /// than its element for an array.
    pub fn depth(&self) -> usize {
        match self {
            FieldKind::Scalar(_) => 0,
            FieldKind::Struct(s) => s.depth,
            FieldKind::Array { element, .. } => 1 + element.depth(),
        }
    }

    /// `f64`, `Struct{16}`, `u8[4]`, for messages.
    pub fn describe(&self) -> String {
        match self {
            FieldKind::Scalar(t) => t.name().to_owned(),
            FieldKind::Struct(s) => format!("struct of {} bytes", s.size),
            FieldKind::Array { element, length } => format!("{}[{length}]", element.describe()),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Field {
    pub name: String,
    /// The name as a C string for NAPI's property calls (None if it has a NUL inside).
    pub cname: Option<std::ffi::CString>,
    pub offset: usize,
    pub kind: FieldKind,
}

/// A struct's fields with their offsets, its size and alignment.
#[derive(Debug)]
pub struct StructLayout {
    pub fields: Vec<Field>,
    pub size: usize,
    pub align: usize,
    /// Levels of structs and arrays, this one included (1 for a struct of scalars).
    pub depth: usize,
}

/// The deepest nesting of structs and arrays a StructSchema may have. Reading, writing,
/// laying out and passing a struct recurse once per level, and a Worker's or TaskPool
/// thread's stack is smaller than the main thread's: 32 levels use a few tens of KiB at
/// most (tests/host/reliability.test.js runs them on a 512 KiB Worker stack), far more
/// than any C struct nests.
pub const MAX_NESTING: usize = 32;

/// Largest struct accepted (16 MiB): far beyond real C structs, small enough that no size
/// computation can overflow and that every struct buffer can be allocated.
pub const MAX_STRUCT_SIZE: usize = 1 << 24;

fn align_up(n: usize, align: usize) -> usize {
    n.div_ceil(align) * align
}

impl StructLayout {
    /// Lay out `fields` in order. Errors (as plain messages) for an empty struct, a void
    /// field, an empty array or a struct over `MAX_STRUCT_SIZE`.
    pub fn new(fields: Vec<(String, FieldKind)>) -> Result<StructLayout, String> {
        if fields.is_empty() {
            return Err("a struct needs at least one field".into());
        }
        let mut offset = 0usize;
        let mut align = 1usize;
        let mut laid = Vec::with_capacity(fields.len());
        for (name, kind) in fields {
            check_kind(&kind).map_err(|e| format!("field \"{name}\": {e}"))?;
            let a = kind.align();
            let size = kind.size();
            let start = align_up(offset, a);
            offset = start
                .checked_add(size)
                .filter(|end| *end <= MAX_STRUCT_SIZE)
                .ok_or_else(|| {
                    format!("field \"{name}\": the struct would exceed {MAX_STRUCT_SIZE} bytes")
                })?;
            align = align.max(a);
            laid.push(Field {
                cname: std::ffi::CString::new(name.as_str()).ok(),
                name,
                offset: start,
                kind,
            });
        }
        let size = align_up(offset, align);
        if size > MAX_STRUCT_SIZE {
            return Err(format!("the struct would exceed {MAX_STRUCT_SIZE} bytes"));
        }
        let depth = 1 + laid.iter().map(|f| f.kind.depth()).max().unwrap_or(0);
        if depth > MAX_NESTING {
            return Err(nesting_message(depth));
        }
        Ok(StructLayout {
            fields: laid,
            size,
            align,
            depth,
        })
    }

    /// The libffi type of this struct (built on demand: only signatures need it).
    pub fn ffi_type(&self) -> Type {
        let mut elements = Vec::new();
        for f in &self.fields {
            f.kind.push_ffi_types(&mut elements);
        }
        Type::structure(elements)
    }

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// The error of a struct nested `depth` levels deep (over `MAX_NESTING`).
pub fn nesting_message(depth: usize) -> String {
    format!(
        "structs and arrays nest {depth} levels deep here; at most {MAX_NESTING} levels are supported"
    )
}

fn check_kind(kind: &FieldKind) -> Result<(), String> {
    match kind {
        FieldKind::Scalar(FfiType::Void) => Err("void is not a field type".into()),
        FieldKind::Scalar(_) | FieldKind::Struct(_) => Ok(()),
        FieldKind::Array { length: 0, .. } => Err("an array needs at least one element".into()),
        FieldKind::Array { element, length } => {
            check_kind(element)?;
            if element
                .size()
                .checked_mul(*length)
                .is_none_or(|n| n > MAX_STRUCT_SIZE)
            {
                return Err(format!("the array would exceed {MAX_STRUCT_SIZE} bytes"));
            }
            Ok(())
        }
    }
}

/// The type of an argument or result: a scalar, or a struct passed by value.
#[derive(Clone, Debug)]
pub enum ArgType {
    Scalar(FfiType),
    Struct(Arc<StructLayout>),
}

impl ArgType {
    pub fn ffi_type(&self) -> Type {
        match self {
            ArgType::Scalar(t) => t.ffi_type(),
            ArgType::Struct(s) => s.ffi_type(),
        }
    }

    pub fn name(&self) -> String {
        match self {
            ArgType::Scalar(t) => t.name().to_owned(),
            ArgType::Struct(s) => format!("struct ({} bytes)", s.size),
        }
    }

    pub fn is_void(&self) -> bool {
        matches!(self, ArgType::Scalar(FfiType::Void))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use libffi::middle::Cif;

    fn s(fields: &[(&str, FieldKind)]) -> StructLayout {
        StructLayout::new(
            fields
                .iter()
                .map(|(n, k)| (n.to_string(), k.clone()))
                .collect(),
        )
        .unwrap()
    }
    fn sc(t: FfiType) -> FieldKind {
        FieldKind::Scalar(t)
    }

    #[test]
    fn padding_and_tail_padding() {
        // struct { char a; double b; short c; } → a@0 b@8 c@16, size 24, align 8
        let l = s(&[
            ("a", sc(FfiType::I8)),
            ("b", sc(FfiType::F64)),
            ("c", sc(FfiType::I16)),
        ]);
        let offsets: Vec<_> = l.fields.iter().map(|f| f.offset).collect();
        assert_eq!(offsets, [0, 8, 16]);
        assert_eq!((l.size, l.align), (24, 8));
    }

    #[test]
    fn nested_structs_and_arrays() {
        let inner = Arc::new(s(&[("x", sc(FfiType::U8)), ("y", sc(FfiType::I32))])); // size 8 align 4
        let l = s(&[
            ("tag", sc(FfiType::U8)),
            ("inner", FieldKind::Struct(inner)),
            (
                "bytes",
                FieldKind::Array {
                    element: Box::new(sc(FfiType::U8)),
                    length: 3,
                },
            ),
            ("p", sc(FfiType::Ptr)),
        ]);
        let offsets: Vec<_> = l.fields.iter().map(|f| f.offset).collect();
        assert_eq!(offsets, [0, 4, 12, 16]);
        assert_eq!((l.size, l.align), (24, 8));
    }

    #[test]
    fn errors() {
        assert!(StructLayout::new(vec![]).is_err());
        assert!(StructLayout::new(vec![("v".into(), sc(FfiType::Void))])
            .unwrap_err()
            .contains("field \"v\""));
        let empty = FieldKind::Array {
            element: Box::new(sc(FfiType::U8)),
            length: 0,
        };
        assert!(StructLayout::new(vec![("a".into(), empty)]).is_err());
        let huge = FieldKind::Array {
            element: Box::new(sc(FfiType::F64)),
            length: usize::MAX / 4,
        };
        assert!(StructLayout::new(vec![("a".into(), huge)]).is_err());
    }

    #[test]
    fn libffi_agrees_on_size_and_alignment() {
        let inner = Arc::new(s(&[("x", sc(FfiType::F32)), ("y", sc(FfiType::F32))]));
        let l = s(&[
            ("a", sc(FfiType::I8)),
            ("in", FieldKind::Struct(inner)),
            (
                "arr",
                FieldKind::Array {
                    element: Box::new(sc(FfiType::I16)),
                    length: 3,
                },
            ),
            ("d", sc(FfiType::F64)),
        ]);
        let ty = l.ffi_type();
        // Preparing a CIF makes libffi compute the struct's size and alignment.
        let cif = Cif::new(vec![ty.clone()], ty);
        // SAFETY: the CIF was prepared; rtype points at its struct type.
        let (size, align) = unsafe {
            let rtype = (*cif.as_raw_ptr()).rtype;
            ((*rtype).size, (*rtype).alignment as usize)
        };
        assert_eq!((size, align), (l.size, l.align));
    }
}
