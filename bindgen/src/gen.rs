//! From libclang's view of the headers to the .ets text.

use crate::clang::{self, Cursor, Eval, Index, Tu, Type};
use crate::Options;
use clang_sys::*;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;
use std::path::PathBuf;

/// An ArkFFI token: what a C type is passed and returned as.
#[derive(Clone, PartialEq)]
enum Tok {
    Void,
    Bool,
    Char,
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
    I64,
    U64,
    I64F,
    U64F,
    Isize,
    Usize,
    F32,
    F64,
    /// A pointer; the name of the opaque struct it points to, if it is one.
    Ptr(Option<String>),
    CString,
    Callback,
    /// A struct by value (its generated interface name).
    Struct(String),
}

impl Tok {
    fn name(&self) -> &'static str {
        match self {
            Tok::Void => "void",
            Tok::Bool => "bool",
            Tok::Char => "char",
            Tok::I8 => "i8",
            Tok::U8 => "u8",
            Tok::I16 => "i16",
            Tok::U16 => "u16",
            Tok::I32 => "i32",
            Tok::U32 => "u32",
            Tok::I64 => "i64",
            Tok::U64 => "u64",
            Tok::I64F => "i64_fast",
            Tok::U64F => "u64_fast",
            Tok::Isize => "isize",
            Tok::Usize => "usize",
            Tok::F32 => "f32",
            Tok::F64 => "f64",
            Tok::Ptr(_) => "ptr",
            Tok::CString => "CString",
            Tok::Callback => "callback",
            Tok::Struct(_) => "",
        }
    }
    /// The token as an argument (or callback) type.
    fn arg_expr(&self) -> String {
        match self {
            Tok::Struct(n) => schema_name(n),
            t => format!("C.{}", t.name()),
        }
    }
    /// The token as a result type: structs by value come back as objects.
    fn ret_expr(&self) -> String {
        match self {
            Tok::Struct(n) => format!("{}.value", schema_name(n)),
            t => t.arg_expr(),
        }
    }
    /// The field type of a StructSchema.
    fn field_expr(&self) -> String {
        match self {
            Tok::Struct(n) => schema_name(n),
            Tok::Ptr(_) | Tok::CString | Tok::Callback => "FFIType.ptr".into(),
            t => format!("FFIType.{}", t.name()),
        }
    }
    /// What a call accepts for it.
    fn in_ts(&self) -> String {
        match self {
            Tok::Void => "void".into(),
            Tok::Bool => "boolean".into(),
            Tok::I64 | Tok::U64 | Tok::I64F | Tok::U64F | Tok::Isize | Tok::Usize => {
                "bigint | number".into()
            }
            Tok::Ptr(Some(alias)) => format!("{alias} | null"),
            Tok::Ptr(None) => "Pointer | FFIBuffer | null".into(),
            Tok::CString => "string | null".into(),
            Tok::Callback => "JSCallback | Pointer | null".into(),
            Tok::Struct(_) => "FFIBuffer".into(),
            _ => "number".into(),
        }
    }
    /// What a call returns for it (a callback receives this for its arguments).
    fn out_ts(&self) -> String {
        match self {
            Tok::Void => "void".into(),
            Tok::Bool => "boolean".into(),
            Tok::I64 | Tok::U64 => "bigint".into(),
            Tok::I64F | Tok::U64F | Tok::Isize | Tok::Usize => "number | bigint".into(),
            Tok::Ptr(Some(alias)) => format!("{alias} | null"),
            Tok::Ptr(None) | Tok::Callback => "Pointer | null".into(),
            Tok::CString => "string | null".into(),
            Tok::Struct(n) => n.clone(),
            _ => "number".into(),
        }
    }
    /// The type of a struct field's value (fromPtr / create).
    fn field_ts(&self) -> String {
        match self {
            Tok::Ptr(_) | Tok::CString | Tok::Callback => "Pointer | null".into(),
            t => t.out_ts(),
        }
    }
}

fn schema_name(struct_name: &str) -> String {
    format!("{struct_name}T")
}

#[derive(Clone, Copy, PartialEq)]
enum Ctx {
    Param,
    Return,
    Field,
}

const RESERVED: &[&str] = &[
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "function",
    "if",
    "import",
    "in",
    "instanceof",
    "new",
    "null",
    "return",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "typeof",
    "var",
    "void",
    "while",
    "with",
    "as",
    "implements",
    "interface",
    "let",
    "package",
    "private",
    "protected",
    "public",
    "static",
    "yield",
    "any",
    "boolean",
    "number",
    "string",
    "symbol",
    "type",
    "from",
    "of",
    "async",
    "await",
    "constructor",
    "declare",
    "get",
    "set",
    "module",
    "namespace",
    "require",
    "never",
    "unknown",
    "object",
    "undefined",
    "readonly",
    "abstract",
    "keyof",
    "infer",
    "is",
    "bigint",
];

/// A parameter name: the header's, without a reserved `__` prefix (glibc's `__s`), or `a<i>`.
fn param_name(name: &str, i: usize, taken: &[(String, Tok)]) -> String {
    let n = name.trim_start_matches('_');
    let n = if n.is_empty() || n.starts_with(|c: char| c.is_ascii_digit()) {
        name
    } else {
        n
    };
    let n = if n.is_empty() {
        format!("a{}", i + 1)
    } else {
        ident(n)
    };
    if taken.iter().any(|(t, _)| *t == n) {
        format!("{n}_{}", i + 1)
    } else {
        n
    }
}

fn ident(name: &str) -> String {
    if RESERVED.contains(&name) {
        format!("{name}_")
    } else {
        name.to_string()
    }
}

/// A struct field of a generated schema.
struct Field {
    name: String,
    tok: Tok,
    array: Option<i64>,
}

enum Item {
    Const {
        name: String,
        ts: &'static str,
        value: String,
    },
    Enum {
        name: String,
        doc: String,
        members: Vec<(String, i128)>,
    },
    Opaque {
        name: String,
    },
    Alias {
        name: String,
        target: String,
        is_struct: bool,
    },
    Struct {
        name: String,
        doc: String,
        fields: Vec<Field>,
        size: i64,
        align: i64,
    },
    Callback {
        name: String,
        doc: String,
        ret: Tok,
        params: Vec<(String, Tok)>,
        proto: String,
    },
    Function {
        name: String,
        doc: String,
        ret: Tok,
        params: Vec<(String, Tok)>,
        proto: String,
    },
    Skipped {
        group: Group,
        name: String,
        reason: String,
    },
}

