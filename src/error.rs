//! Errors raised by the native layer, and how they become JS exceptions.
//!
//! Every native entry point returns `FfiResult<napi_value>`; the NAPI surface turns an
//! `Err` into exactly one thrown JS error of the right class.

use std::ffi::CString;
use std::fmt;

use napi_ohos::sys;

/// A failure that will be thrown into JS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FfiError {
    /// Wrong kind of value: thrown as `TypeError`.
    Type(String),
    /// Right kind, out of the accepted range: thrown as `RangeError`.
    Range(String),
    /// Anything else (loader errors, closed libraries): thrown as `Error`.
    Generic(String),
    /// A JS exception is already pending (a getter threw, an engine call failed with an
    /// exception); nothing more is thrown.
    Pending,
}

pub type FfiResult<T> = Result<T, FfiError>;

impl FfiError {
    pub fn type_error(msg: impl Into<String>) -> Self {
        FfiError::Type(msg.into())
    }

    pub fn range_error(msg: impl Into<String>) -> Self {
        FfiError::Range(msg.into())
    }

    pub fn error(msg: impl Into<String>) -> Self {
        FfiError::Generic(msg.into())
    }

    /// Prefix the message with a context such as `add: `.
    pub fn context(self, ctx: &str) -> Self {
        match self {
            FfiError::Type(m) => FfiError::Type(format!("{ctx}: {m}")),
            FfiError::Range(m) => FfiError::Range(format!("{ctx}: {m}")),
            FfiError::Generic(m) => FfiError::Generic(format!("{ctx}: {m}")),
            FfiError::Pending => FfiError::Pending,
        }
    }

    /// Prefix the message with a subject, separated by a space: `add: args[0] must be …`.
    pub fn subject(self, subject: &str) -> Self {
        match self {
            FfiError::Type(m) => FfiError::Type(format!("{subject} {m}")),
            FfiError::Range(m) => FfiError::Range(format!("{subject} {m}")),
            FfiError::Generic(m) => FfiError::Generic(format!("{subject} {m}")),
            FfiError::Pending => FfiError::Pending,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            FfiError::Type(m) | FfiError::Range(m) | FfiError::Generic(m) => m,
            FfiError::Pending => "a JS exception is pending",
        }
    }

    /// Throw this error into `env`. Does nothing for `Pending` or when an exception is
    /// already pending (the first error wins).
    ///
    /// # Safety
    /// `env` must be the live env of the calling JS thread.
    pub unsafe fn throw(self, env: sys::napi_env) {
        let mut pending = false;
        // SAFETY: env is live on this thread (caller contract); `pending` is a valid out slot.
        unsafe { sys::napi_is_exception_pending(env, &mut pending) };
        if pending || self == FfiError::Pending {
            return;
        }
        let text = sanitize(self.message());
        // SAFETY: env is live; code may be NULL; text is NUL-terminated and outlives the call.
        unsafe {
            match self {
                FfiError::Type(_) => {
                    sys::napi_throw_type_error(env, std::ptr::null(), text.as_ptr())
                }
                FfiError::Range(_) => {
                    sys::napi_throw_range_error(env, std::ptr::null(), text.as_ptr())
                }
                _ => sys::napi_throw_error(env, std::ptr::null(), text.as_ptr()),
            };
        }
    }
}

impl FfiError {
    /// This error as a JS error value (for rejecting a Promise). A pending exception is
    /// taken out of the env and returned instead.
    ///
    /// # Safety
    /// `env` must be the live env of the calling JS thread.
    pub unsafe fn to_js(self, env: sys::napi_env) -> sys::napi_value {
        let mut out = std::ptr::null_mut();
        if self == FfiError::Pending {
            // SAFETY: env live; out a valid slot.
            unsafe { sys::napi_get_and_clear_last_exception(env, &mut out) };
            return out;
        }
        let text = self.message().to_owned();
        let mut msg = std::ptr::null_mut();
        // SAFETY: env live; text points at text.len() bytes; out slots valid.
        unsafe {
            sys::napi_create_string_utf8(env, text.as_ptr().cast(), text.len() as isize, &mut msg);
            match self {
                FfiError::Type(_) => {
                    sys::napi_create_type_error(env, std::ptr::null_mut(), msg, &mut out)
                }
                FfiError::Range(_) => {
                    sys::napi_create_range_error(env, std::ptr::null_mut(), msg, &mut out)
                }
                _ => sys::napi_create_error(env, std::ptr::null_mut(), msg, &mut out),
            };
        }
        out
    }
}

impl fmt::Display for FfiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

/// A message as a C string; interior NULs (from user-supplied names) become U+2400.
fn sanitize(msg: &str) -> CString {
    CString::new(msg.replace('\0', "\u{2400}")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_prefixes_every_kind_but_pending() {
        assert_eq!(FfiError::type_error("x").context("f").message(), "f: x");
        assert_eq!(
            FfiError::range_error("x").context("f"),
            FfiError::Range("f: x".into())
        );
        assert_eq!(
            FfiError::error("x").context("f"),
            FfiError::Generic("f: x".into())
        );
        assert_eq!(FfiError::Pending.context("f"), FfiError::Pending);
        assert_eq!(
            FfiError::type_error("must").subject("f: args[0]").message(),
            "f: args[0] must"
        );
    }

    #[test]
    fn sanitize_keeps_text_with_nul() {
        assert_eq!(sanitize("a\0b").to_str().unwrap(), "a\u{2400}b");
    }
}
