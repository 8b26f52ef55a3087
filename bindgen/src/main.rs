//! arkffi-bindgen: reads C headers with libclang and writes one typed ArkTS module of ArkFFI
//! bindings (`open()`, struct schemas, enums, constants, callback types). See `--help`.
#![allow(non_upper_case_globals)] // libclang's constants (clang-sys keeps the C names)

mod clang;
mod gen;

use std::path::PathBuf;
use std::process::ExitCode;

const HELP: &str = "\
arkffi-bindgen: typed ArkTS bindings (an .ets module for ArkFFI) from C headers

USAGE:
  arkffi-bindgen [OPTIONS] HEADER... -o OUT.ets

The module exports open(path?) (opens --library, or `path`) returning an object whose
fields are the header's functions as typed calls, plus close(); the header's structs as
interfaces with their StructSchema (<Name>T); enums; integer, float and string #defines that
are constants; function-pointer typedefs as classes with of(fn) / ofThreadsafe(fn) making a
JSCallback; opaque structs as `export type name = Pointer`. What it cannot bind (variadic
functions, unions, bitfields, long double, ...) is listed in a comment at its place.
Declarations come from each HEADER and the headers it includes directly (not the
compiler's own headers); names starting with `__` are left out.

OPTIONS:
  -o, --output OUT.ets   the module to write (required)
  --library NAME         the library open() opens by default (default: lib<first header>.so)
  -I DIR                 add an include directory (repeatable)
  -D NAME[=VALUE]        define a macro (repeatable)
  --target TRIPLE        the target whose layouts, char signedness and long size are used
                         (default: aarch64-linux-ohos, the devices' ABI)
  --sysroot DIR          the target's sysroot, e.g. $OHOS_NDK_HOME/native/sysroot (default:
                         that one when OHOS_NDK_HOME is set, else this machine's system
                         headers, the host's multiarch include directory searched last)
  --only REGEX           bind only declarations whose whole name matches REGEX (the structs
                         and types they use come along)
  --libclang PATH        the libclang shared library to load (default: the NDK's
                         $OHOS_NDK_HOME/native/llvm/lib/libclang.so, else /usr/lib/llvm-N/lib)
  -h, --help             this text
  -V, --version          the version

Type mapping: const char * parameters and results are C.CString (a string in, copied for
the call; a string out, read and never freed); non-const char * is C.ptr (C may write
through it: pass a buffer). size_t is C.usize, int64_t C.i64, long C.i64_fast / C.u64_fast on
64-bit targets (C.i32 / C.u32 where long is 32 bits), bool C.bool, struct by value the
schema (its .value as a result), other pointers C.ptr, function pointers C.callback.
";

pub struct Options {
    pub headers: Vec<String>,
    pub output: PathBuf,
    pub library: Option<String>,
    pub includes: Vec<String>,
    pub defines: Vec<String>,
    pub target: String,
    pub sysroot: Option<String>,
    pub only: Option<regex::Regex>,
    pub libclang: Option<PathBuf>,
    /// The command line as written (without -o), for the module's header comment.
    pub command: String,
}

fn parse_args(args: Vec<String>) -> Result<Option<Options>, String> {
    let mut o = Options {
        headers: Vec::new(),
        output: PathBuf::new(),
        library: None,
        includes: Vec::new(),
        defines: Vec::new(),
        target: "aarch64-linux-ohos".into(),
        sysroot: None,
        only: None,
        libclang: None,
        command: String::new(),
    };
    let mut output = None;
    let mut shown: Vec<String> = vec!["arkffi-bindgen".into()];
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        // `-Ifoo` / `-DX=1` attached, or the value as the next argument.
        let (flag, attached) = if (a.starts_with("-I") || a.starts_with("-D")) && a.len() > 2 {
            (a[..2].to_string(), Some(a[2..].to_string()))
        } else if let Some((f, v)) = a.split_once('=').filter(|_| a.starts_with("--")) {
            (f.to_string(), Some(v.to_string()))
        } else {
            (a.clone(), None)
        };
        let takes_value = matches!(
            flag.as_str(),
            "-o" | "--output"
                | "--library"
                | "-I"
                | "-D"
                | "--target"
                | "--sysroot"
                | "--only"
                | "--libclang"
        );
        let value = if takes_value {
            match attached {
                Some(v) => v,
                None => it.next().ok_or_else(|| format!("{flag} needs a value"))?,
            }
        } else {
            String::new()
        };
        if takes_value && flag != "-o" && flag != "--output" && flag != "--libclang" {
            shown.push(flag.clone());
            shown.push(shell_word(&value));
        }
        match flag.as_str() {
            "-h" | "--help" => {
                print!("{HELP}");
                return Ok(None);
            }
            "-V" | "--version" => {
                println!("arkffi-bindgen {}", env!("CARGO_PKG_VERSION"));
                return Ok(None);
            }
            "-o" | "--output" => output = Some(PathBuf::from(value)),
            "--library" => o.library = Some(value),
            "-I" => o.includes.push(value),
            "-D" => o.defines.push(value),
            "--target" => o.target = value,
            "--sysroot" => o.sysroot = Some(value),
            "--only" => {
                o.only = Some(
                    regex::Regex::new(&format!("^(?:{value})$"))
                        .map_err(|e| format!("--only: {e}"))?,
                )
            }
            "--libclang" => o.libclang = Some(PathBuf::from(value)),
            f if f.starts_with('-') => return Err(format!("unknown option {f} (see --help)")),
            _ => {
                shown.push(shell_word(&a));
                o.headers.push(a);
            }
        }
    }
    o.output = output.ok_or("no output: pass -o OUT.ets (see --help)")?;
    if o.headers.is_empty() {
        return Err("no header given (see --help)".into());
    }
    o.command = shown.join(" ");
    Ok(Some(o))
}

/// `s` as one shell word (single-quoted when it has characters a shell would read).
fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./=:+,@".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn main() -> ExitCode {
    let opts = match parse_args(std::env::args().skip(1).collect()) {
        Ok(Some(o)) => o,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("arkffi-bindgen: {e}");
            return ExitCode::from(2);
        }
    };
    match gen::run(&opts) {
        Ok(summary) => {
            eprintln!("arkffi-bindgen: wrote {}: {summary}", opts.output.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("arkffi-bindgen: {e}");
            ExitCode::FAILURE
        }
    }
}
