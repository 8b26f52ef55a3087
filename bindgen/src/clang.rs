//! A small safe layer over the libclang C API (clang-sys, loaded at run time): cursors,
//! types, tokens, evaluation. Every call goes through a value that libclang handed out and
//! that stays valid while its translation unit lives (the `Tu` outlives all cursors here:
//! the generator keeps it until the output is written).

use clang_sys::*;
use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_uint, c_void};
use std::path::{Path, PathBuf};

/// Loads libclang: `explicit` (--libclang), else the NDK's, else the host's (clang-sys search).
pub fn load(explicit: Option<&Path>) -> Result<PathBuf, String> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(p) = explicit {
        if !p.exists() {
            return Err(format!("--libclang {}: no such file", p.display()));
        }
        candidates.push(p.to_path_buf());
    } else {
        if let Ok(ndk) = std::env::var("OHOS_NDK_HOME") {
            let p = Path::new(&ndk).join("native/llvm/lib/libclang.so");
            if p.exists() {
                candidates.push(p);
            }
        }
        for v in (14..=30).rev() {
            for name in ["libclang.so.1", "libclang.so"] {
                let p = PathBuf::from(format!("/usr/lib/llvm-{v}/lib/{name}"));
                if p.exists() {
                    candidates.push(p);
                }
            }
        }
    }
    if let Some(p) = candidates.first() {
        // clang-sys looks only at LIBCLANG_PATH when it is set (a file or a directory).
        std::env::set_var("LIBCLANG_PATH", p);
    }
    clang_sys::load().map_err(|e| {
        format!("{e}. Install libclang (Debian: apt-get install libclang-14-dev) or pass --libclang PATH")
    })?;
    Ok(clang_sys::get_library()
        .map(|l| l.path().to_path_buf())
        .unwrap_or_default())
}

/// Takes ownership of a CXString.
fn string(s: CXString) -> String {
    // SAFETY: `s` was just returned by libclang; clang_getCString gives a NUL-terminated string
    // (or NULL) valid until clang_disposeString, which is called once, after the copy.
    unsafe {
        let p = clang_getCString(s);
        let out = if p.is_null() {
            String::new()
        } else {
            CStr::from_ptr(p).to_string_lossy().into_owned()
        };
        clang_disposeString(s);
        out
    }
}

pub struct Index(CXIndex);

impl Index {
    pub fn new() -> Index {
        // SAFETY: no arguments that could be invalid; disposed in Drop.
        Index(unsafe { clang_createIndex(0, 0) })
    }
}

impl Drop for Index {
    fn drop(&mut self) {
        // SAFETY: created by clang_createIndex; every Tu made from it is dropped first (Tu borrows it).
        unsafe { clang_disposeIndex(self.0) }
    }
}

pub struct Tu<'i> {
    tu: CXTranslationUnit,
    _index: &'i Index,
}

/// A diagnostic: severity (2 warning, 3 error, 4 fatal) and the formatted text.
pub struct Diag {
    pub severity: u32,
    pub text: String,
}

