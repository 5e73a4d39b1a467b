//! GUCs: PostgREST's config keys as `postgrest.<key with - → _>`, plus our own worker keys.
//!
//! Every setting is a string GUC, exactly as PostgREST reads its config file: the values are
//! parsed and validated in one place, `postgrest_core::config`, so the rules are testable
//! without PostgreSQL. Listener and connection settings are fixed at postmaster start;
//! everything else is reloaded on SIGHUP (`SELECT pg_reload_conf()`).
//!
//! The `postgrest` prefix is deliberately not reserved: PostgREST's `app.settings.*` arrive as
//! free-form `postgrest.app.settings.<name>` placeholders.

use pgrx::pg_sys;
use postgrest_core::config::Config;
use std::collections::HashMap;
use std::ffi::{c_char, CStr, CString};
use std::sync::OnceLock;

/// (name without the `postgrest.` prefix, default, needs a restart)
const SETTINGS: &[(&str, &str, bool)] = &[
    // our own keys, fixed for scripts and tests
    ("db_name", "postgres", true),
    ("db_authenticator_role", "authenticator", true),
    ("workers", "2", true),
    ("server_host", "!4", true),
    ("server_port", "3000", true),
    // PostgREST's keys, PostgREST's defaults
    ("db_schemas", "public", false),
    ("db_anon_role", "", false),
    ("db_max_rows", "", false),
    ("db_extra_search_path", "public", false),
    ("db_pre_request", "", false),
    ("db_pre_config", "", false),
    ("db_tx_end", "commit", false),
    ("db_aggregates_enabled", "false", false),
    ("db_plan_enabled", "false", false),
    ("db_prepared_statements", "true", false),
    ("db_root_spec", "", false),
    ("db_config", "true", false),
    ("jwt_secret", "", false),
    ("jwt_secret_is_base64", "false", false),
    ("jwt_aud", "", false),
    ("jwt_role_claim_key", ".role", false),
    ("jwt_cache_max_entries", "1000", false),
    ("openapi_mode", "follow-privileges", false),
    ("openapi_security_active", "false", false),
    ("openapi_server_proxy_uri", "", false),
    ("server_cors_allowed_origins", "", false),
    ("server_timing_enabled", "false", false),
    ("server_trace_header", "", false),
    ("client_error_verbosity", "verbose", false),
    ("url_use_legacy_target_names", "true", false),
    // test hook: a request to exactly this path panics inside the handler (superuser-only,
    // empty = off). It lets the end-to-end tests prove a panic becomes a 500.
    ("testing_panic_path", "", false),
];

/// The C variables PostgreSQL writes each GUC's current value into, by name.
static VARIABLES: OnceLock<Vec<(&'static str, usize)>> = OnceLock::new();

pub fn define() {
    let mut vars = Vec::with_capacity(SETTINGS.len());
    for (name, default, restart) in SETTINGS {
        let full = leak_cstr(&format!("postgrest.{name}"));
        let boot = leak_cstr(default);
        let var: &'static mut *mut c_char = Box::leak(Box::new(std::ptr::null_mut()));
        let context = if *restart { pg_sys::GucContext::PGC_POSTMASTER } else { pg_sys::GucContext::PGC_SIGHUP };
        let context = if *name == "testing_panic_path" { pg_sys::GucContext::PGC_SUSET } else { context };
        unsafe {
            pg_sys::DefineCustomStringVariable(
                full.as_ptr(),
                c"PostgREST configuration (see PostgREST's config docs for this key)".as_ptr(),
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
        vars.push((*name, var as *mut *mut c_char as usize));
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
        let value = unsafe { *(*ptr as *const *const c_char) };
        let value = if value.is_null() {
            String::new()
        } else {
            unsafe { CStr::from_ptr(value) }.to_string_lossy().into_owned()
        };
        map.insert((*name).to_string(), value);
    }
    map
}

/// A fresh `Config` snapshot from the current GUC values.
pub fn config() -> Result<Config, String> {
    Config::from_settings(&settings())
}
