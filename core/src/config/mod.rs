//! The configuration snapshot: PostgREST's config keys, parsed and validated.
//!
//! The extension hands over the raw string values of its `postgrest.*` GUCs (keys without the
//! prefix, `-` already `_`); this module applies PostgREST's defaults and meanings.

pub mod jspath;
pub mod jwk;
pub mod proxy;

use jspath::RoleClaimKey;
use jwk::JwtKeys;
use proxy::ProxyUri;
use std::collections::HashMap;

/// When a changed value takes effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Apply {
    /// on `SELECT pg_reload_conf()` (SIGHUP)
    Reload,
    /// at server start only (the listener, the workers' database and role)
    Restart,
    /// on reload, and only a superuser may set it (test hooks)
    SuperuserReload,
}

/// One setting: its key (PostgREST's config key with `-` → `_`, the GUC is `postgrest.<key>`),
/// PostgREST's default, when it applies, and what it means.
pub struct Setting {
    pub key: &'static str,
    pub default: &'static str,
    pub apply: Apply,
    pub description: &'static str,
}

const fn setting(key: &'static str, default: &'static str, apply: Apply, description: &'static str) -> Setting {
    Setting { key, default, apply, description }
}

use Apply::{Reload, Restart};

/// Every setting, the one table the GUCs are registered from and defaults are read from.
pub const SETTINGS: &[Setting] = &[
    // our own keys, fixed for scripts and tests
    setting("db_name", "postgres", Restart, "database the workers serve"),
    setting("db_authenticator_role", "authenticator", Restart, "role the workers log in as"),
    setting("workers", "2", Restart, "executors kept warm (each counts against max_worker_processes)"),
    setting("server_host", "!4", Restart, "listen address (!4 any IPv4, !6 any IPv6)"),
    setting("server_port", "3000", Restart, "listen port"),
    // PostgREST's keys, PostgREST's defaults
    setting("db_schemas", "public", Reload, "exposed schemas; the first is the default"),
    setting("db_anon_role", "", Reload, "role for requests without a JWT"),
    setting("db_max_rows", "", Reload, "cap on rows returned by a read"),
    setting("db_extra_search_path", "public", Reload, "schemas appended to the request's search_path"),
    setting("db_pre_request", "", Reload, "function called before each request"),
    setting("db_pre_config", "", Reload, "accepted for compatibility"),
    setting("db_tx_end", "commit", Reload, "commit, rollback, or *-allow-override (Prefer: tx=)"),
    setting("db_aggregates_enabled", "false", Reload, "allow aggregates in select="),
    setting("db_plan_enabled", "false", Reload, "allow Accept: application/vnd.pgrst.plan"),
    setting("db_prepared_statements", "true", Reload, "accepted for compatibility; plans are always kept"),
    setting("db_root_spec", "", Reload, "function answering GET /"),
    setting("db_config", "true", Reload, "accepted for compatibility"),
    setting(
        "db_hoisted_tx_settings",
        "statement_timeout,plan_filter.statement_cost_limit,default_transaction_isolation",
        Reload,
        "function settings applied to the transaction",
    ),
    setting("jwt_secret", "", Reload, "HMAC secret, or a JWK / JWK set"),
    setting("jwt_secret_is_base64", "false", Reload, "the secret is base64"),
    setting("jwt_aud", "", Reload, "required aud claim"),
    setting("jwt_role_claim_key", ".role", Reload, "where the role is in the claims (JSONPath)"),
    setting("jwt_cache_max_entries", "1000", Reload, "verified tokens kept"),
    setting("openapi_mode", "follow-privileges", Reload, "follow-privileges, ignore-privileges or disabled"),
    setting("openapi_security_active", "false", Reload, "add security definitions to the document"),
    setting("openapi_server_proxy_uri", "", Reload, "host, base path and scheme in the document"),
    setting("server_cors_allowed_origins", "", Reload, "origins allowed by CORS (empty: all)"),
    setting("server_timing_enabled", "false", Reload, "Server-Timing header"),
    setting(
        "server_inflight_body_mb",
        "auto",
        Reload,
        "MB of request bodies read or run at once (auto: a sixteenth of the memory, at least 64 MB); beyond it requests wait, then 503 PGRST004",
    ),
    setting("server_trace_header", "", Reload, "request header echoed in the response"),
    setting("client_error_verbosity", "verbose", Reload, "minimal drops details and hint from errors"),
    setting("url_use_legacy_target_names", "true", Reload, "accepted for compatibility"),
    // accepted so PostgREST configs carry over unchanged; meaningless inside the database
    setting("db_uri", "", Reload, "not used: the workers run inside the database"),
    setting("db_pool", "10", Reload, "most executors running at once (capped by max_worker_processes)"),
    setting("db_pool_acquisition_timeout", "10", Reload, "seconds a request waits for a free executor, then 504 PGRST003"),
    setting("db_pool_max_lifetime", "1800", Reload, "seconds an executor serves before it retires at its next idle moment, warm ones too (a new one starts with empty caches)"),
    setting("db_pool_max_idletime", "30", Reload, "seconds an executor beyond the warm ones stays idle before it retires"),
    setting("db_pool_automatic_recovery", "true", Reload, "accepted for compatibility"),
    setting("db_channel", "pgrst", Reload, "accepted for compatibility"),
    setting("db_channel_enabled", "true", Reload, "accepted for compatibility"),
    setting("log_level", "error", Reload, "accepted for compatibility"),
    setting("log_query", "disabled", Reload, "accepted for compatibility"),
    setting("admin_server_host", "", Reload, "accepted for compatibility"),
    setting("admin_server_port", "", Reload, "accepted for compatibility"),
    setting("server_unix_socket", "", Reload, "accepted for compatibility"),
    setting("server_unix_socket_mode", "660", Reload, "accepted for compatibility"),
    // test hook: a request to exactly this path panics inside the handler (empty = off). It
    // lets the end-to-end tests prove a panic becomes a 500.
    setting("testing_panic_path", "", Apply::SuperuserReload, "test hook: this path panics"),
];