impl<'i> Tu<'i> {
    /// Parses `file` (whose contents are `contents`, an unsaved file) with `args`.
    pub fn parse(
        index: &'i Index,
        file: &str,
        contents: &str,
        args: &[String],
    ) -> Result<Tu<'i>, String> {
        let c_args: Vec<CString> = args
            .iter()
            .map(|a| CString::new(a.as_str()).unwrap_or_default())
            .collect();
        let argv: Vec<*const c_char> = c_args.iter().map(|a| a.as_ptr()).collect();
        let c_file = CString::new(file).map_err(|_| "bad file name")?;
        let c_contents = CString::new(contents).map_err(|_| "NUL in source")?;
        let mut unsaved = CXUnsavedFile {
            Filename: c_file.as_ptr(),
            Contents: c_contents.as_ptr(),
            Length: contents.len() as _,
        };
        let mut tu: CXTranslationUnit = std::ptr::null_mut();
        let options =
            CXTranslationUnit_DetailedPreprocessingRecord | CXTranslationUnit_SkipFunctionBodies;
        // SAFETY: every pointer refers to a live CString / the unsaved-file struct above, all
        // outliving the call; `tu` receives the result.
        let rc = unsafe {
            clang_parseTranslationUnit2(
                index.0,
                c_file.as_ptr(),
                argv.as_ptr(),
                argv.len() as i32,
                &mut unsaved,
                1,
                options,
                &mut tu,
            )
        };
        if rc != CXError_Success || tu.is_null() {
            return Err(format!("libclang could not parse {file} (error {rc})"));
        }
        Ok(Tu { tu, _index: index })
    }

    pub fn diagnostics(&self) -> Vec<Diag> {
        let mut out = Vec::new();
        // SAFETY: `self.tu` is a live translation unit; each diagnostic is disposed after use.
        unsafe {
            for i in 0..clang_getNumDiagnostics(self.tu) {
                let d = clang_getDiagnostic(self.tu, i);
                let severity = clang_getDiagnosticSeverity(d) as u32;
                let text = string(clang_formatDiagnostic(
                    d,
                    clang_defaultDiagnosticDisplayOptions(),
                ));
                clang_disposeDiagnostic(d);
                out.push(Diag { severity, text });
            }
        }
        out
    }

    pub fn cursor(&self) -> Cursor {
        // SAFETY: `self.tu` is a live translation unit.
        Cursor(unsafe { clang_getTranslationUnitCursor(self.tu) })
    }

    /// The spellings of the tokens of `cursor`'s extent, with their kinds.
    pub fn tokens(&self, cursor: Cursor) -> Vec<(CXTokenKind, String)> {
        let mut out = Vec::new();
        // SAFETY: the extent is the cursor's, of this TU; the tokens array is read within its
        // length and disposed once.
        unsafe {
            let range = clang_getCursorExtent(cursor.0);
            let mut tokens: *mut CXToken = std::ptr::null_mut();
            let mut n: c_uint = 0;
            clang_tokenize(self.tu, range, &mut tokens, &mut n);
            if tokens.is_null() {
                return out;
            }
            for i in 0..n as usize {
                let t = *tokens.add(i);
                out.push((
                    clang_getTokenKind(t),
                    string(clang_getTokenSpelling(self.tu, t)),
                ));
            }
            clang_disposeTokens(self.tu, tokens, n);
        }
        out
    }
}

impl Drop for Tu<'_> {
    fn drop(&mut self) {
        // SAFETY: made by clang_parseTranslationUnit2, disposed once.
        unsafe { clang_disposeTranslationUnit(self.tu) }
    }
}

/// The value of a constant expression.
pub enum Eval {
    Int(i128),
    Float(f64),
    Str(String),
}

#[derive(Clone, Copy)]
pub struct Cursor(CXCursor);

extern "C" fn collect(c: CXCursor, _parent: CXCursor, data: CXClientData) -> CXChildVisitResult {
    // SAFETY: `data` is the &mut Vec<Cursor> passed by `children`, alive for the whole visit.
    let v = unsafe { &mut *(data as *mut Vec<Cursor>) };
    v.push(Cursor(c));
    CXChildVisit_Continue
}

