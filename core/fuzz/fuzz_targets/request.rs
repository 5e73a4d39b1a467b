//! Fuzzes the whole request phase: an arbitrary method, path, query string, headers and body
//! go through `postgrest_core::request::parse` (path, query parameters, Range, Prefer, Accept,
//! profiles, cookies, payload) and authentication then `app::parse_request`; a request that parses is
//! then planned and turned into SQL against the schema cache of PostgREST's test fixtures.
//! Every outcome must be a value or an `Error`: never a panic, an overflow or a stack overflow.
//!
//! Input layout: an HTTP/1-like text, so that seeds can be written by hand:
//! `[<config digit> ]<METHOD> <path>[?<query>]` on the first line, then `Name: value` header
//! lines, an empty line, and the body (any bytes). The config digit picks one of `configs()`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use postgrest_core::app;
use postgrest_core::auth::{self, JwtCache};
use postgrest_core::http::HttpRequest;
use postgrest_core::config::Config;
use postgrest_core::schema_cache::SchemaCache;
use std::collections::HashMap;
use std::sync::OnceLock;

fn configs() -> &'static [Config] {
    static CONFIGS: OnceLock<Vec<Config>> = OnceLock::new();
    CONFIGS.get_or_init(|| {
        let sets: &[&[(&str, &str)]] = &[
            &[("db_schemas", "test"), ("db_anon_role", "postgrest_test_anonymous")],
            &[
                ("db_schemas", "test, v1, v2"),
                ("db_anon_role", "postgrest_test_anonymous"),
                ("db_tx_end", "rollback-allow-override"),
                ("db_max_rows", "5"),
                ("db_aggregates_enabled", "true"),
                ("db_plan_enabled", "true"),
                ("jwt_secret", "reallyreallyreallyreallyverysafe"),
                ("server_trace_header", "X-Request-Id"),
                ("server_cors_allowed_origins", "http://example.com"),
            ],
            &[("db_schemas", "test"), ("db_root_spec", "root"), ("db_pre_request", "test.switch_role")],
            &[("db_schemas", "test"), ("openapi_mode", "disabled"), ("db_max_rows", "0")],
        ];
        sets.iter()
            .map(|set| {
                let s: HashMap<String, String> = set.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
                Config::from_settings(&s).expect("valid fuzz config")
            })
            .collect()
    })
}

fn cache() -> &'static SchemaCache {
    static CACHE: OnceLock<SchemaCache> = OnceLock::new();
    CACHE.get_or_init(|| {
        SchemaCache::fixture()
    })
}

fn build(data: &[u8]) -> (usize, HttpRequest) {
    let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(i) => (&data[..i], &data[i + 2..]),
        None => (data, &b""[..]),
    };
    let head = String::from_utf8_lossy(head);
    let mut lines = head.split('\n');
    let mut first = lines.next().unwrap_or("");
    let mut config = 0;
    if let Some(d) = first.chars().next().and_then(|c| c.to_digit(10)) {
        if first[1..].starts_with(' ') {
            config = d as usize % configs().len();
            first = &first[2..];
        }
    }
    let (method, target) = first.split_once(' ').unwrap_or((first, "/"));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let headers = lines
        .map(|l| l.split_once(':').map_or((l, ""), |(k, v)| (k, v.trim_start())))
        .collect();
    let req = HttpRequest { method: method.to_string(), path: path.to_string(), query: query.to_string(), headers, body: body.to_vec() };
    (config, req)
}

fuzz_target!(|data: &[u8]| {
    let (config, req) = build(data);
    let config = &configs()[config];
    let _ = postgrest_core::request::parse(config, &req);
    let _ = app::preflight(config, &req);
    static JWT: std::sync::OnceLock<JwtCache> = std::sync::OnceLock::new();
    let parsed = auth::authenticate(config, JWT.get_or_init(JwtCache::new), &req.headers).and_then(|a| app::parse_request(config, &req, a));
    if let Ok(api) = parsed {
        let _ = app::main_tx(config, cache(), &api);
    }
});
