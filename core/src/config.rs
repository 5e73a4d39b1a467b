//! The configuration snapshot: PostgREST's config keys, parsed and validated.
//!
//! The extension hands over the raw string values of its `postgrest.*` GUCs (keys without the
//! prefix, `-` already `_`); this module applies PostgREST's defaults and meanings.

use std::collections::HashMap;

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
    pub workers: u32,
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
    pub jwt_secret: Option<String>,
    /// `jwt-secret-is-base64`: the secret is base64 (URL-safe characters allowed)
    pub jwt_secret_is_base64: bool,
    /// `jwt-aud`: the audience a token's `aud` claim must name, when set
    pub jwt_aud: Option<String>,
    pub jwt_role_claim_key: String,
    /// `jwt-cache-max-entries`: verified tokens kept per worker; 0 turns the cache off
    pub jwt_cache_max_entries: usize,
    pub client_error_verbose: bool,
    pub server_timing_enabled: bool,
    pub server_cors_allowed_origins: Vec<String>,
    /// a request header echoed in the response (e.g. X-Request-Id)
    pub server_trace_header: Option<String>,
    pub url_use_legacy_target_names: bool,
    pub openapi_mode: OpenApiMode,
    /// `openapi-security-active`: describe the JWT bearer scheme in the OpenAPI document
    pub openapi_security_active: bool,
    /// `openapi-server-proxy-uri`: validated at load (`crate::openapi::ProxyUri::parse`)
    pub openapi_server_proxy_uri: Option<String>,
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
        let get = |k: &str, default: &str| -> String { s.get(k).map(|v| v.trim().to_string()).unwrap_or_else(|| default.to_string()) };
        let opt = |k: &str| -> Option<String> { Some(get(k, "")).filter(|v| !v.is_empty()) };
        let boolean = |k: &str, default: bool| -> Result<bool, String> {
            match get(k, if default { "true" } else { "false" }).to_ascii_lowercase().as_str() {
                "true" | "on" | "yes" | "1" => Ok(true),
                "false" | "off" | "no" | "0" => Ok(false),
                other => Err(format!("postgrest.{k}: expected a boolean, got '{other}'")),
            }
        };
        let number = |k: &str, default: &str| -> Result<i64, String> {
            get(k, default).parse::<i64>().map_err(|_| format!("postgrest.{k}: expected an integer"))
        };
        let db_tx_end = match get("db_tx_end", "commit").as_str() {
            "commit" => TxEnd::Commit,
            "commit-allow-override" => TxEnd::CommitAllowOverride,
            "rollback" => TxEnd::Rollback,
            "rollback-allow-override" => TxEnd::RollbackAllowOverride,
            other => return Err(format!("postgrest.db_tx_end: invalid value '{other}'")),
        };
        let verbosity = match get("client_error_verbosity", "verbose").as_str() {
            "verbose" => true,
            "minimal" => false,
            other => return Err(format!("postgrest.client_error_verbosity: invalid value '{other}'")),
        };
        let schemas = split_list(&get("db_schemas", "public"));
        if schemas.is_empty() {
            return Err("postgrest.db_schemas: at least one schema is needed".into());
        }
        // PostgREST refuses a configuration whose JWT secret or role claim key it cannot use
        crate::auth::check_config(
            opt("jwt_secret").as_deref(),
            boolean("jwt_secret_is_base64", false)?,
            &get("jwt_role_claim_key", ".role"),
        )?;
        Ok(Config {
            db_name: get("db_name", "postgres"),
            db_authenticator_role: get("db_authenticator_role", "authenticator"),
            workers: number("workers", "2")?.clamp(1, 64) as u32,
            server_host: get("server_host", "!4"),
            server_port: u16::try_from(number("server_port", "3000")?).map_err(|_| "postgrest.server_port: out of range".to_string())?,
            db_schemas: schemas,
            db_anon_role: opt("db_anon_role"),
            db_max_rows: match opt("db_max_rows") {
                None => None,
                Some(v) => Some(v.parse::<i64>().map_err(|_| "postgrest.db_max_rows: expected an integer")?),
            },
            db_extra_search_path: split_list(&get("db_extra_search_path", "public")),
            db_hoisted_tx_settings: split_list(&get(
                "db_hoisted_tx_settings",
                "statement_timeout,plan_filter.statement_cost_limit,default_transaction_isolation",
            )),
            db_pre_request: opt("db_pre_request"),
            db_root_spec: opt("db_root_spec"),
            db_tx_end,
            db_aggregates_enabled: boolean("db_aggregates_enabled", false)?,
            db_plan_enabled: boolean("db_plan_enabled", false)?,
            jwt_secret: opt("jwt_secret"),
            jwt_secret_is_base64: boolean("jwt_secret_is_base64", false)?,
            jwt_aud: opt("jwt_aud"),
            jwt_role_claim_key: get("jwt_role_claim_key", ".role"),
            jwt_cache_max_entries: number("jwt_cache_max_entries", "1000")?.max(0) as usize,
            client_error_verbose: verbosity,
            server_timing_enabled: boolean("server_timing_enabled", false)?,
            server_cors_allowed_origins: split_list(&get("server_cors_allowed_origins", "")),
            server_trace_header: opt("server_trace_header"),
            url_use_legacy_target_names: boolean("url_use_legacy_target_names", true)?,
            openapi_mode: match get("openapi_mode", "follow-privileges").as_str() {
                "follow-privileges" => OpenApiMode::FollowPrivileges,
                "ignore-privileges" => OpenApiMode::IgnorePrivileges,
                "disabled" => OpenApiMode::Disabled,
                _ => return Err("Invalid openapi-mode. Check your configuration.".into()),
            },
            openapi_security_active: boolean("openapi_security_active", false)?,
            openapi_server_proxy_uri: match opt("openapi_server_proxy_uri") {
                Some(uri) if crate::openapi::ProxyUri::parse(&uri).is_none() => {
                    return Err("Malformed proxy uri, a correct example: https://example.com:8443/basePath".into())
                }
                uri => uri,
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
