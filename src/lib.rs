//! ArkFFI: call C libraries from ArkTS (HarmonyOS / OpenHarmony) and Node-API hosts.
//!
//! Modules, one job each: `types` (the type model), `library` (loading), `signature` (call
//! preparation), `convert` (value conversion), `call` (the call path), `memory` (pointer
//! helpers), `layout` (struct layouts), `structs` (struct values and schema handles),
//! `env_state` (per-thread state: held struct results), `js` (NAPI wrappers), `error`, and
//! `surface` (the thin exported layer).

pub mod call;
pub mod callback;
pub mod convert;
pub mod debug;
pub mod direct;
pub mod env_state;
pub mod error;
pub mod js;
pub mod layout;
pub mod library;
pub mod memory;
pub mod nonblocking;
#[cfg(test)]
mod proptests;
pub mod signature;
pub mod structs;
pub mod surface;
pub mod types;

use napi_derive_ohos::napi;

/// Module initialisation: runs once per env (the main thread, each Worker / TaskPool thread).
#[napi(module_exports)]
pub fn init(exports: napi_ohos::bindgen_prelude::Object) -> napi_ohos::Result<()> {
    use napi_ohos::JsValue;
    let value = exports.value();
    // SAFETY: the engine hands us its live env and the module's exports object.
    unsafe { surface::register(value.env, value.value) }
        .map_err(|e| napi_ohos::Error::from_reason(e.message().to_owned()))
}

/// Unit-test executables have no JS engine: the module constructor's registration call
/// lands here instead of the engine (no other NAPI function runs in unit tests).
#[cfg(test)]
#[no_mangle]
pub extern "C" fn napi_module_register(_module: *mut napi_ohos::sys::napi_module) {}
