//! The request pipeline, one function per phase as in PostgREST's `App.hs`:
//! `api_request` (HTTP → ApiRequest) → `main_tx` (plan + SQL: what the transaction must do)
//! → the extension runs it → `respond` (result → HTTP).
//!
//! `HttpRequest`/`HttpResponse` are the narrow boundary with connection handling: plain data,
//! so the code that moves bytes never needs to know about PostgreSQL, and vice versa.

pub mod call;
pub mod plan;
pub mod read;
pub mod root;
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
    Plan(plan::PlanShape),
    OpenApi(root::OpenApiShape),
}

/// What planning decided: run a transaction, or answer from the schema cache alone.
pub enum Planned {
    Run(Box<MainTx>),
    Respond(HttpResponse),
}

pub fn api_request(config: &Config, req: &HttpRequest) -> Result<ApiRequest, Error> {
    let auth = authenticate(config, req)?;
    parse_request(config, req, auth)
}

/// The JWT phase: PostgREST authenticates before it looks at anything else of the request.
pub fn authenticate(config: &Config, req: &HttpRequest) -> Result<crate::auth::Auth, Error> {
    crate::auth::authenticate(config, &req.headers)
}

/// The parse phase, once authenticated.
pub fn parse_request(config: &Config, req: &HttpRequest, auth: crate::auth::Auth) -> Result<ApiRequest, Error> {
    let mut api = request::parse(config, req)?;
    api.auth = auth;
    Ok(api)
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
    // server-trace-header: the request's trace id goes back in the response
    if let Some(name) = &config.server_trace_header {
        if let Some((_, v)) = req.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)) {
            response.headers.push((name.clone(), v.clone()));
        }
    }
    response
}

pub fn main_tx(config: &Config, cache: &SchemaCache, api: &ApiRequest) -> Result<Planned, Error> {
    if let Some((media, planned_api)) = plan::plan_request(config, api) {
        return match action(config, cache, &planned_api)? {
            Planned::Run(mut main) => {
                plan::wrap(&mut main, media);
                Ok(Planned::Run(main))
            }
            answered => Ok(answered),
        };
    }
    action(config, cache, api)
}

/// The plan of each kind of action.
fn action(config: &Config, cache: &SchemaCache, api: &ApiRequest) -> Result<Planned, Error> {
    let role = role(config, api)?;
    match (&api.resource, api.method) {
        // PostgREST refuses any request to the root when the document is disabled
        (Resource::Schema, _) if config.openapi_mode == crate::config::OpenApiMode::Disabled => Err(Error::OpenApiDisabled),
        (Resource::Schema, Method::Get | Method::Head) => root::main_tx(config, cache, api, role),
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

/// The role of the request, from its JWT or the anonymous role (`crate::auth`).
fn role(_config: &Config, api: &ApiRequest) -> Result<String, Error> {
    Ok(api.auth.role.clone())
}

/// PostgREST's per-request GUCs: claims, method, path, headers, cookies, search_path.
pub fn settings(config: &Config, api: &ApiRequest, role: &str) -> Vec<(String, String)> {
    let obj = |pairs: &[(String, String)]| -> String {
        let map: Map<String, Value> = pairs.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
        Value::Object(map).to_string()
    };
    let search_path: Vec<String> =
        std::iter::once(&api.schema).chain(config.db_extra_search_path.iter()).map(|s| fragment::ident(s)).collect();
    let mut settings = vec![
        ("request.jwt.claims".into(), claims(api, role)),
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

/// `request.jwt.claims`: the token's claims with `role` set (PostgREST inserts it).
fn claims(api: &ApiRequest, role: &str) -> String {
    if api.auth.role == role && !api.auth.claims.is_empty() {
        return api.auth.claims.clone();
    }
    serde_json::json!({ "role": role }).to_string()
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

/// The column of the main statement's rows to read in binary (its type's send function):
/// the body of PostgREST's result row. The document and plans are read as text.
pub fn binary_column(main: &MainTx) -> Option<usize> {
    match main.shape {
        Shape::Read(_) | Shape::Write(_) | Shape::Call(_) => Some(response::BODY_COLUMN),
        Shape::Plan(_) | Shape::OpenApi(_) => None,
    }
}

/// The main statement's result (and the explain's, if any) → the HTTP response. `rows` are
/// the columns' bytes: text output, except [`binary_column`]'s.
pub fn respond(
    config: &Config,
    main: &MainTx,
    api: &ApiRequest,
    rows: Vec<Vec<Option<Vec<u8>>>>,
    explain: Option<String>,
) -> Result<HttpResponse, Error> {
    // the document's statement returns its own JSON, not PostgREST's result row
    if let Shape::OpenApi(shape) = &main.shape {
        return root::respond(config, shape, &text_rows(rows));
    }
    if let Shape::Plan(shape) = &main.shape {
        return Ok(plan::respond(shape, &text_rows(rows)));
    }
    let mut rs = ResultSet::from_row(rows.first().map(Vec::as_slice).unwrap_or(&[]))?;
    rs.table_total = response::counted_total(rs.table_total, explain.as_deref(), api.preferences.count, config.db_max_rows);
    match &main.shape {
        Shape::Read(shape) => read::respond(config, shape, api, rs),
        Shape::Write(shape) => write::respond(config, shape, api, rs),
        Shape::Call(shape) => call::respond(config, shape, api, rs),
        Shape::OpenApi(shape) => root::respond(config, shape, &text_rows(rows)),
        Shape::Plan(shape) => Ok(plan::respond(shape, &text_rows(rows))),
    }
}

/// Rows of text columns (their output functions' UTF-8 text).
fn text_rows(rows: Vec<Vec<Option<Vec<u8>>>>) -> Vec<Vec<Option<String>>> {
    let text = |v: Vec<u8>| String::from_utf8(v).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    rows.into_iter().map(|row| row.into_iter().map(|c| c.map(text)).collect()).collect()
}

pub fn error_response(config: &Config, e: &Error) -> HttpResponse {
    response::error_response(config, e)
}