#[derive(Clone, Copy, PartialEq)]
enum Group {
    Const,
    Type,
    Callback,
    Function,
}

struct Gen<'a> {
    opts: &'a Options,
    /// Record / enum USR -> the name of the first typedef naming it.
    typedef_names: HashMap<String, String>,
    /// Struct names with a definition (by USR).
    defined: HashSet<String>,
    items: Vec<Item>,
    /// Structs (by name) whose schema is emitted; opaque types; callback types.
    structs_ok: HashSet<String>,
    opaque: BTreeSet<String>,
    seen: HashSet<String>,
    reserved_skipped: usize,
}

fn is_anonymous_name(s: &str) -> bool {
    s.is_empty() || s.contains("(unnamed") || s.contains("(anonymous")
}

impl<'a> Gen<'a> {
    fn wanted(&self, name: &str) -> bool {
        self.opts.only.as_ref().is_none_or(|r| r.is_match(name))
    }

    /// The C name of a record or enum declaration (its tag, or the typedef naming it).
    fn record_name(&self, decl: Cursor) -> Option<String> {
        let s = decl.spelling();
        if !is_anonymous_name(&s) && !decl.is_anonymous() {
            return Some(s);
        }
        self.typedef_names.get(&decl.usr()).cloned()
    }

    fn map(&self, ty: Type, ctx: Ctx) -> Result<Tok, String> {
        if ty.spelling().contains("va_list") {
            return Err("va_list (no FFIType for it)".into());
        }
        // The sized typedef names first (before they resolve to int / long / long long).
        let mut t = ty;
        loop {
            match t.kind() {
                CXType_Typedef => {
                    let tok = match t.declaration().spelling().as_str() {
                        "int8_t" => Some(Tok::I8),
                        "uint8_t" => Some(Tok::U8),
                        "int16_t" => Some(Tok::I16),
                        "uint16_t" => Some(Tok::U16),
                        "int32_t" => Some(Tok::I32),
                        "uint32_t" => Some(Tok::U32),
                        "int64_t" => Some(Tok::I64),
                        "uint64_t" => Some(Tok::U64),
                        "size_t" => Some(Tok::Usize),
                        "ssize_t" | "ptrdiff_t" | "intptr_t" => Some(Tok::Isize),
                        "uintptr_t" => Some(Tok::Usize),
                        _ => None,
                    };
                    if let Some(tok) = tok {
                        return Ok(tok);
                    }
                    t = t.declaration().typedef_underlying();
                }
                CXType_Elaborated => t = t.named(),
                _ => break,
            }
        }
        let c = t.canonical();
        let by_size = |signed: bool, size: i64| -> Result<Tok, String> {
            Ok(match (signed, size) {
                (true, 1) => Tok::I8,
                (false, 1) => Tok::U8,
                (true, 2) => Tok::I16,
                (false, 2) => Tok::U16,
                (true, 4) => Tok::I32,
                (false, 4) => Tok::U32,
                (true, 8) => Tok::I64,
                (false, 8) => Tok::U64,
                _ => return Err(format!("{size}-byte integer")),
            })
        };
        match c.kind() {
            CXType_Void if ctx == Ctx::Return => Ok(Tok::Void),
            CXType_Void => Err("void".into()),
            CXType_Bool => Ok(Tok::Bool),
            CXType_Char_S | CXType_Char_U => Ok(Tok::Char),
            CXType_SChar => Ok(Tok::I8),
            CXType_UChar => Ok(Tok::U8),
            CXType_Short | CXType_UShort | CXType_Int | CXType_UInt | CXType_WChar => by_size(
                !c.is_unsigned() && c.kind() != CXType_WChar || self.wchar_signed(c),
                c.size(),
            ),
            CXType_Long | CXType_ULong => match c.size() {
                8 if c.kind() == CXType_Long => Ok(Tok::I64F),
                8 => Ok(Tok::U64F),
                n => by_size(c.kind() == CXType_Long, n),
            },
            CXType_LongLong => Ok(Tok::I64),
            CXType_ULongLong => Ok(Tok::U64),
            CXType_Float => Ok(Tok::F32),
            CXType_Double => Ok(Tok::F64),
            CXType_LongDouble => Err("long double (no FFIType for it)".into()),
            CXType_Float128 | CXType_Half | CXType_Float16 => {
                Err(format!("{} (no FFIType for it)", c.spelling()))
            }
            CXType_Int128 | CXType_UInt128 => Err("128-bit integer (no FFIType for it)".into()),
            CXType_Complex => Err("_Complex (no FFIType for it)".into()),
            CXType_Enum => {
                let it = c.declaration().enum_integer_type();
                self.map(it, ctx)
            }
            CXType_Pointer => {
                let p = c.pointee().canonical();
                match p.kind() {
                    CXType_Char_S | CXType_Char_U if p.is_const() && ctx != Ctx::Field => {
                        Ok(Tok::CString)
                    }
                    CXType_FunctionProto | CXType_FunctionNoProto => Ok(Tok::Callback),
                    CXType_Record => {
                        let decl = p.declaration();
                        if decl.definition().is_none() {
                            Ok(Tok::Ptr(self.record_name(decl)))
                        } else {
                            Ok(Tok::Ptr(None))
                        }
                    }
                    _ => Ok(Tok::Ptr(None)),
                }
            }
            CXType_Record => {
                let decl = c.declaration();
                if decl.kind() == CXCursor_UnionDecl {
                    return Err(format!(
                        "{} by value (unions are not supported)",
                        c.spelling()
                    ));
                }
                let name = self
                    .record_name(decl)
                    .ok_or("an anonymous struct by value")?;
                if decl.definition().is_none() {
                    return Err(format!("incomplete struct {name} by value"));
                }
                if !self.structs_ok.contains(&name) {
                    return Err(format!(
                        "struct {name} is not bound (see its comment, or outside the headers)"
                    ));
                }
                Ok(Tok::Struct(name))
            }
            CXType_ConstantArray | CXType_IncompleteArray if ctx == Ctx::Param => {
                Ok(Tok::Ptr(None))
            }
            _ => Err(format!("type {} is not supported", ty.spelling())),
        }
    }

