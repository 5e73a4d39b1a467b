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
    ("db_hoisted_tx_settings", "statement_timeout,plan_filter.statement_cost_limit,default_transaction_isolation", false),
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
    // accepted so PostgREST configs carry over unchanged; meaningless inside the database
    ("db_uri", "", false),
    ("db_pool", "10", false),
    ("db_pool_acquisition_timeout", "10", false),
    ("db_pool_max_lifetime", "1800", false),
    ("db_pool_max_idletime", "30", false),
    ("db_pool_automatic_recovery", "true", false),
    ("db_channel", "pgrst", false),
    ("db_channel_enabled", "true", false),
    ("log_level", "error", false),
    ("log_query", "disabled", false),
    ("admin_server_host", "", false),
    ("admin_server_port", "", false),
    ("server_unix_socket", "", false),
    ("server_unix_socket_mode", "660", false),
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
