//! Build script. Everything in which the OpenHarmony build differs from the host build is
//! here and in Cargo.toml's `[target.'cfg(target_env = "ohos")'.dependencies]`; the Rust
//! sources have no platform `cfg`s of their own (docs/ohos-build.md).
use std::env;
use std::path::Path;

fn main() {
    // Host (this machine's Node) and OpenHarmony: napi-build-ohos links libace_napi.z.so for
    // target_env = "ohos" (it reads OHOS_NDK_HOME) and does nothing that matters elsewhere.
    let target_env = env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    let ohos = target_env == "ohos";

    // libffi: the host build compiles the libffi bundled with libffi-sys. For OpenHarmony
    // that bundled build cannot run (its config.sub rejects `*-linux-ohos`), so Cargo.toml
    // turns on libffi's `system` feature there and scripts/ohos-libffi.sh builds the same
    // source beforehand; the feature `libffi-system` does the same on any target (the host
    // tests use it to check this path). Both must come before napi-build-ohos's search paths
    // (the NDK sysroot) so that the static archive is the one that `-lffi` finds.
    if ohos {
        // napi-build-ohos takes the sysroot's search paths from it but does not say so.
        println!("cargo:rerun-if-env-changed=OHOS_NDK_HOME");
        link_ohos_runtime();
    }
    if ohos || env::var_os("CARGO_FEATURE_LIBFFI_SYSTEM").is_some() {
        link_prebuilt_libffi();
    }

    napi_build_ohos::setup();

    // Host builds: the NAPI symbols come from the JS engine that loads the library (Node on
    // this machine). The unit tests (`cargo test`) link the same crate into an executable and
    // exercise only the parts that do not call NAPI, so unresolved NAPI symbols are allowed
    // there. OpenHarmony builds link libace_napi.z.so (napi_build_ohos::setup above).
    if !ohos {
        println!("cargo:rustc-link-arg=-Wl,--unresolved-symbols=ignore-all");
    }
}

/// What OpenHarmony builds add to the link of libarkffi.so (docs/ohos-build.md):
/// - compiler-rt's builtins, as the NDK's clang reports them: rustc links cdylibs with
///   `-nodefaultlibs`, so clang never adds them, and the static libffi needs one of them on
///   aarch64 (`__clear_cache`, for its trampolines), which musl does not export; left
///   undefined, the library fails to load (`Error relocating libarkffi.so: __clear_cache:
///   symbol not found`). Only the members that resolve something are linked, hidden.
/// - aarch64: PT_LOAD segments aligned to 64 KiB, so the file loads whatever the kernel's page
///   size (4, 16 or 64 KiB; OpenHarmony's own toolchain links for 4 KiB);
/// - a build ID, which ties the stripped library in the HAR to the unstripped one kept for
///   symbolication.
fn link_ohos_runtime() {
    let ndk = env::var("OHOS_NDK_HOME").unwrap_or_default();
    let target = env::var("TARGET").unwrap_or_default();
    let clang = Path::new(&ndk).join("native/llvm/bin/clang");
    let reported = std::process::Command::new(&clang)
        .arg(format!("--target={target}"))
        .args(["--rtlib=compiler-rt", "-print-libgcc-file-name"])
        .output();
    let builtins = match reported {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_string(),
        Ok(out) => fail(&format!(
            "{} --target={target} --rtlib=compiler-rt -print-libgcc-file-name failed: {}",
            clang.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => fail(&format!(
            "cannot run {} (OHOS_NDK_HOME={ndk}): {e}",
            clang.display()
        )),
    };
    if !Path::new(&builtins).is_file() {
        fail(&format!(
            "the NDK's clang reports compiler-rt's builtins for {target} at '{builtins}', \
             which is not a file"
        ));
    }
    println!("cargo:rerun-if-changed={builtins}");
    println!("cargo:rustc-cdylib-link-arg={builtins}");
    if env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("aarch64") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-z,max-page-size=65536");
    }
    println!("cargo:rustc-cdylib-link-arg=-Wl,--build-id=sha1");
}

/// Puts the directory named by ARKFFI_LIBFFI_DIR, which must hold a static `libffi.a` and no
/// shared libffi, on the link search path, so that libffi-sys's `-lffi` links libffi into
/// libarkffi.so (the app ships one .so and needs no libffi of the system).
fn link_prebuilt_libffi() {
    println!("cargo:rerun-if-env-changed=ARKFFI_LIBFFI_DIR");
    let Some(dir) = env::var_os("ARKFFI_LIBFFI_DIR") else {
        fail(
            "ARKFFI_LIBFFI_DIR is not set. For OpenHarmony build with scripts/build-ohos.sh, \
             which builds libffi for the target first (docs/ohos-build.md); with the feature \
             libffi-system, point it at a directory holding a static libffi.a.",
        );
    };
    let dir = Path::new(&dir);
    if !dir.join("libffi.a").is_file() {
        fail(&format!(
            "ARKFFI_LIBFFI_DIR={} holds no libffi.a (build it with scripts/ohos-libffi.sh)",
            dir.display()
        ));
    }
    if dir.join("libffi.so").exists() {
        fail(&format!(
            "ARKFFI_LIBFFI_DIR={} holds a shared libffi.so; libffi must be linked statically",
            dir.display()
        ));
    }
    println!("cargo:rerun-if-changed={}", dir.join("libffi.a").display());
    println!("cargo:rustc-link-search=native={}", dir.display());
}

fn fail(message: &str) -> ! {
    eprintln!("arkffi build: {message}");
    std::process::exit(1);
}