    fn wchar_signed(&self, c: Type) -> bool {
        // wchar_t is signed on x86_64, unsigned on aarch64 Linux: clang knows the target's.
        c.kind() == CXType_WChar
            && !self.opts.target.starts_with("aarch64")
            && !self.opts.target.starts_with("arm")
    }

    fn proto(ret: Type, name: &str, params: &[(String, Type)], variadic: bool) -> String {
        let mut ps: Vec<String> = params
            .iter()
            .map(|(n, t)| {
                let s = t.spelling();
                if n.is_empty() {
                    s
                } else if s.ends_with('*') {
                    format!("{s}{n}")
                } else {
                    format!("{s} {n}")
                }
            })
            .collect();
        if variadic {
            ps.push("...".into());
        }
        if ps.is_empty() {
            ps.push("void".into());
        }
        format!("{} {name}({})", ret.spelling(), ps.join(", "))
    }

    fn function(&mut self, c: Cursor) {
        let name = c.spelling();
        if !self.seen.insert(format!("fn {name}")) {
            return;
        }
        let ty = c.ty();
        let args = c.arguments();
        let params: Vec<(String, Type)> = args.iter().map(|a| (a.spelling(), a.ty())).collect();
        let proto = Self::proto(ty.result(), &name, &params, ty.is_variadic());
        let skip = |g: &mut Self, reason: String| {
            g.items.push(Item::Skipped {
                group: Group::Function,
                name: proto.clone(),
                reason,
            });
        };
        if c.is_static() {
            return skip(
                self,
                "static (inline) function: not exported by the library".into(),
            );
        }
        if ty.is_variadic() {
            return skip(
                self,
                "variadic function: ArkFFI has no variadic calls yet".into(),
            );
        }
        if ty.kind() == CXType_FunctionNoProto {
            return skip(self, "no prototype: the parameters are unknown".into());
        }
        if name == "close" || name == "path" {
            return skip(
                self,
                format!("its name clashes with the module's own {name}"),
            );
        }
        let ret = match self.map(ty.result(), Ctx::Return) {
            Ok(t) => t,
            Err(e) => return skip(self, format!("result: {e}")),
        };
        let mut ps = Vec::new();
        for (i, (n, t)) in params.iter().enumerate() {
            match self.map(*t, Ctx::Param) {
                Ok(tok) => ps.push((param_name(n, i, &ps), tok)),
                Err(e) => {
                    let which = if n.is_empty() {
                        format!("parameter {}", i + 1)
                    } else {
                        format!("parameter {n}")
                    };
                    return skip(self, format!("{which}: {e}"));
                }
            }
        }
        let doc = doc_of(c);
        self.note_aliases(&ret, &ps);
        self.items.push(Item::Function {
            name,
            doc,
            ret,
            params: ps,
            proto,
        });
    }

    fn note_aliases(&mut self, ret: &Tok, ps: &[(String, Tok)]) {
        for t in std::iter::once(ret).chain(ps.iter().map(|(_, t)| t)) {
            if let Tok::Ptr(Some(a)) = t {
                self.opaque.insert(a.clone());
            }
        }
    }

    fn record(&mut self, c: Cursor) {
        // Nested definitions first (C lets a struct define another inside it).
        for ch in c.children() {
            if matches!(ch.kind(), CXCursor_StructDecl)
                && ch.definition().is_some()
                && !ch.spelling().is_empty()
            {
                self.record(ch);
            }
        }
        let Some(name) = self.record_name(c) else {
            return;
        };
        let is_union = c.kind() == CXCursor_UnionDecl;
        if c.definition().is_none() {
            if !is_union
                && !self.defined.contains(&c.usr())
                && self.seen.insert(format!("opaque {name}"))
            {
                self.opaque.insert(name.clone());
                if self.wanted(&name) {
                    self.items.push(Item::Opaque { name });
                }
            }
            return;
        }
        // The definition (this cursor may be a forward declaration of it).
        let Some(c) = c.definition() else { return };
        if !self.seen.insert(format!("record {name}")) {
            return;
        }
        let skip = |g: &mut Self, reason: String| {
            g.items.push(Item::Skipped {
                group: Group::Type,
                name: format!("struct {name}"),
                reason,
            });
        };
        if is_union {
            return self.items.push(Item::Skipped {
                group: Group::Type,
                name: format!("union {name}"),
                reason: "unions are not supported".into(),
            });
        }
        let mut fields = Vec::new();
        let (mut offset, mut align) = (0i64, 1i64);
        for f in c
            .children()
            .into_iter()
            .filter(|f| f.kind() == CXCursor_FieldDecl)
        {
            let fname = f.spelling();
            if fname.is_empty() {
                return skip(self, "an anonymous struct or union member".into());
            }
            if f.is_bitfield() {
                return skip(
                    self,
                    format!("bitfield {fname}: bitfields are not supported"),
                );
            }
            let ft = f.ty();
            let (tok, array) = if ft.canonical().kind() == CXType_ConstantArray {
                // The element as written (int64_t stays i64), unless the array is a typedef.
                let arr = if ft.kind() == CXType_ConstantArray {
                    ft
                } else {
                    ft.canonical()
                };
                let e = arr.element();
                if e.canonical().kind() == CXType_ConstantArray {
                    return skip(self, format!("field {fname}: multi-dimensional array"));
                }
                match self.map(e, Ctx::Field) {
                    Ok(t) => (t, Some(ft.canonical().array_len())),
                    Err(e) => return skip(self, format!("field {fname}: {e}")),
                }
            } else if ft.canonical().kind() == CXType_IncompleteArray {
                return skip(self, format!("field {fname}: flexible array member"));
            } else {
                match self.map(ft, Ctx::Field) {
                    Ok(t) => (t, None),
                    Err(e) => return skip(self, format!("field {fname}: {e}")),
                }
            };
            // ArkFFI lays fields out naturally; a packed or over-aligned struct would differ.
            let fa = ft.align().max(1);
            offset = (offset + fa - 1) / fa * fa;
            if f.field_offset() != Some(offset) {
                return skip(
                    self,
                    format!("field {fname}: packed or explicitly aligned layout"),
                );
            }
            offset += ft.size();
            align = align.max(fa);
            fields.push(Field {
                name: fname,
                tok,
                array,
            });
        }
        if fields.is_empty() {
            return skip(self, "no fields".into());
        }
        let size = c.ty().size();
        if (offset + align - 1) / align * align != size || c.ty().align() != align {
            return skip(self, "packed or explicitly aligned layout".into());
        }
        let doc = doc_of(c);
        self.structs_ok.insert(name.clone());
        self.items.push(Item::Struct {
            name,
            doc,
            fields,
            size,
            align,
        });
    }

