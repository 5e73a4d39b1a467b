//! The request pipeline, one line per phase as in PostgREST's `App.hs` (`postgrestResponse`):
//! preflight → authenticate → parse (`ApiRequest`) → plan (`main_tx`: what the transaction
//! must do) → run it (`Database`) → respond. The database is reached only through the
//! traits of `database`, so the whole pipeline runs in unit tests against a fake.

pub mod call;
pub mod database;
pub mod main_tx;
pub mod plan;
pub mod read;
pub mod root;
pub mod write;

#[cfg(test)]
mod tests;

pub use database::{execute, Database, End, Output, Ran, Rows, Transaction};
pub use main_tx::{main_tx_for, Checks, MainTx, Planned, Shape, TxJob};

use crate::auth::{Auth, JwtCache};
use crate::config::{Config, OpenApiMode};
use crate::error::{Error, NoRpc};
use crate::http::{HttpRequest, HttpResponse};
use crate::request::{self, ApiRequest, Method, Resource};
use crate::response::timing::ServerTiming;
use crate::response::{self, ResultSet};
use crate::schema_cache::{FuncVolatility, QualifiedIdentifier, SchemaCache};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

/// The response to one request, and the error behind it when it failed (for the log).
pub struct Handled {
    pub response: HttpResponse,
    pub error: Option<Error>,
}

/// Handle one request completely. Never panics: a panic becomes a 500.
pub async fn handle(config: &Config, jwt: &JwtCache, db: &mut impl Database, request: &HttpRequest) -> Handled {
    let outcome = CatchUnwind(Box::pin(respond_to(config, jwt, db, request))).await;
    let (response, error) = match outcome {
        Ok(Ok(response)) => (response, None),
        Ok(Err(e)) => (error_response(config, &e), Some(e)),
        Err(_) => {
            let e = Error::Internal("panic while handling the request".into());
            (error_response(config, &e), Some(e))
        }
    };
    Handled { response: finish(config, request, response), error }
}

/// A future whose panics are caught, each poll under `catch_unwind` (boxed: pinned, and Unpin).
struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = std::thread::Result<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.0.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}

async fn respond_to(config: &Config, jwt: &JwtCache, db: &mut impl Database, request: &HttpRequest) -> Result<HttpResponse, Error> {
    if config.testing_panic_path.as_deref() == Some(request.path.as_str()) {
        panic!("testing_panic_path requested");
    }
    if let Some(response) = preflight(config, request) {
        return Ok(response);
    }
    let mut laps = Laps::start();
    let auth = crate::auth::authenticate(config, jwt, &request.headers);
    laps.lap(|t| &mut t.jwt);
    let api = parse_request(config, request, auth?)?;
    laps.lap(|t| &mut t.parse);
    let response = run(config, db, &api, &mut laps).await.map_err(|mut e| {
        // 42501 is a 401 for the anonymous role and a 403 for an authenticated one
        if let Error::Pg { authenticated, .. } = &mut e {
            *authenticated |= api.auth.authenticated;
        }
        e
    })?;
    let mut response = success(&api, response);
    laps.lap(|t| &mut t.response);
    if config.server_timing_enabled {
        response.headers.push("Server-Timing", laps.timing.header());
    }
    Ok(response)
}

/// Plan and run, planning once more when the schema cache turned out to be stale.
async fn run(config: &Config, db: &mut impl Database, api: &ApiRequest, laps: &mut Laps) -> Result<HttpResponse, Error> {
    let mut rechecked = false;
    loop {
        let cache = db.schema_cache(config).await?;
        let planned = main_tx(config, &cache, api);
        laps.lap(|t| &mut t.plan);
        match planned {
            Ok(Planned::Run(main)) => match db.run(&main, !rechecked).await? {
                Ran::Stale if !rechecked => rechecked = true,
                Ran::Stale => return Err(Error::NoSchemaCache),
                Ran::Done(output) => {
                    laps.lap(|t| &mut t.transaction);
                    return respond(config, &main, api, output);
                }
            },
            // an answer from the cache alone: make sure the cache was not stale
            answer if !rechecked && db.stale().await? => {
                drop(answer);
                rechecked = true;
            }
            Ok(Planned::Respond(response)) => {
                laps.lap(|t| &mut t.transaction);
                return Ok(response);
            }
            Err(e) => return Err(e),
        }
    }
}

/// Server-Timing: the time since the previous lap goes to one phase.
struct Laps {
    timing: ServerTiming,
    clock: Instant,
}

impl Laps {
    fn start() -> Laps {
        Laps { timing: ServerTiming::default(), clock: Instant::now() }
    }