impl Cursor {
    pub fn kind(self) -> CXCursorKind {
        // SAFETY: a cursor handed out by libclang (a plain value).
        unsafe { clang_getCursorKind(self.0) }
    }
    pub fn spelling(self) -> String {
        // SAFETY: as in kind().
        string(unsafe { clang_getCursorSpelling(self.0) })
    }
    pub fn usr(self) -> String {
        // SAFETY: as in kind().
        string(unsafe { clang_getCursorUSR(self.0) })
    }
    pub fn ty(self) -> Type {
        // SAFETY: as in kind().
        Type(unsafe { clang_getCursorType(self.0) })
    }
    pub fn children(self) -> Vec<Cursor> {
        let mut v: Vec<Cursor> = Vec::new();
        // SAFETY: `collect` only pushes into `v`, which outlives the call.
        unsafe { clang_visitChildren(self.0, collect, &mut v as *mut Vec<Cursor> as *mut c_void) };
        v
    }
    pub fn is_null(self) -> bool {
        // SAFETY: as in kind().
        unsafe { clang_Cursor_isNull(self.0) != 0 }
    }
    pub fn definition(self) -> Option<Cursor> {
        // SAFETY: as in kind().
        let d = Cursor(unsafe { clang_getCursorDefinition(self.0) });
        if d.is_null() {
            None
        } else {
            Some(d)
        }
    }
    pub fn is_anonymous(self) -> bool {
        // SAFETY: as in kind().
        unsafe { clang_Cursor_isAnonymous(self.0) != 0 }
    }
    pub fn is_static(self) -> bool {
        // SAFETY: as in kind().
        unsafe { clang_Cursor_getStorageClass(self.0) == CX_SC_Static }
    }
    pub fn is_bitfield(self) -> bool {
        // SAFETY: as in kind().
        unsafe { clang_Cursor_isBitField(self.0) != 0 }
    }
    pub fn is_macro_function_like(self) -> bool {
        // SAFETY: as in kind().
        unsafe { clang_Cursor_isMacroFunctionLike(self.0) != 0 }
    }
    pub fn raw_comment(self) -> String {
        // SAFETY: as in kind().
        string(unsafe { clang_Cursor_getRawCommentText(self.0) })
    }
    pub fn arguments(self) -> Vec<Cursor> {
        // SAFETY: as in kind(); indices below the count the cursor reports.
        unsafe {
            let n = clang_Cursor_getNumArguments(self.0);
            (0..n.max(0) as u32)
                .map(|i| Cursor(clang_Cursor_getArgument(self.0, i)))
                .collect()
        }
    }
    pub fn enum_value(self) -> i128 {
        // SAFETY: as in kind() (an EnumConstantDecl: both calls are defined for it).
        unsafe {
            let signed = clang_getEnumConstantDeclValue(self.0);
            let unsigned = clang_getEnumConstantDeclUnsignedValue(self.0);
            if signed < 0
                && Type(clang_getEnumDeclIntegerType(clang_getCursorSemanticParent(
                    self.0,
                )))
                .is_unsigned()
            {
                unsigned as i128
            } else {
                signed as i128
            }
        }
    }
    pub fn enum_integer_type(self) -> Type {
        // SAFETY: as in kind() (an EnumDecl).
        Type(unsafe { clang_getEnumDeclIntegerType(self.0) })
    }
    pub fn typedef_underlying(self) -> Type {
        // SAFETY: as in kind() (a TypedefDecl).
        Type(unsafe { clang_getTypedefDeclUnderlyingType(self.0) })
    }
    /// Byte offset of a field in its record (clang's layout for the target), or None.
    pub fn field_offset(self) -> Option<i64> {
        // SAFETY: as in kind() (a FieldDecl).
        let bits = unsafe { clang_Cursor_getOffsetOfField(self.0) };
        if bits < 0 {
            None
        } else {
            Some(bits / 8)
        }
    }
    /// The line where the comment attached to the cursor ends (0: none).
    pub fn comment_end_line(self) -> u32 {
        // SAFETY: as in kind(); the out-parameters are locals.
        unsafe {
            let r = clang_Cursor_getCommentRange(self.0);
            let (mut line, mut col, mut off) = (0, 0, 0);
            clang_getExpansionLocation(
                clang_getRangeEnd(r),
                std::ptr::null_mut(),
                &mut line,
                &mut col,
                &mut off,
            );
            line
        }
    }
    /// The file, first line and end byte offset of the cursor's extent (expansion locations).
    pub fn extent(self) -> (Option<PathBuf>, u32, u32) {
        // SAFETY: as in kind(); the out-parameters are locals.
        unsafe {
            let r = clang_getCursorExtent(self.0);
            let mut file: CXFile = std::ptr::null_mut();
            let (mut line, mut col, mut off) = (0, 0, 0);
            clang_getExpansionLocation(
                clang_getRangeStart(r),
                &mut file,
                &mut line,
                &mut col,
                &mut off,
            );
            let (mut l2, mut c2, mut end) = (0, 0, 0);
            clang_getExpansionLocation(
                clang_getRangeEnd(r),
                std::ptr::null_mut(),
                &mut l2,
                &mut c2,
                &mut end,
            );
            let name = if file.is_null() {
                None
            } else {
                Some(PathBuf::from(string(clang_getFileName(file))))
            };
            (name, line, end)
        }
    }
    /// The file (real path) and line of the cursor's expansion location.
    pub fn location(self) -> (Option<PathBuf>, u32) {
        // SAFETY: as in kind(); the out-parameters are locals.
        unsafe {
            let loc = clang_getCursorLocation(self.0);
            let mut file: CXFile = std::ptr::null_mut();
            let (mut line, mut col, mut off) = (0, 0, 0);
            clang_getExpansionLocation(loc, &mut file, &mut line, &mut col, &mut off);
            if file.is_null() {
                return (None, line);
            }
            let name = string(clang_getFileName(file));
            (
                Some(std::fs::canonicalize(&name).unwrap_or_else(|_| PathBuf::from(name))),
                line,
            )
        }
    }
    /// For an inclusion directive: the real path of the file it included.
    pub fn included_file(self) -> Option<PathBuf> {
        // SAFETY: as in kind() (an InclusionDirective).
        unsafe {
            let f = clang_getIncludedFile(self.0);
            if f.is_null() {
                return None;
            }
            let name = string(clang_getFileName(f));
            Some(std::fs::canonicalize(&name).unwrap_or_else(|_| PathBuf::from(name)))
        }
    }
    pub fn evaluate(self) -> Option<Eval> {
        // SAFETY: as in kind(); the result is disposed once, after it was read.
        unsafe {
            let r = clang_Cursor_Evaluate(self.0);
            if r.is_null() {
                return None;
            }
            let out = match clang_EvalResult_getKind(r) {
                CXEval_Int => Some(Eval::Int(if clang_EvalResult_isUnsignedInt(r) != 0 {
                    clang_EvalResult_getAsUnsigned(r) as i128
                } else {
                    clang_EvalResult_getAsLongLong(r) as i128
                })),
                CXEval_Float => Some(Eval::Float(clang_EvalResult_getAsDouble(r))),
                CXEval_StrLiteral => {
                    let p = clang_EvalResult_getAsStr(r);
                    if p.is_null() {
                        None
                    } else {
                        Some(Eval::Str(CStr::from_ptr(p).to_string_lossy().into_owned()))
                    }
                }
                _ => None,
            };
            clang_EvalResult_dispose(r);
            out
        }
    }
}

