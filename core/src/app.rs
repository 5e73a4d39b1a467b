//! The request pipeline, one function per phase as in PostgREST's `App.hs`:
//! `api_request` (HTTP → ApiRequest) → `main_tx` (plan + SQL: what the transaction must do)
//! → the extension runs it → `respond` (result → HTTP).
//!
//! `HttpRequest`/`HttpResponse` are the narrow boundary with connection handling: plain data,
//! so the code that moves bytes never needs to know about PostgreSQL, and vice versa.

use crate::config::Config;
use crate::error::Error;
use crate::plan;
use crate::request::media_type::MediaType;
use crate::request::{self, ApiRequest, Method, Resource};
use crate::response::{self, ResultSet};
use crate::schema_cache::SchemaCache;
use crate::sql::read::{main_read, BodyHandler};
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
    pub rollback: bool,
    /// how to turn the result into a response
    pub shape: Shape,
}

#[derive(Debug, Clone)]
pub enum Shape {
    Read { media: MediaType, table: String, head: bool },
}

/// What planning decided: run a transaction, or answer from the schema cache alone.
pub enum Planned {
    Run(Box<MainTx>),
    Respond(HttpResponse),
}

pub fn api_request(config: &Config, req: &HttpRequest) -> Result<ApiRequest, Error> {
    request::parse(config, req)
}

/// Requests answered without a transaction (none yet; OPTIONS and CORS come here).
pub fn without_database(_config: &Config, _api: &ApiRequest) -> Option<HttpResponse> {
    None
}

pub fn main_tx(config: &Config, cache: &SchemaCache, api: &ApiRequest) -> Result<Planned, Error> {
    let role = role(config, api)?;
    match (&api.resource, api.method) {
        (Resource::Schema, Method::Get | Method::Head) => Ok(Planned::Respond(root(cache, api))),
        (Resource::Relation(name), Method::Get | Method::Head) => {
            let read = plan::read_plan(config, cache, api, name)?;
            let media = negotiate_read(api)?;
            let handler = match media {
                MediaType::ObjectJson { nulls_stripped } => BodyHandler::JsonObject { nulls_stripped },
                MediaType::ArrayJson { nulls_stripped } => BodyHandler::JsonArray { nulls_stripped },
                MediaType::Csv => BodyHandler::Csv,
                _ => BodyHandler::JsonArray { nulls_stripped: false },
            };
            let count = api.preferences.count.is_some();
            Ok(Planned::Run(Box::new(MainTx {
                read_only: true,
                settings: settings(config, api, &role),
                role,
                pre_request: pre_request(config),
                statement: main_read(&read, count, config.db_max_rows, handler),
                rollback: rollback(config, api),
                shape: Shape::Read { media, table: name.clone(), head: api.method == Method::Head },
            })))
        }
        (Resource::Relation(_), _) | (Resource::Routine(_), _) => {
            Err(Error::NotImplemented(format!("{} on this resource is not available yet", api.raw_method)))
        }
        (Resource::Schema, _) => Err(Error::UnsupportedMethod(api.raw_method.clone())),
    }
}

/// The role of the request: the anonymous role until JWT support lands.
fn role(config: &Config, _api: &ApiRequest) -> Result<String, Error> {
    config.db_anon_role.clone().ok_or(Error::JwtTokenRequired)
}

/// PostgREST's per-request GUCs: claims, method, path, headers, cookies, search_path.
fn settings(config: &Config, api: &ApiRequest, role: &str) -> Vec<(String, String)> {
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
    settings
}

/// `db-pre-request`: `SELECT "schema"."function"()`.
fn pre_request(config: &Config) -> Option<Statement> {
    let name = config.db_pre_request.as_ref()?;
    let quoted = match name.split_once('.') {
        Some((schema, func)) => format!("{}.{}", fragment::ident(schema), fragment::ident(func)),
        None => fragment::ident(name),
    };
    Some(Statement { sql: format!("SELECT {quoted}()"), params: vec![] })
}

fn rollback(config: &Config, api: &ApiRequest) -> bool {
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

/// The media type of a table read: the first acceptable one (PostgREST's `Negotiate.hs`).
fn negotiate_read(api: &ApiRequest) -> Result<MediaType, Error> {
    for m in &api.accept {
        match m {
            MediaType::Any | MediaType::Json => return Ok(MediaType::Json),
            MediaType::ObjectJson { .. } | MediaType::ArrayJson { .. } | MediaType::Csv => return Ok(m.clone()),
            _ => {}
        }
    }
    Err(Error::MediaType(api.accept.iter().map(MediaType::name).collect()))
}

/// `GET /`: a minimal description of the exposed relations until OpenAPI lands.
fn root(cache: &SchemaCache, api: &ApiRequest) -> HttpResponse {
    let mut paths = Map::new();
    for name in cache.table_names(&api.schema) {
        paths.insert(format!("/{name}"), serde_json::json!({}));
    }
    let doc = serde_json::json!({
        "swagger": "2.0",
        "info": {"title": "postgrest_ext", "version": env!("CARGO_PKG_VERSION")},
        "paths": paths,
    });
    HttpResponse {
        status: 200,
        headers: vec![("Content-Type".into(), "application/openapi+json; charset=utf-8".into())],
        body: if api.method == Method::Head { vec![] } else { doc.to_string().into_bytes() },
    }
}

/// The main statement's result → the HTTP response.
pub fn respond(config: &Config, main: &MainTx, api: &ApiRequest, rows: Vec<Vec<Option<String>>>) -> Result<HttpResponse, Error> {
    let _ = config;
    let rs = ResultSet::from_row(rows.first().map(Vec::as_slice).unwrap_or(&[]))?;
    match &main.shape {
        Shape::Read { media, table, head } => {
            if let MediaType::ObjectJson { .. } = media {
                if rs.page_total != 1 {
                    return Err(Error::Singularity(rs.page_total));
                }
            }
            let (status, content_range) =
                request::range::status_and_content_range(&api.top_range, rs.page_total, rs.table_total);
            if status == 416 {
                let total = rs.table_total.unwrap_or(0);
                return Err(Error::InvalidRange(crate::error::RangeError::OutOfBounds(api.top_range.offset, total)));
            }
            let location = if api.query.canonical.is_empty() {
                format!("/{table}")
            } else {
                format!("/{table}?{}", api.query.canonical)
            };
            let mut headers = vec![
                ("Content-Range".to_string(), content_range),
                ("Content-Location".to_string(), location),
                ("Content-Type".to_string(), media.content_type()),
            ];
            if let Some(applied) = api.preferences.applied(false) {
                headers.push(("Preference-Applied".to_string(), applied));
            }
            let (status, headers) = response::override_status_headers(&rs, status, headers)?;
            let body = if *head { vec![] } else { rs.body.into_bytes() };
            Ok(HttpResponse { status, headers, body })
        }
    }
}

pub fn error_response(config: &Config, e: &Error) -> HttpResponse {
    response::error_response(config, e)
}