/// The default of `key` (empty for an unknown key).
pub fn default_of(key: &str) -> &'static str {
    SETTINGS.iter().find(|s| s.key == key).map_or("", |s| s.default)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxEnd {
    Commit,
    CommitAllowOverride,
    Rollback,
    RollbackAllowOverride,
}

/// `openapi-mode`: what `GET /` describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenApiMode {
    /// only the tables and functions the request's role has some privilege on
    FollowPrivileges,
    /// everything in the schema cache for the schema
    IgnorePrivileges,
    /// `GET /` answers 404 PGRST126
    Disabled,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub db_name: String,
    pub db_authenticator_role: String,
    /// `workers`: executors kept warm
    pub workers: u32,
    /// `db-pool`: most executors at once
    pub db_pool: usize,
    pub db_pool_acquisition_timeout: std::time::Duration,
    pub db_pool_max_idletime: std::time::Duration,
    pub db_pool_max_lifetime: std::time::Duration,
    pub server_host: String,
    pub server_port: u16,
    pub db_schemas: Vec<String>,
    pub db_anon_role: Option<String>,
    pub db_max_rows: Option<i64>,
    pub db_extra_search_path: Vec<String>,
    pub db_hoisted_tx_settings: Vec<String>,
    pub db_pre_request: Option<String>,
    /// `db-root-spec`: a function answering `GET /` instead of the OpenAPI document
    pub db_root_spec: Option<String>,
    pub db_tx_end: TxEnd,
    pub db_aggregates_enabled: bool,
    pub db_plan_enabled: bool,
    /// `jwt-secret` (decoded from base64 first with `jwt-secret-is-base64`), parsed into keys
    pub jwt_keys: Option<JwtKeys>,
    /// `jwt-aud`: the audience a token's `aud` claim must name, when set
    pub jwt_aud: Option<String>,
    pub jwt_role_claim_key: RoleClaimKey,
    /// `jwt-cache-max-entries`: verified tokens kept per worker; 0 turns the cache off
    pub jwt_cache_max_entries: usize,
    pub client_error_verbose: bool,
    pub server_timing_enabled: bool,
    /// `server-inflight-body-mb` in bytes; None = auto (the front sizes it from the memory)
    pub server_inflight_body: Option<u64>,
    pub server_cors_allowed_origins: Vec<String>,
    /// a request header echoed in the response (e.g. X-Request-Id)
    pub server_trace_header: Option<String>,
    pub url_use_legacy_target_names: bool,
    pub openapi_mode: OpenApiMode,
    /// `openapi-security-active`: describe the JWT bearer scheme in the OpenAPI document
    pub openapi_security_active: bool,
    /// `openapi-server-proxy-uri`
    pub openapi_server_proxy_uri: Option<ProxyUri>,
    pub testing_panic_path: Option<String>,
    /// PostgREST's `app.settings.*` as (GUC name, value), set in every request's transaction
    pub app_settings: Vec<(String, String)>,
}