    fn typedef(&mut self, c: Cursor) {
        let name = c.spelling();
        let under = c.typedef_underlying();
        let canon = under.canonical();
        let fn_type = match canon.kind() {
            CXType_Pointer if matches!(canon.pointee().kind(), CXType_FunctionProto) => {
                Some(canon.pointee())
            }
            CXType_FunctionProto => Some(canon),
            _ => None,
        };
        if let Some(ft) = fn_type {
            if !self.seen.insert(format!("cb {name}")) {
                return;
            }
            let names: Vec<String> = c
                .children()
                .into_iter()
                .filter(|p| p.kind() == CXCursor_ParmDecl)
                .map(|p| p.spelling())
                .collect();
            let arg_types = ft.args();
            let named: Vec<(String, Type)> = arg_types
                .iter()
                .enumerate()
                .map(|(i, t)| (names.get(i).cloned().unwrap_or_default(), *t))
                .collect();
            let proto = format!(
                "typedef {}",
                Self::proto(ft.result(), &format!("(*{name})"), &named, ft.is_variadic())
            );
            let skip = |g: &mut Self, reason: String| {
                g.items.push(Item::Skipped {
                    group: Group::Callback,
                    name: proto.clone(),
                    reason,
                });
            };
            if ft.is_variadic() {
                return skip(self, "variadic callback".into());
            }
            if arg_types.len() > 8 {
                return skip(
                    self,
                    "more than 8 parameters (JSCallback.of takes 0 to 8)".into(),
                );
            }
            let ret = match self.map(ft.result(), Ctx::Return) {
                Ok(Tok::Struct(_)) => {
                    return skip(self, "struct result by value in a callback".into())
                }
                Ok(t) => t,
                Err(e) => return skip(self, format!("result: {e}")),
            };
            let mut params = Vec::new();
            for (i, (n, t)) in named.iter().enumerate() {
                match self.map(*t, Ctx::Param) {
                    Ok(Tok::Struct(_)) => {
                        return skip(self, "struct argument by value in a callback".into())
                    }
                    Ok(tok) => params.push((param_name(n, i, &params), tok)),
                    Err(e) => return skip(self, format!("parameter {}: {e}", i + 1)),
                }
            }
            let doc = doc_of(c);
            self.note_aliases(&ret, &params);
            self.items.push(Item::Callback {
                name: ident(&name),
                doc,
                ret,
                params,
                proto,
            });
            return;
        }
        // A typedef naming a struct under another name: an alias of the interface and schema.
        let mut t = under;
        while t.kind() == CXType_Elaborated {
            t = t.named();
        }
        if t.kind() == CXType_Record {
            if let Some(target) = self.record_name(t.declaration()) {
                if target != name && self.seen.insert(format!("alias {name}")) {
                    let is_struct = self.structs_ok.contains(&target);
                    if is_struct || self.opaque.contains(&target) {
                        if !is_struct {
                            self.opaque.insert(name.clone());
                        }
                        self.items.push(Item::Alias {
                            name,
                            target,
                            is_struct,
                        });
                    }
                }
            }
        }
    }

    fn enumeration(&mut self, c: Cursor) {
        let name = self.record_name(c);
        let members: Vec<(String, i128)> = c
            .children()
            .into_iter()
            .filter(|m| m.kind() == CXCursor_EnumConstantDecl)
            .map(|m| (m.spelling(), m.enum_value()))
            .collect();
        match name {
            Some(n) if self.seen.insert(format!("enum {n}")) => {
                if self.wanted(&n) {
                    let doc = doc_of(c);
                    self.items.push(Item::Enum {
                        name: ident(&n),
                        doc,
                        members,
                    });
                }
            }
            Some(_) => {}
            None => {
                for (m, v) in members {
                    if self.wanted(&m) && self.seen.insert(format!("const {m}")) {
                        self.push_int_const(m, v);
                    }
                }
            }
        }
    }

    fn push_int_const(&mut self, name: String, v: i128) {
        let (ts, value) = if v.abs() < (1i128 << 53) {
            ("number", v.to_string())
        } else {
            ("bigint", format!("{v}n"))
        };
        self.items.push(Item::Const {
            name: ident(&name),
            ts,
            value,
        });
    }
}

/// The comment documenting a declaration: the one clang attaches when it ends on the line
/// before the declaration, else one starting on the line after it (zlib's style).
fn doc_of(c: Cursor) -> String {
    let (file, start_line, end) = c.extent();
    let raw = c.raw_comment();
    if !raw.is_empty() && c.comment_end_line() + 1 >= start_line {
        return doc_text(&raw);
    }
    let Some(text) = file.and_then(|f| std::fs::read(f).ok()) else {
        return String::new();
    };
    let rest = text.get(end as usize..).unwrap_or_default();
    // The end of the declaration (its `;`: the extent may end inside a macro such as zlib's
    // OF((…))), the rest of that line, then one newline.
    let Some(semi) = rest.iter().take(2000).position(|b| *b == b';') else {
        return String::new();
    };
    let mut rest = &rest[semi + 1..];
    while let Some((&b' ' | &b'\t', r)) = rest.split_first() {
        rest = r;
    }
    let Some(r) = rest.strip_prefix(b"\n") else {
        return String::new();
    };
    let r = r.strip_prefix(b"\r").unwrap_or(r);
    let lead = r.iter().take_while(|b| **b == b' ' || **b == b'\t').count();
    let r = &r[lead..];
    if !r.starts_with(b"/*") {
        return String::new();
    }
    match r.windows(2).position(|w| w == b"*/") {
        Some(e) => doc_text(&String::from_utf8_lossy(&r[..e + 2])),
        None => String::new(),
    }
}

