//! GUCs: PostgREST's config keys as `postgrest.<key with - → _>`, plus our own worker keys.
//!
//! Every setting of `postgrest_core::config::SETTINGS` is a string GUC, exactly as PostgREST reads its config file: the values are
//! parsed and validated in one place, `postgrest_core::config`, so the rules are testable
//! without PostgreSQL. Listener and connection settings are fixed at postmaster start;
//! everything else is reloaded on SIGHUP (`SELECT pg_reload_conf()`).
//!
//! The `postgrest` prefix is deliberately not reserved: PostgREST's `app.settings.*` arrive as
//! free-form `postgrest.app.settings.<name>` placeholders.

use pgrx::pg_sys;
use postgrest_core::config::{Apply, Config, SETTINGS};
use std::collections::HashMap;
use std::ffi::{c_char, CStr, CString};
use std::sync::OnceLock;

/// The C variables PostgreSQL writes each GUC's current value into, by name.
static VARIABLES: OnceLock<Vec<(&'static str, usize)>> = OnceLock::new();

pub fn define() {
    let mut vars = Vec::with_capacity(SETTINGS.len());
    for setting in SETTINGS {
        let full = leak_cstr(&format!("postgrest.{}", setting.key));
        let boot = leak_cstr(setting.default);
        let description = leak_cstr(setting.description);
        let var: &'static mut *mut c_char = Box::leak(Box::new(std::ptr::null_mut()));
        let context = match setting.apply {
            Apply::Restart => pg_sys::GucContext::PGC_POSTMASTER,
            Apply::Reload => pg_sys::GucContext::PGC_SIGHUP,
            Apply::SuperuserReload => pg_sys::GucContext::PGC_SUSET,
        };
        // SAFETY: called from _PG_init on the backend's thread; the name, description and
        // default are leaked C strings and `var` a leaked pointer, so all outlive the GUC
        unsafe {
            pg_sys::DefineCustomStringVariable(
                full.as_ptr(),
                description.as_ptr(),
                std::ptr::null(),
                var as *mut *mut c_char,
                boot.as_ptr(),
                context,
                0,
                None,
                None,
                None,
            );
        }
        vars.push((setting.key, var as *mut *mut c_char as usize));
    }
    let _ = VARIABLES.set(vars);
}

fn leak_cstr(s: &str) -> &'static CStr {
    Box::leak(CString::new(s).expect("GUC names and defaults have no NUL").into_boxed_c_str())
}

/// The current value of every setting, by key without prefix. Call on the backend's thread.
pub fn settings() -> HashMap<String, String> {
    let mut map = HashMap::new();
    for (name, ptr) in VARIABLES.get().map(Vec::as_slice).unwrap_or(&[]) {
        // SAFETY: `ptr` is one of define()'s leaked `char *` variables, which PostgreSQL keeps
        // pointing at the GUC's current value (or null); read on the backend's thread, which is
        // the only one that sets GUCs
        let value = unsafe { *(*ptr as *const *const c_char) };
        // SAFETY: a non-null GUC string value is NUL-terminated and stays valid until the
        // setting changes, which cannot happen on this thread before the copy is made
        let value = if value.is_null() { String::new() } else { unsafe { CStr::from_ptr(value) }.to_string_lossy().into_owned() };
        map.insert((*name).to_string(), value);
    }
    map
}

/// A fresh `Config` snapshot from the current GUC values.
pub fn config() -> Result<Config, String> {
    let mut config = Config::from_settings(&settings())?;
    config.app_settings = app_settings();
    Ok(config)
}

const APP_SETTINGS_PREFIX: &str = "postgrest.app.settings.";

/// PostgREST's `app.settings.*`: every `postgrest.app.settings.<name>` placeholder this
/// backend knows (from ALTER DATABASE/ROLE ... SET, or a config file), as (`app.settings.<name>`,
/// value). They are free-form, so they are found by walking the GUC table.
fn app_settings() -> Vec<(String, String)> {
    let mut out = vec![];
    // SAFETY: on the backend's thread; get_guc_variables() (PostgreSQL 15's signature, from
    // pgrx's bindings) is an array of GetNumConfigOptions() entries, unchanged during the loop
    // (nothing here defines a GUC). Names and GetConfigOption's result are NUL-terminated C
    // strings, copied before the next call; missing_ok means no ERROR for an unknown name.
    unsafe {
        let vars = pg_sys::get_guc_variables();
        for i in 0..pg_sys::GetNumConfigOptions() as usize {
            let var = *vars.add(i);
            if var.is_null() || (*var).name.is_null() {
                continue;
            }
            let name = CStr::from_ptr((*var).name).to_string_lossy();
            let Some(rest) = name.strip_prefix(APP_SETTINGS_PREFIX) else { continue };
            let value = pg_sys::GetConfigOption((*var).name, true, false);
            if !value.is_null() {
                out.push((format!("app.settings.{rest}"), CStr::from_ptr(value).to_string_lossy().into_owned()));
            }
        }
    }
    out.sort();
    out
}
