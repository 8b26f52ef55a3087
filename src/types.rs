//! The type model: every FFI type code ArkTS can name, its C size and alignment, its libffi
//! type, and the range of JS values it accepts.
//!
//! The numeric codes are the values of the ArkTS `FFIType` enum (ets/src/main/ets/types.ets);
//! the host tests check the two agree through the type names in error messages.

use std::ffi::c_char;

use libffi::middle::Type;
use napi_ohos::sys::{napi_env, napi_value};

use crate::error::{FfiError, FfiResult};
use crate::js;

/// Whether plain `char` is signed on the target (x86_64: yes; aarch64 Linux/OHOS: no).
pub const CHAR_IS_SIGNED: bool = (c_char::MIN as i32) < 0;

/// Largest magnitude that a JS number holds exactly with no neighbour rounding onto it
/// ambiguously: results within ±2^53 come back as numbers, wider ones as bigints.
pub const MAX_EXACT: u64 = 1 << 53;

#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FfiType {
    Void = 0,
    Bool = 1,
    Char = 2,
    I8 = 3,
    U8 = 4,
    I16 = 5,
    U16 = 6,
    I32 = 7,
    U32 = 8,
    I64 = 9,
    U64 = 10,
    I64Fast = 11,
    U64Fast = 12,
    ISize = 13,
    USize = 14,
    F32 = 15,
    F64 = 16,
    Ptr = 17,
    CString = 18,
    Buffer = 19,
    Callback = 20,
}

impl FfiType {
    pub const ALL: [FfiType; 21] = [
        FfiType::Void,
        FfiType::Bool,
        FfiType::Char,
        FfiType::I8,
        FfiType::U8,
        FfiType::I16,
        FfiType::U16,
        FfiType::I32,
        FfiType::U32,
        FfiType::I64,
        FfiType::U64,
        FfiType::I64Fast,
        FfiType::U64Fast,
        FfiType::ISize,
        FfiType::USize,
        FfiType::F32,
        FfiType::F64,
        FfiType::Ptr,
        FfiType::CString,
        FfiType::Buffer,
        FfiType::Callback,
    ];

    /// The type for a JS number code, if it is one of ours.
    pub fn from_code(code: f64) -> Option<FfiType> {
        if code.fract() != 0.0 || !(0.0..=255.0).contains(&code) {
            return None;
        }
        Self::ALL.get(code as usize).copied()
    }