/// A raw C comment as the lines of a doc comment.
fn doc_text(raw: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    for l in raw.lines() {
        let mut s = l.trim();
        for p in ["/**<", "/**", "/*!", "/*", "///<", "///", "//!", "//"] {
            if let Some(r) = s.strip_prefix(p) {
                s = r;
                break;
            }
        }
        if let Some(r) = s.strip_suffix("*/") {
            s = r;
        }
        let s = s.trim_start_matches('*').trim_end();
        let s = s.strip_prefix(' ').unwrap_or(s);
        lines.push(s.replace("*/", "*\\/"));
    }
    while lines.first().is_some_and(|l| l.trim().is_empty()) {
        lines.remove(0);
    }
    while lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    lines.join("\n")
}

fn doc_block(out: &mut String, indent: &str, doc: &str, extra: &[String]) {
    let mut lines: Vec<String> = if doc.is_empty() {
        Vec::new()
    } else {
        doc.lines().map(String::from).collect()
    };
    if !lines.is_empty() && !extra.is_empty() {
        lines.push(String::new());
    }
    lines.extend(extra.iter().cloned());
    if lines.is_empty() {
        return;
    }
    let _ = writeln!(out, "{indent}/**");
    for l in lines {
        if l.is_empty() {
            let _ = writeln!(out, "{indent} *");
        } else {
            let _ = writeln!(out, "{indent} * {l}");
        }
    }
    let _ = writeln!(out, "{indent} */");
}

fn skipped_comment(out: &mut String, indent: &str, name: &str, reason: &str) {
    let _ = writeln!(
        out,
        "{indent}// Not bound: {}: {reason}",
        name.replace('\n', " ")
    );
}

/// The clang arguments for the options: target, sysroot (or the host's headers), -I, -D.
fn clang_args(opts: &Options) -> (Vec<String>, String) {
    let mut args = vec![
        "-x".to_string(),
        "c".into(),
        "-std=gnu11".into(),
        format!("--target={}", opts.target),
        "-w".into(),
        "-ferror-limit=0".into(),
        "-fparse-all-comments".into(),
    ];
    let sysroot = opts.sysroot.clone().or_else(|| {
        std::env::var("OHOS_NDK_HOME")
            .ok()
            .map(|n| format!("{n}/native/sysroot"))
            .filter(|s| std::path::Path::new(s).join("usr/include").is_dir())
    });
    let headers_from = match &sysroot {
        Some(s) => {
            args.push(format!("--sysroot={s}"));
            format!("sysroot {s}")
        }
        None => {
            // No sysroot for the target here: clang searches /usr/include (and a cross
            // sysroot such as /usr/aarch64-linux-gnu/include if installed); this machine's
            // multiarch directory comes last, for the bits/ headers glibc's need.
            let multiarch = format!("/usr/include/{}-linux-gnu", std::env::consts::ARCH);
            if std::path::Path::new(&multiarch).is_dir() {
                args.push("-idirafter".into());
                args.push(multiarch);
            }
            "this machine's system headers".to_string()
        }
    };
    for i in &opts.includes {
        args.push(format!("-I{i}"));
    }
    for d in &opts.defines {
        args.push(format!("-D{d}"));
    }
    (args, headers_from)
}

fn macro_candidates(tu: &Tu, top: &[Cursor], in_scope: &dyn Fn(Cursor) -> bool) -> Vec<String> {
    let mut all_macros: HashSet<String> = HashSet::new();
    let mut defs = Vec::new();
    for c in top {
        if c.kind() == CXCursor_MacroDefinition && !c.is_macro_function_like() {
            all_macros.insert(c.spelling());
            if in_scope(*c) {
                defs.push(*c);
            }
        }
    }
    let mut out = Vec::new();
    for c in defs {
        let name = c.spelling();
        if name.starts_with('_') {
            continue;
        }
        let toks = tu.tokens(c);
        if toks.len() < 2 {
            continue;
        }
        let ok = toks[1..].iter().all(|(k, s)| match *k {
            CXToken_Literal => true,
            CXToken_Punctuation => {
                matches!(
                    s.as_str(),
                    "(" | ")"
                        | "+"
                        | "-"
                        | "~"
                        | "!"
                        | "|"
                        | "&"
                        | "^"
                        | "<<"
                        | ">>"
                        | "*"
                        | "/"
                        | "%"
                )
            }
            CXToken_Identifier => all_macros.contains(s),
            _ => false,
        });
        if ok {
            out.push(name);
        }
    }
    out
}

