//! ArkFFI: call C libraries from ArkTS (HarmonyOS / OpenHarmony) and Node-API hosts.
//!
//! Modules, one job each: `types` (the type model), `library` (loading), `signature` (call
//! preparation), `convert` (value conversion), `call` (the call path), `memory` (pointer
//! helpers), `layout` (struct layouts), `structs` (struct values and schema handles),
//! `env_state` (per-thread state: held struct results), `addr_map` (address-keyed maps),
//! `callback` (JSCallback), `slots` (its C function pointers, compiled in), `invoke` and
//! `relay` (running callbacks on their thread, and from other threads), `js` (NAPI wrappers),
//! `error`, `boundary` (errors and panics at the engine boundary), and `surface` (the thin
//! exported layer).

pub mod addr_map;
pub mod arena;
pub mod bind;
pub mod boundary;
pub mod call;
pub mod callback;
pub mod convert;
pub mod debug;
pub mod direct;
pub mod direct_call;
pub mod env_state;
pub mod error;
pub mod invoke;
pub mod js;
pub mod layout;
pub mod library;
pub mod memory;
pub mod nonblocking;
#[cfg(test)]
mod proptests;
pub mod relay;
pub mod shaped;
pub mod signature;
pub mod site;
pub mod slots;
pub mod structs;
pub mod surface;
pub mod types;
pub mod variadic;

#[cfg_attr(test, allow(dead_code))]
mod register {
    //! Module registration: the constructor that runs when the library is loaded registers
    //! the module `arkffi` (OpenHarmony resolves `import ... from 'libarkffi.so'` by this
    //! name; Node loads the same library as an addon). The `napi_module` record is a static:
    //! the engine keeps the pointer and reads it after the constructor has returned (the
    //! napi-derive-ohos macro passes a stack-allocated record, which valgrind showed Node
    //! reading after it was gone; so this crate registers itself and does not use the macro).

    use std::cell::UnsafeCell;
    use std::ptr;

    use napi_ohos::sys;
    use napi_ohos::sys::{napi_env, napi_value};

    struct Module(UnsafeCell<sys::napi_module>);
    // SAFETY: the record is written only by the engine during registration, on the loading
    // thread; we never touch it after handing it over.
    unsafe impl Sync for Module {}

    static MODULE: Module = Module(UnsafeCell::new(sys::napi_module {
        nm_version: 1,
        nm_flags: 0,
        nm_filename: ptr::null(),
        nm_register_func: Some(init),
        nm_modname: c"arkffi".as_ptr(),
        nm_priv: ptr::null_mut(),
        reserved: [ptr::null_mut(); 4],
    }));

    /// The entry point engines look up by name when no constructor registered the module
    /// for them: Node does so for every further env (Worker threads) loading the library.
    /// (napi-ohos's own runtime entry of this name is switched off by its `noop` feature:
    /// this crate uses only its `sys` layer.)
    ///
    /// # Safety
    /// Called by the engine with a live env and the module's exports object.
    #[no_mangle]
    pub unsafe extern "C" fn napi_register_module_v1(
        env: napi_env,
        exports: napi_value,
    ) -> napi_value {
        // SAFETY: forwarded engine contract.
        unsafe { init(env, exports) }
    }

    /// Runs once per env (the main thread, each Worker / TaskPool thread).
    unsafe extern "C" fn init(env: napi_env, exports: napi_value) -> napi_value {
        let outcome = std::panic::catch_unwind(|| {
            // SAFETY: the engine hands us its live env and the module's exports object.
            unsafe { crate::surface::register(env, exports) }
        });
        match outcome {
            Ok(Ok(())) => exports,
            Ok(Err(e)) => {
                // SAFETY: env is live.
                unsafe { e.throw(env) };
                ptr::null_mut()
            }
            Err(_) => {
                // SAFETY: env is live.
                unsafe {
                    crate::error::FfiError::error("arkffi: module initialisation panicked")
                        .throw(env)
                };
                ptr::null_mut()
            }
        }
    }

    #[cfg(not(test))]
    napi_ohos::ctor::declarative::ctor! {
        #[ctor(unsafe)]
        fn register_arkffi() {
            // SAFETY: MODULE is a valid, static napi_module record, registered once.
            unsafe { sys::napi_module_register(MODULE.0.get()) };
        }
    }
}
