//! Executing one request's transaction: the narrow boundary between connection handling and
//! PostgreSQL. `handle` takes a plain `HttpRequest` and returns a plain `HttpResponse`; it
//! runs on the backend's thread and is the only entry point into SPI.

mod spi;
mod timeout;
mod tx;

pub use spi::{forget_plans, query};
pub use tx::{transaction, End, Tx};

use crate::schema_cache;
use pgrx::pg_sys;
use postgrest_core::app::{self, HttpRequest, HttpResponse, MainTx, Planned, Shape};
use postgrest_core::config::Config;
use postgrest_core::error::{Error, PgError};
use postgrest_core::response::timing::ServerTiming;
use std::ffi::CString;
use std::time::Instant;

/// Handle one request completely: parse, plan, execute in one transaction, respond.
/// Never panics across the caller: panics become 500 responses.
pub fn handle(config: &Config, request: &HttpRequest) -> HttpResponse {
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handle_inner(config, request)));
    let response = match outcome {
        Ok(response) => response,
        Err(_) => app::error_response(config, &Error::Internal("panic".into())),
    };
    app::finish(config, request, response)
}

fn handle_inner(config: &Config, request: &HttpRequest) -> HttpResponse {
    if config.testing_panic_path.as_deref() == Some(request.path.as_str()) {
        panic!("testing_panic_path requested");
    }
    if let Some(response) = app::preflight(config, request) {
        return response;
    }
    let mut timing = ServerTiming::default();
    let mut clock = Instant::now();
    let mut lap = |slot: &mut Option<f64>| {
        *slot = Some(clock.elapsed().as_secs_f64() * 1000.0);
        clock = Instant::now();
    };
    let auth = app::authenticate(config, request);
    lap(&mut timing.jwt);
    let api_request = match auth.and_then(|auth| app::parse_request(config, request, auth)) {
        Ok(r) => r,
        Err(e) => return app::error_response(config, &e),
    };
    lap(&mut timing.parse);
    let result = transaction(api_request.read_only(), |tx| {
        let cache = schema_cache::current(tx, config)?;
        let planned = app::main_tx(config, &cache, &api_request)?;
        lap(&mut timing.plan);
        match planned {
            Planned::Respond(response) => {
                lap(&mut timing.transaction);
                Ok((response, End::Commit))
            }
            Planned::Run(main) => {
                let (rows, explain) = run(tx, &main)?;
                lap(&mut timing.transaction);
                let response = app::respond(config, &main, &api_request, rows, explain)?;
                if main.rollback {
                    // deferred constraints must still fail the request (PostgREST's optionalRollback)
                    spi::query(tx, "SET CONSTRAINTS ALL IMMEDIATE", &[], false)?;
                    return Ok((response, End::Rollback));
                }
                Ok((response, End::Commit))
            }
        }
    });
    lap(&mut timing.response);
    let result = result.map(|mut response| {
        if config.server_timing_enabled {
            response.headers.push(("Server-Timing".into(), timing.header()));
        }
        response
    });
    match result {
        Ok(response) => app::success(&api_request, response),
        Err(mut e) => {
            // 42501 is a 401 for the anonymous role and a 403 for an authenticated one
            if let Error::Pg { authenticated, .. } = &mut e {
                *authenticated |= api_request.auth.authenticated;
            }
            log_failure(request, &e);
            app::error_response(config, &e)
        }
    }
}

/// Caught errors are not logged by PostgreSQL: server-side failures (5xx) go to the log,
/// client errors only at DEBUG1 so a busy API does not flood it.
fn log_failure(request: &HttpRequest, e: &Error) {
    let detail = match e {
        Error::Internal(detail) => detail.clone(),
        other => format!("{}: {}", other.code(), other.message()),
    };
    if e.status() >= 500 {
        pgrx::log!("postgrest_ext: {} {} failed: {detail}", request.method, request.path);
    } else {
        pgrx::debug1!("postgrest_ext: {} {} failed: {detail}", request.method, request.path);
    }
}

/// Set the role and the request GUCs, then run the statements of `main`: the main
/// statement's rows (the body column in binary, see `app::binary_column`), and the
/// explain's JSON when a planned count was asked for.
fn run(tx: &Tx, main: &MainTx) -> Result<(spi::ByteRows, Option<String>), Error> {
    if main.read_only {
        // GET and HEAD began read-only; a call of a stable function by POST becomes so here
        unsafe { pg_sys::XactReadOnly = true };
    }
    refuse_superuser(&main.role)?;
    set_local("role", &main.role)?;
    for (name, value) in &main.settings {
        set_local(name, value)?;
    }
    if let Some(pre) = &main.pre_request {
        spi::query(tx, &pre.sql, &pre.params, false)?;
    }
    // SPI refuses EXPLAIN in read-only mode; the transaction itself stays read-only for GET
    let spi_read_only = main.read_only && !matches!(main.shape, Shape::Plan(_));
    let rows = spi::query_bytes(tx, &main.statement.sql, &main.statement.params, spi_read_only, app::binary_column(main))?;
    let explain = match &main.explain {
        Some(e) => spi::query(tx, &e.sql, &e.params, false)?.into_iter().next().and_then(|r| r.into_iter().next().flatten()),
        None => None,
    };
    Ok((rows, explain))
}

/// `set_config(name, value, true)` without a statement: the same call the SQL function makes.
fn set_local(name: &str, value: &str) -> Result<(), Error> {
    let name = CString::new(name).map_err(|_| Error::Internal("GUC name with NUL".into()))?;
    let value = CString::new(value).map_err(|_| Error::InvalidBody("a header or claim contains a NUL character".into()))?;
    unsafe {
        pg_sys::set_config_option(
            name.as_ptr(),
            value.as_ptr(),
            pg_sys::GucContext::PGC_USERSET,
            pg_sys::GucSource::PGC_S_SESSION,
            pg_sys::GucAction::GUC_ACTION_LOCAL,
            true,
            0,
            false,
        );
    }
    Ok(())
}

/// The server never runs a request as a superuser, whatever the configuration says.
fn refuse_superuser(role: &str) -> Result<(), Error> {
    let c = CString::new(role).map_err(|_| Error::Internal("role with NUL".into()))?;
    let oid = unsafe { pg_sys::get_role_oid(c.as_ptr(), true) };
    if oid != pg_sys::InvalidOid && unsafe { pg_sys::superuser_arg(oid) } {
        pgrx::warning!("postgrest_ext: refusing to run a request as superuser role \"{role}\"");
        return Err(Error::Pg {
            error: PgError {
                sqlstate: "42501".into(),
                message: format!("permission denied to run requests as superuser role \"{role}\""),
                detail: None,
                hint: Some("Use a role without SUPERUSER as postgrest.db_anon_role and in JWTs.".into()),
            },
            authenticated: true,
        });
    }
    Ok(())
}
