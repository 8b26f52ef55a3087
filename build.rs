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
