//! Struct layouts: the C compiler's rules (natural alignment, padding between fields, tail
//! padding to the struct's alignment) for scalars, nested structs and fixed-size arrays, and
//! the matching libffi struct type for passing structs by value. Unions (every member at
//! offset 0) share the layout type and are presented to libffi as the struct the ABI
//! classifies them as (libffi has no union type).

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
            FieldKind::Struct(s) => format!("{} of {} bytes", s.noun(), s.size),
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
    /// A union: every field at offset 0, size the largest member's rounded up to the
    /// alignment.
    pub union: bool,
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
        StructLayout::lay_out(fields, false)
    }

    /// Lay out `fields` as a C union: every member at offset 0. The same errors as `new`.
    pub fn new_union(fields: Vec<(String, FieldKind)>) -> Result<StructLayout, String> {
        StructLayout::lay_out(fields, true)
    }

    /// "struct" or "union", for messages.
    pub fn noun(&self) -> &'static str {
        if self.union {
            "union"
        } else {
            "struct"
        }
    }

    fn lay_out(fields: Vec<(String, FieldKind)>, union: bool) -> Result<StructLayout, String> {
        let noun = if union { "union" } else { "struct" };
        if fields.is_empty() {
            return Err(format!("a {noun} needs at least one field"));
        }
        // A union's size is its largest member's (`offset` restarts at 0 for each member).
        let mut end = 0usize;
        let mut offset = 0usize;
        let mut align = 1usize;
        let mut laid = Vec::with_capacity(fields.len());
        for (name, kind) in fields {
            check_kind(&kind).map_err(|e| format!("field \"{name}\": {e}"))?;
            let a = kind.align();
            let size = kind.size();
            let start = if union { 0 } else { align_up(offset, a) };
            offset = start
                .checked_add(size)
                .filter(|end| *end <= MAX_STRUCT_SIZE)
                .ok_or_else(|| {
                    format!("field \"{name}\": the {noun} would exceed {MAX_STRUCT_SIZE} bytes")
                })?;
            end = end.max(offset);
            align = align.max(a);
            laid.push(Field {
                cname: std::ffi::CString::new(name.as_str()).ok(),
                name,
                offset: start,
                kind,
            });
        }
        let size = align_up(end, align);
        if size > MAX_STRUCT_SIZE {
            return Err(format!("the {noun} would exceed {MAX_STRUCT_SIZE} bytes"));
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
            union,
        })
    }

    /// The libffi type of this struct (built on demand: only signatures need it).
    pub fn ffi_type(&self) -> Type {
        if self.union {
            return Type::structure(self.union_pieces());
        }
        let mut elements = Vec::new();
        for f in &self.fields {
            f.kind.push_ffi_types(&mut elements);
        }
        Type::structure(elements)
    }

    /// The scalars of this layout with their offsets (arrays element by element, nested
    /// structs and unions recursively): what the ABI classifies a union by.
    fn leaves(&self, base: usize, out: &mut Vec<(usize, FfiType)>) {
        fn visit(kind: &FieldKind, at: usize, out: &mut Vec<(usize, FfiType)>) {
            match kind {
                FieldKind::Scalar(t) => out.push((at, *t)),
                FieldKind::Struct(s) => s.leaves(at, out),
                FieldKind::Array { element, length } => {
                    for i in 0..*length {
                        visit(element, at + i * element.size(), out);
                    }
                }
            }
        }
        for f in &self.fields {
            visit(&f.kind, base + f.offset, out);
        }
    }

    /// The union as libffi elements, classified from its bytes as the C ABI does: pieces of
    /// the union's alignment (so that size and alignment match), integers unless the ABI
    /// puts those bytes in floating-point registers.
    ///
    /// - aarch64 (AAPCS64): a homogeneous floating-point aggregate (every scalar of every
    ///   member the same float type) is that many floats; anything else is integer words
    ///   (general registers, or by reference past 16 bytes).
    /// - x86_64 (SysV): an eightbyte is SSE if only float scalars overlap it, else INTEGER.
    ///   Each piece is a float if only floats overlap it: libffi merges the pieces of an
    ///   eightbyte (INTEGER wins), also when the union sits inside a struct at an offset
    ///   that is not a multiple of 8 (a piece never straddles an eightbyte, as the union's
    ///   offset is a multiple of its alignment).
    ///
    /// Past 32 bytes (aarch64: four doubles, the largest HFA) or 16 (x86_64) a union is in
    /// memory whatever its pieces are: integers, without looking at the members.
    fn union_pieces(&self) -> Vec<Type> {
        let unit = self.align;
        let count = self.size / unit;
        let int_piece = || match unit {
            1 => Type::u8(),
            2 => Type::u16(),
            4 => Type::u32(),
            _ => Type::u64(),
        };
        let in_registers = if cfg!(target_arch = "aarch64") {
            32
        } else {
            16
        };
        if self.size > in_registers {
            return (0..count).map(|_| int_piece()).collect();
        }
        let mut leaves = Vec::new();
        self.leaves(0, &mut leaves);
        let is_float = |t: FfiType| matches!(t, FfiType::F32 | FfiType::F64);
        if cfg!(target_arch = "aarch64") {
            let base = leaves[0].1;
            if is_float(base) && leaves.iter().all(|(_, t)| *t == base) {
                let piece = if base == FfiType::F32 {
                    Type::f32
                } else {
                    Type::f64
                };
                return (0..self.size / base.size()).map(|_| piece()).collect();
            }
            return (0..count).map(|_| int_piece()).collect();
        }
        // x86_64's rule (also used on other CPUs: it only changes which registers carry the
        // bytes, never the bytes). A float leaf makes the alignment at least 4, so float
        // pieces are 4 or 8 bytes.
        (0..count)
            .map(|i| {
                let (lo, hi) = (i * unit, (i + 1) * unit);
                let float = leaves
                    .iter()
                    .filter(|(at, t)| *at < hi && at + t.size() > lo)
                    .all(|(_, t)| is_float(*t));
                match (float, unit) {
                    (true, 4) => Type::f32(),
                    (true, 8) => Type::f64(),
                    _ => int_piece(),
                }
            })
            .collect()
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
            ArgType::Struct(s) => format!("{} ({} bytes)", s.noun(), s.size),
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

    #[test]
    fn unions_overlap_at_zero() {
        // union { char c[5]; short s; } → size 6, align 2
        let u = StructLayout::new_union(vec![
            (
                "c".into(),
                FieldKind::Array {
                    element: Box::new(sc(FfiType::U8)),
                    length: 5,
                },
            ),
            ("s".into(), sc(FfiType::I16)),
        ])
        .unwrap();
        assert!(u.fields.iter().all(|f| f.offset == 0));
        assert_eq!((u.size, u.align, u.union), (6, 2, true));
        assert!(StructLayout::new_union(vec![])
            .unwrap_err()
            .contains("a union needs"));
    }

    /// The union's libffi type: its size and alignment, and the float or integer pieces.
    fn union_type(fields: &[(&str, FieldKind)]) -> (StructLayout, usize, usize, Vec<u16>) {
        let u = StructLayout::new_union(
            fields
                .iter()
                .map(|(n, k)| (n.to_string(), k.clone()))
                .collect(),
        )
        .unwrap();
        let ty = u.ffi_type();
        let cif = Cif::new(vec![ty.clone()], ty);
        // SAFETY: the CIF was prepared; rtype is its struct type, whose elements array is
        // NULL-terminated.
        let (size, align, kinds) = unsafe {
            let rtype = (*cif.as_raw_ptr()).rtype;
            let mut kinds = Vec::new();
            let mut e = (*rtype).elements;
            while !(*e).is_null() {
                kinds.push((**e).type_);
                e = e.add(1);
            }
            ((*rtype).size, (*rtype).alignment as usize, kinds)
        };
        (u, size, align, kinds)
    }

    #[test]
    fn unions_as_libffi_types() {
        use libffi::raw::{FFI_TYPE_DOUBLE, FFI_TYPE_FLOAT, FFI_TYPE_UINT32, FFI_TYPE_UINT64};
        let (u, size, align, kinds) =
            union_type(&[("i", sc(FfiType::I32)), ("f", sc(FfiType::F32))]);
        assert_eq!((size, align), (u.size, u.align));
        assert_eq!(kinds, [FFI_TYPE_UINT32]);
        let pair = FieldKind::Array {
            element: Box::new(sc(FfiType::F64)),
            length: 2,
        };
        let (u, size, align, kinds) = union_type(&[("d", sc(FfiType::F64)), ("p", pair)]);
        assert_eq!((size, align), (u.size, u.align));
        assert_eq!(kinds, [FFI_TYPE_DOUBLE; 2]);
        // double and float[2]: SSE on x86_64, not a homogeneous aggregate on aarch64.
        let floats = FieldKind::Array {
            element: Box::new(sc(FfiType::F32)),
            length: 2,
        };
        let (_, _, _, kinds) = union_type(&[("d", sc(FfiType::F64)), ("f", floats.clone())]);
        let expected = if cfg!(target_arch = "aarch64") {
            FFI_TYPE_UINT64
        } else {
            FFI_TYPE_DOUBLE
        };
        assert_eq!(kinds, [expected]);
        // Only floats: an HFA of 3 floats on aarch64; on x86_64 by eightbyte (align 4).
        let three = FieldKind::Array {
            element: Box::new(sc(FfiType::F32)),
            length: 3,
        };
        let (u, size, _, kinds) = union_type(&[("a", three), ("b", floats)]);
        assert_eq!((size, u.size), (12, 12));
        assert_eq!(kinds, [FFI_TYPE_FLOAT; 3]);
    }
}