impl Default for Config {
    fn default() -> Self {
        Config::from_settings(&HashMap::new()).expect("the defaults are valid")
    }
}

impl Config {
    pub fn from_settings(s: &HashMap<String, String>) -> Result<Config, String> {
        let get = |k: &str| -> String { s.get(k).map_or(default_of(k), |v| v.trim()).to_string() };
        let opt = |k: &str| -> Option<String> { Some(get(k)).filter(|v| !v.is_empty()) };
        let boolean = |k: &str| -> Result<bool, String> {
            match get(k).to_ascii_lowercase().as_str() {
                "true" | "on" | "yes" | "1" => Ok(true),
                "false" | "off" | "no" | "0" => Ok(false),
                other => Err(format!("postgrest.{k}: expected a boolean, got '{other}'")),
            }
        };
        let number = |k: &str| -> Result<i64, String> { get(k).parse::<i64>().map_err(|_| format!("postgrest.{k}: expected an integer")) };
        let db_tx_end = match get("db_tx_end").as_str() {
            "commit" => TxEnd::Commit,
            "commit-allow-override" => TxEnd::CommitAllowOverride,
            "rollback" => TxEnd::Rollback,
            "rollback-allow-override" => TxEnd::RollbackAllowOverride,
            other => return Err(format!("postgrest.db_tx_end: invalid value '{other}'")),
        };
        let verbosity = match get("client_error_verbosity").as_str() {
            "verbose" => true,
            "minimal" => false,
            other => return Err(format!("postgrest.client_error_verbosity: invalid value '{other}'")),
        };
        let schemas = split_list(&get("db_schemas"));
        if schemas.is_empty() {
            return Err("postgrest.db_schemas: at least one schema is needed".into());
        }
        // PostgREST refuses a configuration whose JWT secret or role claim key it cannot use
        let jwt_keys = match opt("jwt_secret") {
            Some(secret) => {
                Some(JwtKeys::parse(&secret, boolean("jwt_secret_is_base64")?).map_err(|e| format!("postgrest.jwt_secret: {e}"))?)
            }
            None => None,
        };
        Ok(Config {
            db_name: get("db_name"),
            db_authenticator_role: get("db_authenticator_role"),
            workers: number("workers")?.clamp(1, 64) as u32,
            db_pool: number("db_pool")?.clamp(1, 1024) as usize,
            db_pool_acquisition_timeout: std::time::Duration::from_secs(number("db_pool_acquisition_timeout")?.clamp(0, 86_400) as u64),
            db_pool_max_idletime: std::time::Duration::from_secs(number("db_pool_max_idletime")?.clamp(0, 86_400) as u64),
            // at least a second: retiring executors at every tick would only churn them
            db_pool_max_lifetime: std::time::Duration::from_secs(number("db_pool_max_lifetime")?.clamp(1, 31_536_000) as u64),
            server_host: get("server_host"),
            server_port: u16::try_from(number("server_port")?).map_err(|_| "postgrest.server_port: out of range".to_string())?,
            db_schemas: schemas,
            db_anon_role: opt("db_anon_role"),
            db_max_rows: match opt("db_max_rows") {
                None => None,
                Some(v) => Some(v.parse::<i64>().map_err(|_| "postgrest.db_max_rows: expected an integer")?),
            },
            db_extra_search_path: split_list(&get("db_extra_search_path")),
            db_hoisted_tx_settings: split_list(&get("db_hoisted_tx_settings")),
            db_pre_request: opt("db_pre_request"),
            db_root_spec: opt("db_root_spec"),
            db_tx_end,
            db_aggregates_enabled: boolean("db_aggregates_enabled")?,
            db_plan_enabled: boolean("db_plan_enabled")?,
            jwt_keys,
            jwt_aud: opt("jwt_aud"),
            jwt_role_claim_key: RoleClaimKey::parse(&get("jwt_role_claim_key"))?,
            jwt_cache_max_entries: number("jwt_cache_max_entries")?.max(0) as usize,
            client_error_verbose: verbosity,
            server_timing_enabled: boolean("server_timing_enabled")?,
            server_inflight_body: match get("server_inflight_body_mb").as_str() {
                "auto" | "" => None,
                mb => Some(
                    mb.parse::<u64>()
                        .ok()
                        .filter(|mb| *mb > 0)
                        .ok_or_else(|| format!("postgrest.server_inflight_body_mb: expected auto or a number of MB, got '{mb}'"))?
                        .saturating_mul(1 << 20),
                ),
            },
            server_cors_allowed_origins: split_list(&get("server_cors_allowed_origins")),
            server_trace_header: opt("server_trace_header"),
            url_use_legacy_target_names: boolean("url_use_legacy_target_names")?,
            openapi_mode: match get("openapi_mode").as_str() {
                "follow-privileges" => OpenApiMode::FollowPrivileges,
                "ignore-privileges" => OpenApiMode::IgnorePrivileges,
                "disabled" => OpenApiMode::Disabled,
                _ => return Err("Invalid openapi-mode. Check your configuration.".into()),
            },
            openapi_security_active: boolean("openapi_security_active")?,
            openapi_server_proxy_uri: match opt("openapi_server_proxy_uri") {
                Some(uri) => {
                    Some(ProxyUri::parse(&uri).ok_or("Malformed proxy uri, a correct example: https://example.com:8443/basePath")?)
                }
                None => None,
            },
            testing_panic_path: opt("testing_panic_path"),
            app_settings: vec![],
        })
    }

