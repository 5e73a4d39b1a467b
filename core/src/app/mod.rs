//! The request pipeline, one function per phase as in PostgREST's `App.hs`:
//! `api_request` (HTTP → ApiRequest) → `main_tx` (plan + SQL: what the transaction must do)
//! → the extension runs it → `respond` (result → HTTP).
//!
//! `HttpRequest`/`HttpResponse` are the narrow boundary with connection handling: plain data,
//! so the code that moves bytes never needs to know about PostgreSQL, and vice versa.

pub mod call;
pub mod read;
pub mod write;

use crate::config::Config;
use crate::error::Error;
use crate::request::{self, ApiRequest, Method, Resource};
use crate::response::{self, ResultSet};
use crate::schema_cache::SchemaCache;
use crate::sql::{fragment, Statement};
use serde_json::{Map, Value};

#[derive(Debug, Clone, Default)]
pub struct HttpRequest {
    pub method: String,
    /// raw (percent-encoded) path
    pub path: String,
    /// raw query string, without '?'
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What one request's transaction must do: switch role, set the request GUCs, run the
/// pre-request function and the main statement, then commit or roll back.
#[derive(Debug, Clone)]
pub struct MainTx {
    pub read_only: bool,
    pub role: String,
    /// set with `set_config(name, value, true)` after the role
    pub settings: Vec<(String, String)>,
    pub pre_request: Option<Statement>,
    pub statement: Statement,
    /// run after the statement; its JSON plan gives `Prefer: count=planned|estimated`
    pub explain: Option<Statement>,
    pub rollback: bool,
    /// how to turn the result into a response
    pub shape: Shape,
}

/// What the response of each kind of action needs to know besides the result row.
#[derive(Debug, Clone)]
pub enum Shape {
    Read(read::ReadShape),
    Write(write::WriteShape),
    Call(call::CallShape),
}

/// What planning decided: run a transaction, or answer from the schema cache alone.
pub enum Planned {
    Run(Box<MainTx>),
    Respond(HttpResponse),
}

pub fn api_request(config: &Config, req: &HttpRequest) -> Result<ApiRequest, Error> {
    request::parse(config, req)
}

/// CORS preflights are answered before anything else (PostgREST's CORS middleware).
pub fn preflight(config: &Config, req: &HttpRequest) -> Option<HttpResponse> {
    response::cors::preflight(&config.server_cors_allowed_origins, &req.method, &req.headers)
}

/// Headers of every successful response (PostgREST's `toWaiResponse` and `contentTypeHeaders`):
/// `Content-Profile` when the schema was negotiated, and `Vary` unless the SQL set one.
pub fn success(api: &ApiRequest, mut response: HttpResponse) -> HttpResponse {
    let has = |r: &HttpResponse, name: &str| r.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name));
    if api.negotiated_by_profile && has(&response, "Content-Type") {
        response.headers.push(("Content-Profile".into(), api.schema.clone()));
    }
    if !has(&response, "Vary") {
        response.headers.push(("Vary".into(), "Accept, Prefer, Range".into()));
    }
    response
}

/// Headers every response gets whatever produced it: CORS for requests with an Origin.
pub fn finish(config: &Config, req: &HttpRequest, mut response: HttpResponse) -> HttpResponse {
    response::cors::decorate(&config.server_cors_allowed_origins, &req.headers, &mut response);
    response
}

pub fn main_tx(config: &Config, cache: &SchemaCache, api: &ApiRequest) -> Result<Planned, Error> {
    let role = role(config, api)?;
    match (&api.resource, api.method) {
        (Resource::Schema, Method::Get | Method::Head) => root(cache, api).map(Planned::Respond),
        (Resource::Relation(name), Method::Get | Method::Head) => read::main_tx(config, cache, api, name, role),
        (Resource::Relation(name), Method::Post | Method::Patch | Method::Put | Method::Delete) => {
            write::main_tx(config, cache, api, name, role)
        }
        (Resource::Routine(name), Method::Get | Method::Head | Method::Post) => call::main_tx(config, cache, api, name, role),
        (_, Method::Options) => options(cache, api).map(Planned::Respond),
        (Resource::Schema, _) => Err(Error::UnsupportedMethod(api.raw_method.clone())),
        (Resource::Routine(_), _) => Err(Error::InvalidRpcMethod(api.raw_method.clone())),
    }
}

/// `OPTIONS`: the methods a resource allows (PostgREST's `respondInfo`), from the cache alone.
fn options(cache: &SchemaCache, api: &ApiRequest) -> Result<HttpResponse, Error> {
    let allow = match &api.resource {
        Resource::Schema => "OPTIONS,GET,HEAD".to_string(),
        Resource::Relation(name) => {
            let t = crate::plan::find_table(cache, &api.schema, name)?;
            let mut methods = vec!["OPTIONS,GET,HEAD"];
            if t.insertable {
                methods.push("POST");
            }
            if t.insertable && t.updatable && !t.pk_cols.is_empty() {
                methods.push("PUT");
            }
            if t.updatable {
                methods.push("PATCH");
            }
            if t.deletable {
                methods.push("DELETE");
            }
            methods.join(",")
        }
        Resource::Routine(name) => {
            let qi = crate::schema_cache::QualifiedIdentifier { schema: api.schema.clone(), name: name.clone() };
            match cache.routines(&qi).first() {
                Some(r) if r.volatility == crate::schema_cache::FuncVolatility::Volatile => "OPTIONS,POST".into(),
                Some(_) => "OPTIONS,GET,HEAD,POST".into(),
                None => {
                    return Err(Error::NoRpc(Box::new(crate::error::NoRpc {
                        schema: api.schema.clone(),
                        name: name.clone(),
                        arg_keys: vec![],
                        content_type: "application/json".into(),
                        is_inv_post: false,
                        hint: None,
                    })))
                }
            }
        }
    };
    Ok(HttpResponse {
        status: 200,
        headers: vec![("Access-Control-Allow-Origin".into(), "*".into()), ("Allow".into(), allow)],
        body: vec![],
    })
}