pub fn run(opts: &Options) -> Result<String, String> {
    clang::load(opts.libclang.as_deref())?;
    let (args, headers_from) = clang_args(opts);
    let mut main = String::new();
    for h in &opts.headers {
        if std::path::Path::new(h).is_file() {
            let abs = std::fs::canonicalize(h).map_err(|e| format!("{h}: {e}"))?;
            let _ = writeln!(main, "#include \"{}\"", abs.display());
        } else {
            let _ = writeln!(main, "#include <{h}>");
        }
    }
    let main_name = "arkffi-bindgen-input.c";
    let index = Index::new();
    let tu = Tu::parse(&index, main_name, &main, &args)?;
    let mut errors = Vec::new();
    for d in tu.diagnostics() {
        if d.severity >= 3 {
            errors.push(d.text);
        }
    }
    if !errors.is_empty() {
        return Err(format!(
            "the headers do not compile for {} (headers from {headers_from}; -I, -D or --sysroot may be missing):\n{}",
            opts.target,
            errors.join("\n")
        ));
    }
    let top = tu.cursor().children();
    // The headers: what the input file includes; in scope: those and what they include directly.
    let mut headers: HashSet<PathBuf> = HashSet::new();
    for c in &top {
        if c.kind() == CXCursor_InclusionDirective
            && c.location().0.is_none_or(|f| f.ends_with(main_name))
        {
            if let Some(f) = c.included_file() {
                headers.insert(f);
            }
        }
    }
    let resource = |p: &PathBuf| p.to_string_lossy().contains("/lib/clang/");
    let mut scope: HashSet<PathBuf> = headers.clone();
    for c in &top {
        if c.kind() == CXCursor_InclusionDirective
            && c.location().0.is_some_and(|f| headers.contains(&f))
        {
            if let Some(f) = c.included_file().filter(|f| !resource(f)) {
                scope.insert(f);
            }
        }
    }
    let in_scope = |c: Cursor| c.location().0.is_some_and(|f| scope.contains(&f));

    let mut g = Gen {
        opts,
        typedef_names: HashMap::new(),
        defined: HashSet::new(),
        items: Vec::new(),
        structs_ok: HashSet::new(),
        opaque: BTreeSet::new(),
        seen: HashSet::new(),
        reserved_skipped: 0,
    };
    for c in &top {
        match c.kind() {
            CXCursor_TypedefDecl => {
                let mut t = c.typedef_underlying();
                while t.kind() == CXType_Elaborated {
                    t = t.named();
                }
                if matches!(t.kind(), CXType_Record | CXType_Enum) {
                    g.typedef_names
                        .entry(t.declaration().usr())
                        .or_insert_with(|| c.spelling());
                }
            }
            CXCursor_StructDecl if c.definition().is_some() => {
                if let Some(d) = c.definition() {
                    g.defined.insert(d.usr());
                }
            }
            _ => {}
        }
    }
    // Pass 1: structs (all of them in scope, so that --only's functions find theirs).
    for c in top.iter().copied().filter(|c| in_scope(*c)) {
        if matches!(c.kind(), CXCursor_StructDecl | CXCursor_UnionDecl) {
            g.record(c);
        } else if c.kind() == CXCursor_TypedefDecl {
            // `typedef struct {…} Name;`: the struct may be visited only through its typedef.
            let mut t = c.typedef_underlying();
            while t.kind() == CXType_Elaborated {
                t = t.named();
            }
            if t.kind() == CXType_Record {
                let d = t.declaration();
                if in_scope(d) {
                    g.record(d);
                }
            }
        }
    }
    // Pass 2: everything else, in the header's order.
    for c in top.iter().copied().filter(|c| in_scope(*c)) {
        let name = c.spelling();
        match c.kind() {
            CXCursor_FunctionDecl if name.starts_with("__") => g.reserved_skipped += 1,
            CXCursor_FunctionDecl if g.wanted(&name) => g.function(c),
            CXCursor_TypedefDecl
                if !name.starts_with("__")
                    && (g.wanted(&name)
                        || c.typedef_underlying().canonical().kind() == CXType_Record) =>
            {
                g.typedef(c)
            }
            CXCursor_EnumDecl => g.enumeration(c),
            _ => {}
        }
    }
    // #defines: evaluated by clang in a second parse that assigns each candidate to a variable.
    let candidates: Vec<String> = macro_candidates(&tu, &top, &in_scope)
        .into_iter()
        .filter(|m| g.wanted(m))
        .collect();
    let mut consts = Vec::new();
    if !candidates.is_empty() {
        let mut src = main.clone();
        for m in &candidates {
            let _ = writeln!(src, "static __auto_type arkffi_macro_{m} = {m};");
        }
        let tu2 = Tu::parse(&index, main_name, &src, &args)?;
        let mut values: HashMap<String, Eval> = HashMap::new();
        for c in tu2.cursor().children() {
            if c.kind() == CXCursor_VarDecl {
                if let Some(m) = c.spelling().strip_prefix("arkffi_macro_") {
                    if let Some(v) = c.evaluate() {
                        values.insert(m.to_string(), v);
                    }
                }
            }
        }
        for m in &candidates {
            if !g.seen.insert(format!("const {m}")) {
                continue;
            }
            match values.remove(m) {
                Some(Eval::Int(v)) => consts.push((m.clone(), Eval::Int(v))),
                Some(Eval::Float(f)) if f.is_finite() => consts.push((m.clone(), Eval::Float(f))),
                Some(Eval::Str(s)) => consts.push((m.clone(), Eval::Str(s))),
                _ => {}
            }
        }
    }
    let mut macro_items = Vec::new();
    for (m, v) in consts {
        match v {
            Eval::Int(i) => {
                let (ts, value) = if i.abs() < (1i128 << 53) {
                    ("number", i.to_string())
                } else {
                    ("bigint", format!("{i}n"))
                };
                macro_items.push(Item::Const {
                    name: ident(&m),
                    ts,
                    value,
                });
            }
            Eval::Float(f) => macro_items.push(Item::Const {
                name: ident(&m),
                ts: "number",
                value: format!("{f:?}"),
            }),
            Eval::Str(s) => macro_items.push(Item::Const {
                name: ident(&m),
                ts: "string",
                value: js_string(&s),
            }),
        }
    }
    macro_items.append(&mut g.items);
    g.items = macro_items;
    let text = emit(&mut g, opts);
    std::fs::write(&opts.output, text).map_err(|e| format!("{}: {e}", opts.output.display()))?;
    Ok(summary(&g))
}