    fn lap(&mut self, phase: impl FnOnce(&mut ServerTiming) -> &mut Option<f64>) {
        let slot = phase(&mut self.timing);
        *slot = Some(slot.unwrap_or(0.0) + self.clock.elapsed().as_secs_f64() * 1000.0);
        self.clock = Instant::now();
    }
}

/// The parse phase, once authenticated.
pub fn parse_request(config: &Config, req: &HttpRequest, auth: Auth) -> Result<ApiRequest, Error> {
    let mut api = request::parse(config, req)?;
    api.auth = auth;
    Ok(api)
}

/// CORS preflights are answered before anything else (PostgREST's CORS middleware).
pub fn preflight(config: &Config, req: &HttpRequest) -> Option<HttpResponse> {
    response::cors::preflight(&config.server_cors_allowed_origins, &req.method, &req.headers)
}

/// Headers of every successful response (PostgREST's `toWaiResponse` and `contentTypeHeaders`):
/// `Content-Profile` when the schema was negotiated and there is a body type, and `Vary`
/// unless the SQL set one. The one place both are added.
pub fn success(api: &ApiRequest, mut response: HttpResponse) -> HttpResponse {
    if api.negotiated_by_profile && response.headers.has("Content-Type") {
        response.headers.push_if_absent("Content-Profile", api.schema.clone());
    }
    response.headers.push_if_absent("Vary", "Accept, Prefer, Range");
    response
}

/// Headers every response gets whatever produced it: CORS for requests with an Origin, and
/// the `server-trace-header` echoed back.
pub fn finish(config: &Config, req: &HttpRequest, mut response: HttpResponse) -> HttpResponse {
    response::cors::decorate(&config.server_cors_allowed_origins, &req.method, &req.headers, &mut response);
    if let Some(name) = &config.server_trace_header {
        if let Some(v) = req.headers.get(name) {
            response.headers.push(name.clone(), v);
        }
    }
    response
}

/// The plan phase: what the transaction must do, or the answer when none is needed.
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
    match (&api.resource, api.method) {
        // PostgREST refuses any request to the root when the document is disabled
        (Resource::Schema, _) if config.openapi_mode == OpenApiMode::Disabled => Err(Error::OpenApiDisabled),
        (Resource::Schema, Method::Get | Method::Head) => root::main_tx(config, cache, api),
        (Resource::Relation(name), Method::Get | Method::Head) => read::main_tx(config, cache, api, name),
        (Resource::Relation(name), Method::Post | Method::Patch | Method::Put | Method::Delete) => write::main_tx(config, cache, api, name),
        (Resource::Routine(name), Method::Get | Method::Head | Method::Post) => call::main_tx(config, cache, api, name),
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
            let qi = QualifiedIdentifier { schema: api.schema.clone(), name: name.clone() };
            match cache.routines(&qi).first() {
                Some(r) if r.volatility == FuncVolatility::Volatile => "OPTIONS,POST".into(),
                Some(_) => "OPTIONS,GET,HEAD,POST".into(),
                None => {
                    return Err(Error::NoRpc(Box::new(NoRpc {
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
    Ok(HttpResponse::new(200, vec![("Access-Control-Allow-Origin".into(), "*".into()), ("Allow".into(), allow)], vec![]))
}

/// The main statement's result (and the explain's, if any) → the HTTP response.
pub fn respond(config: &Config, main: &MainTx, api: &ApiRequest, output: Output) -> Result<HttpResponse, Error> {
    let Output { rows, explain } = output;
    let result_set = || -> Result<ResultSet, Error> {
        let mut rs = ResultSet::from_row(rows.first().map(Vec::as_slice).unwrap_or(&[]))?;
        rs.table_total = response::counted_total(rs.table_total, explain.as_deref(), api.preferences.count, config.db_max_rows);
        Ok(rs)
    };
    match main.shape() {
        Shape::Read(shape) => read::respond(config, shape, api, result_set()?),
        Shape::Write(shape) => write::respond(config, shape, api, result_set()?),
        Shape::Call(shape) => call::respond(config, shape, api, result_set()?),
        // the document's and the plan's statements return their own text, not PostgREST's result row
        Shape::OpenApi(shape) => root::respond(config, shape, &text_rows(rows)),
        Shape::Plan(shape) => Ok(plan::respond(shape, &text_rows(rows))),
    }
}

/// Rows of text columns (their output functions' UTF-8 text).
fn text_rows(rows: Rows) -> Vec<Vec<Option<String>>> {
    rows.into_iter().map(|row| row.into_iter().map(|c| c.as_deref().map(database::text)).collect()).collect()
}

pub fn error_response(config: &Config, e: &Error) -> HttpResponse {
    response::error_response(config, e)
}