    /// The canonical `FFIType` member name.
    pub fn name(self) -> &'static str {
        match self {
            FfiType::Void => "void",
            FfiType::Bool => "bool",
            FfiType::Char => "char",
            FfiType::I8 => "i8",
            FfiType::U8 => "u8",
            FfiType::I16 => "i16",
            FfiType::U16 => "u16",
            FfiType::I32 => "i32",
            FfiType::U32 => "u32",
            FfiType::I64 => "i64",
            FfiType::U64 => "u64",
            FfiType::I64Fast => "i64_fast",
            FfiType::U64Fast => "u64_fast",
            FfiType::ISize => "isize",
            FfiType::USize => "usize",
            FfiType::F32 => "f32",
            FfiType::F64 => "f64",
            FfiType::Ptr => "ptr",
            FfiType::CString => "CString",
            FfiType::Buffer => "buffer",
            FfiType::Callback => "callback",
        }
    }

    /// Size in bytes of the C type (0 for void).
    pub fn size(self) -> usize {
        match self {
            FfiType::Void => 0,
            FfiType::Bool | FfiType::Char | FfiType::I8 | FfiType::U8 => 1,
            FfiType::I16 | FfiType::U16 => 2,
            FfiType::I32 | FfiType::U32 | FfiType::F32 => 4,
            FfiType::I64 | FfiType::U64 | FfiType::I64Fast | FfiType::U64Fast | FfiType::F64 => 8,
            FfiType::ISize
            | FfiType::USize
            | FfiType::Ptr
            | FfiType::CString
            | FfiType::Buffer
            | FfiType::Callback => std::mem::size_of::<usize>(),
        }
    }

    /// C alignment: natural alignment for every scalar on the supported 64-bit ABIs.
    pub fn align(self) -> usize {
        self.size().max(1)
    }

    /// The inclusive integer range accepted for integer types, as i128 bounds.
    pub fn int_range(self) -> Option<(i128, i128)> {
        Some(match self {
            FfiType::Char => (i8::MIN as i128, u8::MAX as i128),
            FfiType::I8 => (i8::MIN as i128, i8::MAX as i128),
            FfiType::U8 => (0, u8::MAX as i128),
            FfiType::I16 => (i16::MIN as i128, i16::MAX as i128),
            FfiType::U16 => (0, u16::MAX as i128),
            FfiType::I32 => (i32::MIN as i128, i32::MAX as i128),
            FfiType::U32 => (0, u32::MAX as i128),
            FfiType::I64 | FfiType::I64Fast => (i64::MIN as i128, i64::MAX as i128),
            FfiType::U64 | FfiType::U64Fast => (0, u64::MAX as i128),
            FfiType::ISize => (isize::MIN as i128, isize::MAX as i128),
            FfiType::USize => (0, usize::MAX as i128),
            _ => return None,
        })
    }

    /// What a JS value of this type must look like, for error messages.
    pub fn expectation(self) -> String {
        match self {
            FfiType::Void => "nothing (void)".into(),
            FfiType::Bool => "a boolean".into(),
            FfiType::F32 | FfiType::F64 => "a number".into(),
            FfiType::Ptr => "a pointer (number, bigint, null, ArrayBuffer, SharedArrayBuffer, typed array or DataView)".into(),
            FfiType::Callback => "a function pointer (number, bigint, null or a JSCallback)".into(),
            FfiType::CString => "a string or null".into(),
            FfiType::Buffer => "an ArrayBuffer, SharedArrayBuffer, typed array, DataView or null".into(),
            _ => {
                let (lo, hi) = self.int_range().unwrap_or((0, 0));
                format!("an integer in {lo}..{hi}, as number or bigint")
            }
        }
    }

    /// The libffi description used to build call interfaces.
    pub fn ffi_type(self) -> Type {
        match self {
            FfiType::Void => Type::void(),
            FfiType::Bool | FfiType::U8 => Type::u8(),
            FfiType::Char => {
                if CHAR_IS_SIGNED {
                    Type::i8()
                } else {
                    Type::u8()
                }
            }
            FfiType::I8 => Type::i8(),
            FfiType::I16 => Type::i16(),
            FfiType::U16 => Type::u16(),
            FfiType::I32 => Type::i32(),
            FfiType::U32 => Type::u32(),
            FfiType::I64 | FfiType::I64Fast => Type::i64(),
            FfiType::U64 | FfiType::U64Fast => Type::u64(),
            FfiType::ISize => Type::isize(),
            FfiType::USize => Type::usize(),
            FfiType::F32 => Type::f32(),
            FfiType::F64 => Type::f64(),
            FfiType::Ptr | FfiType::CString | FfiType::Buffer | FfiType::Callback => {
                Type::pointer()
            }
        }
    }
}

/// Read one FFIType code from JS.
///
/// # Safety
/// `env` live; `v` a value of it.
pub unsafe fn parse_type_code(env: napi_env, v: napi_value) -> FfiResult<FfiType> {
    // SAFETY: forwarded contract.
    unsafe {
        if let Some(code) = js::get_f64(env, v) {
            if let Some(t) = FfiType::from_code(code) {
                return Ok(t);
            }
        }
        Err(FfiError::type_error(format!(
            "is not an FFIType, got {}",
            js::describe(env, v)
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_dense() {
        for (i, t) in FfiType::ALL.iter().enumerate() {
            assert_eq!(*t as usize, i);
            assert_eq!(FfiType::from_code(i as f64), Some(*t));
        }
        assert_eq!(FfiType::from_code(21.0), None);
        assert_eq!(FfiType::from_code(-1.0), None);
        assert_eq!(FfiType::from_code(1.5), None);
        assert_eq!(FfiType::from_code(f64::NAN), None);
    }

    #[test]
    fn sizes_match_rust_layouts() {
        use std::mem::size_of;
        assert_eq!(FfiType::I16.size(), size_of::<i16>());
        assert_eq!(FfiType::F32.size(), size_of::<f32>());
        assert_eq!(FfiType::Ptr.size(), size_of::<*const u8>());
        assert_eq!(FfiType::USize.size(), size_of::<usize>());
        assert_eq!(FfiType::Void.align(), 1);
    }

    #[test]
    fn char_signedness_matches_target() {
        #[cfg(target_arch = "x86_64")]
        const {
            assert!(CHAR_IS_SIGNED)
        };
        #[cfg(target_arch = "aarch64")]
        const {
            assert!(!CHAR_IS_SIGNED)
        };
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<_> = FfiType::ALL.iter().map(|t| t.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), FfiType::ALL.len());
    }
}