fn js_string(s: &str) -> String {
    let mut out = String::from("'");
    for ch in s.chars() {
        match ch {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

fn summary(g: &Gen) -> String {
    let count = |f: &dyn Fn(&Item) -> bool| g.items.iter().filter(|i| f(i)).count();
    format!(
        "bound {} functions, {} structs, {} enums, {} constants, {} callback types, {} opaque types; \
         skipped {} declarations (listed in comments), {} reserved __ names left out",
        count(&|i| matches!(i, Item::Function { .. })),
        count(&|i| matches!(i, Item::Struct { .. })),
        count(&|i| matches!(i, Item::Enum { .. })),
        count(&|i| matches!(i, Item::Const { .. })),
        count(&|i| matches!(i, Item::Callback { .. })),
        count(&|i| matches!(i, Item::Opaque { .. })),
        count(&|i| matches!(i, Item::Skipped { .. })),
        g.reserved_skipped,
    )
}

fn class_name(library: &str) -> String {
    let base = library.rsplit('/').next().unwrap_or(library);
    let base = base.split(".so").next().unwrap_or(base);
    let base = base.strip_prefix("lib").unwrap_or(base);
    let mut out = String::new();
    let mut up = true;
    for ch in base.chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(if up { ch.to_ascii_uppercase() } else { ch });
            up = false;
        } else {
            up = true;
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'C');
    }
    out + "Library"
}

fn emit(g: &mut Gen, opts: &Options) -> String {
    let library = opts.library.clone().unwrap_or_else(|| {
        let h = &opts.headers[0];
        let stem = h.rsplit('/').next().unwrap_or(h).trim_end_matches(".h");
        format!("lib{stem}.so")
    });
    let class = class_name(&library);
    if opts.only.is_some() {
        keep_only_needed(g);
    }
    // Opaque types referenced by functions but declared outside the headers.
    let declared: HashSet<String> = g
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Opaque { name } | Item::Alias { name, .. } => Some(name.clone()),
            _ => None,
        })
        .collect();
    for o in g.opaque.clone() {
        if !declared.contains(&o) && g.items.iter().any(|i| uses_alias(i, &o)) {
            g.items.insert(0, Item::Opaque { name: o });
        }
    }
    let mut body = String::new();
    let section = |body: &mut String, title: &str, items: Vec<&Item>| {
        if items.is_empty() {
            return;
        }
        let _ = writeln!(body, "\n// {title}\n");
        for i in items {
            body.push_str(&render(i));
        }
    };
    section(
        &mut body,
        "Constants (#define and anonymous enums)",
        g.items
            .iter()
            .filter(|i| matches!(i, Item::Const { .. }) || is_skipped(i, Group::Const))
            .collect(),
    );
    section(
        &mut body,
        "Enums",
        g.items
            .iter()
            .filter(|i| matches!(i, Item::Enum { .. }))
            .collect(),
    );
    section(
        &mut body,
        "Types: opaque pointers, structs (an interface and its StructSchema, <Name>T)",
        g.items
            .iter()
            .filter(|i| {
                matches!(
                    i,
                    Item::Opaque { .. } | Item::Struct { .. } | Item::Alias { .. }
                ) || is_skipped(i, Group::Type)
            })
            .collect(),
    );
    section(
        &mut body,
        "Callback types: <Name>.of(fn) makes the JSCallback to pass (close() it when C no longer calls it)",
        g.items.iter().filter(|i| matches!(i, Item::Callback { .. }) || is_skipped(i, Group::Callback)).collect(),
    );
    // The library class.
    let fns: Vec<&Item> = g
        .items
        .iter()
        .filter(|i| matches!(i, Item::Function { .. }) || is_skipped(i, Group::Function))
        .collect();
    let mut cls = String::new();
    let _ = writeln!(cls, "\n/** The default library of open(). */");
    let _ = writeln!(
        cls,
        "export const DEFAULT_LIBRARY: string = {};",
        js_string(&library)
    );
    let _ = writeln!(
        cls,
        "\n/** Whether the library exports `name` (a header may declare more than a build exports). */\n\
         function exported(lib: Library, name: string): boolean {{\n  try {{\n    lib.symbolPtr(name);\n    return true;\n  }} catch (e) {{\n    return false;\n  }}\n}}\n\n\
         /** Stands for a function the library does not export: calling it throws. */\n\
         function unbound(name: string): () => never {{\n  return (): never => {{\n    throw new Error(`${{name}}: not exported by this library`);\n  }};\n}}"
    );
    let _ = writeln!(
        cls,
        "\n/** The functions of {library}: the object open() returns. */\nexport class {class} {{"
    );
    let _ = writeln!(cls, "  /** The path the library was opened from. */\n  readonly path: string;\n  private readonly lib: Library;");
    let mut ctor = String::new();
    for i in &fns {
        match i {
            Item::Function {
                name,
                doc,
                ret,
                params,
                proto,
            } => {
                let _ = writeln!(cls);
                doc_block(&mut cls, "  ", doc, &[format!("C: `{proto}`")]);
                let sig = fn_type(ret, params);
                let _ = writeln!(cls, "  readonly {name}: {sig};");
                let mut toks = vec![ret.ret_expr()];
                let call = if params.len() <= 8 {
                    toks.extend(params.iter().map(|(_, t)| t.arg_expr()));
                    format!("lib.func('{name}', {})", toks.join(", "))
                } else {
                    let args: Vec<String> = params.iter().map(|(_, t)| t.arg_expr()).collect();
                    format!(
                        "lib.funcN('{name}', {}, [{}])",
                        ret.ret_expr(),
                        args.join(", ")
                    )
                };
                let _ = writeln!(
                    ctor,
                    "    this.{name} = exported(lib, '{name}') ? {call} : unbound('{name}');"
                );
            }
            Item::Skipped { name, reason, .. } => {
                let _ = writeln!(cls);
                skipped_comment(&mut cls, "  ", name, reason);
            }
            _ => {}
        }
    }
    let _ = writeln!(cls, "\n  constructor(path: string) {{\n    const lib = dlopen(path);\n    this.path = path;\n    this.lib = lib;");
    cls.push_str(&ctor);
    let _ = writeln!(cls, "  }}\n\n  /** Closes the library (dlclose): its functions throw afterwards. */\n  close(): void {{\n    this.lib.close();\n  }}\n}}");
    let _ = writeln!(
        cls,
        "\n/** Opens the library (`path`, or {library}) and binds its functions. */\n\
         export function open(path?: string): {class} {{\n  return new {class}(path ?? DEFAULT_LIBRARY);\n}}"
    );
    body.push_str(&cls);
    // Imports: what the text uses.
    let mut imports = vec!["C", "dlopen", "Library"];
    for (name, pat) in [
        ("FFIBuffer", "FFIBuffer"),
        ("FFIType", "FFIType."),
        ("FFIValue", "FFIValue"),
        ("JSCallback", "JSCallback"),
        ("Pointer", "Pointer"),
        ("StructSchema", "StructSchema"),
    ] {
        if body.contains(pat) {
            imports.push(name);
        }
    }
    imports.sort();
    let headers: Vec<&str> = opts
        .headers
        .iter()
        .map(|h| h.rsplit('/').next().unwrap_or(h))
        .collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "// Generated by arkffi-bindgen {} from {} for {}: do not edit, regenerate.\n// {}",
        env!("CARGO_PKG_VERSION"),
        headers.join(", "),
        opts.target,
        opts.command
    );
    let _ = writeln!(out, "import {{ {} }} from 'arkffi';", imports.join(", "));
    out.push_str(&body);
    while out.contains("\n\n\n") {
        out = out.replace("\n\n\n", "\n\n");
    }
    out
}