#[derive(Clone, Copy)]
pub struct Type(CXType);

impl Type {
    pub fn kind(self) -> CXTypeKind {
        self.0.kind
    }
    pub fn spelling(self) -> String {
        // SAFETY: a type handed out by libclang (a plain value).
        string(unsafe { clang_getTypeSpelling(self.0) })
    }
    pub fn canonical(self) -> Type {
        // SAFETY: as in spelling().
        Type(unsafe { clang_getCanonicalType(self.0) })
    }
    pub fn pointee(self) -> Type {
        // SAFETY: as in spelling().
        Type(unsafe { clang_getPointeeType(self.0) })
    }
    pub fn is_const(self) -> bool {
        // SAFETY: as in spelling().
        unsafe { clang_isConstQualifiedType(self.0) != 0 }
    }
    pub fn size(self) -> i64 {
        // SAFETY: as in spelling().
        unsafe { clang_Type_getSizeOf(self.0) }
    }
    pub fn align(self) -> i64 {
        // SAFETY: as in spelling().
        unsafe { clang_Type_getAlignOf(self.0) }
    }
    pub fn declaration(self) -> Cursor {
        // SAFETY: as in spelling().
        Cursor(unsafe { clang_getTypeDeclaration(self.0) })
    }
    pub fn named(self) -> Type {
        // SAFETY: as in spelling() (an Elaborated type).
        Type(unsafe { clang_Type_getNamedType(self.0) })
    }
    pub fn result(self) -> Type {
        // SAFETY: as in spelling() (a function type).
        Type(unsafe { clang_getResultType(self.0) })
    }
    pub fn args(self) -> Vec<Type> {
        // SAFETY: as in spelling(); indices below the count the type reports.
        unsafe {
            let n = clang_getNumArgTypes(self.0);
            (0..n.max(0) as u32)
                .map(|i| Type(clang_getArgType(self.0, i)))
                .collect()
        }
    }
    pub fn is_variadic(self) -> bool {
        // SAFETY: as in spelling().
        unsafe { clang_isFunctionTypeVariadic(self.0) != 0 }
    }
    pub fn element(self) -> Type {
        // SAFETY: as in spelling() (an array type).
        Type(unsafe { clang_getArrayElementType(self.0) })
    }
    pub fn array_len(self) -> i64 {
        // SAFETY: as in spelling().
        unsafe { clang_getArraySize(self.0) }
    }
    pub fn is_unsigned(self) -> bool {
        matches!(
            self.canonical().kind(),
            CXType_UChar
                | CXType_UShort
                | CXType_UInt
                | CXType_ULong
                | CXType_ULongLong
                | CXType_Bool
        )
    }
}