    /// The address to listen on; PostgREST's special hosts `!4`/`*4` (any IPv4) and
    /// `!6`/`*6`/`*` (any IPv6) included.
    pub fn listen_address(&self) -> String {
        let host = match self.server_host.as_str() {
            "!4" | "*4" => "0.0.0.0",
            "!6" | "*6" | "*" => "::",
            "localhost" => "127.0.0.1",
            h => h,
        };
        if host.contains(':') {
            format!("[{host}]:{}", self.server_port)
        } else {
            format!("{host}:{}", self.server_port)
        }
    }
}

/// `a, b ,c` → [a, b, c]; PostgREST trims the elements of its list settings.
fn split_list(v: &str) -> Vec<String> {
    v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_postgrests() {
        let c = Config::default();
        assert_eq!(c.db_schemas, vec!["public"]);
        assert_eq!(c.server_port, 3000);
        assert_eq!(c.listen_address(), "0.0.0.0:3000");
        assert_eq!(c.db_tx_end, TxEnd::Commit);
        assert!(c.db_anon_role.is_none());
    }

    #[test]
    fn schema_lists_keep_special_names() {
        let s = HashMap::from([("db_schemas".to_string(), "v1, v2,SPECIAL \"@/\\#~_-".to_string())]);
        assert_eq!(Config::from_settings(&s).unwrap().db_schemas, vec!["v1", "v2", "SPECIAL \"@/\\#~_-"]);
    }

    #[test]
    fn invalid_values_are_rejected() {
        let s = HashMap::from([("db_tx_end".to_string(), "sometimes".to_string())]);
        assert!(Config::from_settings(&s).is_err());
    }
}