/// With --only: the types that no kept declaration needs go (structs are read before the
/// functions, all of them, so that the functions find theirs).
fn keep_only_needed(g: &mut Gen) {
    let mut needed: HashSet<String> = HashSet::new();
    let add = |t: &Tok, needed: &mut HashSet<String>| match t {
        Tok::Struct(n) | Tok::Ptr(Some(n)) => {
            needed.insert(n.clone());
        }
        _ => {}
    };
    for i in &g.items {
        if let Item::Function { ret, params, .. } | Item::Callback { ret, params, .. } = i {
            add(ret, &mut needed);
            params.iter().for_each(|(_, t)| add(t, &mut needed));
        }
    }
    let wanted = |n: &str| g.opts.only.as_ref().is_some_and(|r| r.is_match(n));
    // Structs' fields, to a fixed point; aliases pull in their targets.
    loop {
        let before = needed.len();
        for i in &g.items {
            match i {
                Item::Struct { name, fields, .. } if needed.contains(name) || wanted(name) => {
                    needed.insert(name.clone());
                    fields.iter().for_each(|f| add(&f.tok, &mut needed));
                }
                Item::Alias { name, target, .. } if needed.contains(name) || wanted(name) => {
                    needed.insert(name.clone());
                    needed.insert(target.clone());
                }
                _ => {}
            }
        }
        if needed.len() == before {
            break;
        }
    }
    g.items.retain(|i| match i {
        Item::Struct { name, .. } | Item::Opaque { name } | Item::Alias { name, .. } => {
            needed.contains(name)
        }
        Item::Skipped {
            group: Group::Type,
            name,
            ..
        } => wanted(
            name.trim_start_matches("struct ")
                .trim_start_matches("union "),
        ),
        _ => true,
    });
}

fn is_skipped(i: &Item, g: Group) -> bool {
    matches!(i, Item::Skipped { group, .. } if *group == g)
}

fn uses_alias(i: &Item, alias: &str) -> bool {
    let hit = |t: &Tok| matches!(t, Tok::Ptr(Some(a)) if a == alias);
    match i {
        Item::Function { ret, params, .. } | Item::Callback { ret, params, .. } => {
            hit(ret) || params.iter().any(|(_, t)| hit(t))
        }
        _ => false,
    }
}

fn fn_type(ret: &Tok, params: &[(String, Tok)]) -> String {
    if params.len() > 8 {
        return format!("(...args: FFIValue[]) => {}", ret.out_ts());
    }
    let ps: Vec<String> = params
        .iter()
        .map(|(n, t)| format!("{n}: {}", t.in_ts()))
        .collect();
    format!("({}) => {}", ps.join(", "), ret.out_ts())
}

fn render(i: &Item) -> String {
    let mut s = String::new();
    match i {
        Item::Const { name, ts, value } => {
            let _ = writeln!(s, "export const {name}: {ts} = {value};");
        }
        Item::Enum { name, doc, members } => {
            doc_block(&mut s, "", doc, &[]);
            let _ = writeln!(s, "export enum {name} {{");
            let ms: Vec<String> = members
                .iter()
                .map(|(m, v)| format!("  {} = {v}", ident(m)))
                .collect();
            let _ = writeln!(s, "{}\n}}\n", ms.join(",\n"));
        }
        Item::Opaque { name } => {
            let _ = writeln!(
                s,
                "/** `struct {name}`, opaque: only its address is used. */"
            );
            let _ = writeln!(s, "export type {} = Pointer;\n", ident(name));
        }
        Item::Alias {
            name,
            target,
            is_struct,
        } => {
            let _ = writeln!(s, "/** `typedef struct {target} {name}`. */");
            let _ = writeln!(s, "export type {} = {};", ident(name), ident(target));
            if *is_struct {
                let _ = writeln!(
                    s,
                    "export const {}: StructSchema<{}> = {};",
                    schema_name(name),
                    ident(name),
                    schema_name(target)
                );
            }
            s.push('\n');
        }
        Item::Struct {
            name,
            doc,
            fields,
            size,
            align,
        } => {
            doc_block(
                &mut s,
                "",
                doc,
                &[format!(
                    "C: `struct {name}` (sizeof {size}, alignment {align} on this target)"
                )],
            );
            let _ = writeln!(s, "export interface {name} {{");
            for f in fields {
                let ts = f.tok.field_ts();
                let ts = match f.array {
                    Some(_) if ts.contains('|') => format!("({ts})[]"),
                    Some(_) => format!("{ts}[]"),
                    None => ts,
                };
                let _ = writeln!(s, "  {}: {ts};", f.name);
            }
            let _ = writeln!(s, "}}");
            let _ = writeln!(
                s,
                "export const {}: StructSchema<{name}> = new StructSchema<{name}>({{",
                schema_name(name)
            );
            let fs: Vec<String> = fields
                .iter()
                .map(|f| match f.array {
                    Some(n) => format!(
                        "  '{}': StructSchema.array({}, {n})",
                        f.name,
                        f.tok.field_expr()
                    ),
                    None => format!("  '{}': {}", f.name, f.tok.field_expr()),
                })
                .collect();
            let _ = writeln!(s, "{}\n}});\n", fs.join(",\n"));
        }
        Item::Callback {
            name,
            doc,
            ret,
            params,
            proto,
        } => {
            doc_block(&mut s, "", doc, &[format!("C: `{proto}`")]);
            let fn_params: Vec<String> = params
                .iter()
                .map(|(n, t)| format!("{n}: {}", t.out_ts()))
                .collect();
            let fn_ty = format!("({}) => {}", fn_params.join(", "), ret.in_ts());
            let mut toks = vec![ret.ret_expr()];
            toks.extend(params.iter().map(|(_, t)| t.arg_expr()));
            toks.push("fn".into());
            let _ = writeln!(s, "export class {name} {{");
            let _ = writeln!(
                s,
                "  /** A JSCallback calling `fn` (on the thread that made it). */"
            );
            let _ = writeln!(
                s,
                "  static of(fn: {fn_ty}): JSCallback {{\n    return JSCallback.of({});\n  }}",
                toks.join(", ")
            );
            let _ = writeln!(s, "\n  /** A JSCallback that C may call from any thread (queued to the thread that made it). */");
            let _ = writeln!(
                s,
                "  static ofThreadsafe(fn: {fn_ty}): JSCallback {{\n    return JSCallback.ofThreadsafe({});\n  }}\n}}\n",
                toks.join(", ")
            );
        }
        Item::Skipped { name, reason, .. } => skipped_comment(&mut s, "", name, reason),
        Item::Function { .. } => {}
    }
    s
}