/// A transaction for `statement` with the request's role, GUCs, pre-request and tx end.
pub fn main_tx_for(config: &Config, api: &ApiRequest, role: String, read_only: bool, statement: Statement, shape: Shape) -> MainTx {
    MainTx {
        read_only,
        settings: settings(config, api, &role),
        role,
        pre_request: pre_request(config),
        statement,
        explain: None,
        rollback: rollback(config, api),
        shape,
    }
}

/// The role of the request: the anonymous role until JWT support lands.
fn role(config: &Config, _api: &ApiRequest) -> Result<String, Error> {
    config.db_anon_role.clone().ok_or(Error::JwtTokenRequired)
}

/// PostgREST's per-request GUCs: claims, method, path, headers, cookies, search_path.
pub fn settings(config: &Config, api: &ApiRequest, role: &str) -> Vec<(String, String)> {
    let obj = |pairs: &[(String, String)]| -> String {
        let map: Map<String, Value> = pairs.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
        Value::Object(map).to_string()
    };
    let search_path: Vec<String> = std::iter::once(&api.schema)
        .chain(config.db_extra_search_path.iter())
        .map(|s| fragment::ident(s))
        .collect();
    let mut settings = vec![
        ("request.jwt.claims".into(), serde_json::json!({ "role": role }).to_string()),
        ("request.method".into(), api.raw_method.clone()),
        ("request.path".into(), api.path.clone()),
        ("request.headers".into(), obj(&api.headers)),
        ("request.cookies".into(), obj(&api.cookies)),
        ("search_path".into(), search_path.join(", ")),
    ];
    settings.extend(config.app_settings.iter().cloned());
    // Prefer: timezone= is applied as the transaction's TimeZone; PostgreSQL rejects bad zones
    if let Some(tz) = &api.preferences.timezone {
        settings.push(("timezone".into(), tz.clone()));
    }
    settings
}

/// `db-pre-request`: `SELECT "schema"."function"()`.
pub fn pre_request(config: &Config) -> Option<Statement> {
    let name = config.db_pre_request.as_ref()?;
    let quoted = match name.split_once('.') {
        Some((schema, func)) => format!("{}.{}", fragment::ident(schema), fragment::ident(func)),
        None => fragment::ident(name),
    };
    Some(Statement { sql: format!("SELECT {quoted}()"), params: vec![] })
}

pub fn rollback(config: &Config, api: &ApiRequest) -> bool {
    use crate::config::TxEnd::*;
    use crate::request::preferences::Transaction;
    match (config.db_tx_end, api.preferences.transaction) {
        (Commit, _) => false,
        (Rollback, _) => true,
        (CommitAllowOverride | RollbackAllowOverride, Some(Transaction::Commit)) => false,
        (CommitAllowOverride | RollbackAllowOverride, Some(Transaction::Rollback)) => true,
        (CommitAllowOverride, None) => false,
        (RollbackAllowOverride, None) => true,
    }
}

/// `GET /`: a minimal description of the exposed relations until OpenAPI lands.
fn root(cache: &SchemaCache, api: &ApiRequest) -> Result<HttpResponse, Error> {
    use crate::request::media_type::MediaType;
    if !api.accept.iter().any(|m| matches!(m, MediaType::Any | MediaType::Json | MediaType::OpenApi)) {
        return Err(Error::MediaType(api.accept.iter().map(MediaType::name).collect()));
    }
    let mut paths = Map::new();
    for name in cache.table_names(&api.schema) {
        paths.insert(format!("/{name}"), serde_json::json!({}));
    }
    let doc = serde_json::json!({
        "swagger": "2.0",
        "info": {"title": "postgrest_ext", "version": env!("CARGO_PKG_VERSION")},
        "paths": paths,
    });
    Ok(HttpResponse {
        status: 200,
        headers: vec![("Content-Type".into(), "application/openapi+json; charset=utf-8".into())],
        body: if api.method == Method::Head { vec![] } else { doc.to_string().into_bytes() },
    })
}

/// The main statement's result (and the explain's, if any) → the HTTP response.
pub fn respond(config: &Config, main: &MainTx, api: &ApiRequest, rows: Vec<Vec<Option<String>>>, explain: Option<String>) -> Result<HttpResponse, Error> {
    let mut rs = ResultSet::from_row(rows.first().map(Vec::as_slice).unwrap_or(&[]))?;
    rs.table_total = response::counted_total(rs.table_total, explain.as_deref(), api.preferences.count, config.db_max_rows);
    match &main.shape {
        Shape::Read(shape) => read::respond(config, shape, api, rs),
        Shape::Write(shape) => write::respond(config, shape, api, rs),
        Shape::Call(shape) => call::respond(config, shape, api, rs),
    }
}

pub fn error_response(config: &Config, e: &Error) -> HttpResponse {
    response::error_response(config, e)
}
