fn main() {
    napi_build_ohos::setup();
    // Host builds: the NAPI symbols come from the JS engine that loads the library (Node on
    // this machine). The unit tests (`cargo test`) link the same crate into an executable and
    // exercise only the parts that do not call NAPI, so unresolved NAPI symbols are allowed
    // there. OpenHarmony builds link libace_napi.z.so (napi_build_ohos::setup above).
    let target_env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if target_env != "ohos" {
        println!("cargo:rustc-link-arg=-Wl,--unresolved-symbols=ignore-all");
    }
}
