//! This backend as the request pipeline's database: `core::app`'s `Database` and
//! `Transaction` implemented with the schema cache (`schema_cache`) and SPI (`exec`), all on
//! the backend's thread. `handle` is the only entry point for requests.

use crate::exec::{self, transaction, Tx};
use crate::schema_cache;
use pgrx::pg_sys;
use postgrest_core::app::{self, Database, End, MainTx, Ran, Rows, Transaction};
use postgrest_core::auth::JwtCache;
use postgrest_core::config::Config;
use postgrest_core::error::{Error, PgError};
use postgrest_core::http::{HttpRequest, HttpResponse};
use postgrest_core::schema_cache::SchemaCache;
use postgrest_core::sql::Statement;
use std::ffi::CString;
use std::sync::Arc;

/// Handle one request completely (`core::app::handle` against this backend). Never panics.
pub fn handle(config: &Config, jwt: &JwtCache, request: &HttpRequest) -> HttpResponse {
    let handled = app::handle(config, jwt, &mut Backend { config }, request);
    if let Some(e) = &handled.error {
        log_failure(request, e);
    }
    handled.response
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

/// This backend as the pipeline's database.
struct Backend<'a> {
    config: &'a Config,
}

impl Database for Backend<'_> {
    fn schema_cache(&mut self, config: &Config) -> Result<Arc<SchemaCache>, Error> {
        schema_cache::current(config)
    }

    fn stale(&mut self) -> Result<bool, Error> {
        // invalidations are taken in when a transaction starts
        transaction(true, |_| Ok((schema_cache::stale(self.config), End::Commit)))
    }

    fn run(&mut self, main: &MainTx, check_fresh: bool) -> Result<Ran, Error> {
        transaction(main.read_only, |tx| {
            if check_fresh && schema_cache::stale(self.config) {
                return Ok((Ran::Stale, End::Rollback));
            }
            let (output, end) = app::execute(&mut Spi { tx }, &main.job())?;
            Ok((Ran::Done(output), end))
        })
    }
}

/// One open transaction, driven by `core::app::execute`.
struct Spi<'a> {
    tx: &'a Tx,
}

impl Transaction for Spi<'_> {
    fn set_read_only(&mut self) {
        // SAFETY: inside the request's transaction (self.tx), on the backend's main thread;
        // XactReadOnly is a plain global of this backend, read by the executor at the next
        // statement; only ever raised (a hot standby starts read-only and must stay so)
        unsafe { pg_sys::XactReadOnly = true };
    }

    fn set_role(&mut self, role: &str) -> Result<(), Error> {
        refuse_superuser(role)?;
        self.set_local("role", role)
    }

    /// `set_config(name, value, true)` without a statement: the same call the SQL function makes.
    fn set_local(&mut self, name: &str, value: &str) -> Result<(), Error> {
        let name = CString::new(name).map_err(|_| Error::Internal("GUC name with NUL".into()))?;
        let value = CString::new(value).map_err(|_| Error::InvalidBody("a header or claim contains a NUL character".into()))?;
        // SAFETY: inside a transaction (self.tx); both strings are NUL-terminated and outlive
        // the call, which copies them. An invalid value raises an ERROR that the guard catches.
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

    fn query(&mut self, statement: &Statement, read_only: bool, binary: Option<usize>) -> Result<Rows, Error> {
        exec::query_bytes(self.tx, &statement.sql, &statement.params, read_only, binary)
    }
}

/// The server never runs a request as a superuser, whatever the configuration says.
fn refuse_superuser(role: &str) -> Result<(), Error> {
    let c = CString::new(role).map_err(|_| Error::Internal("role with NUL".into()))?;
    // SAFETY: inside a transaction on the backend's main thread (the only caller, Spi::set_role,
    // holds a &Tx; catalog lookups need one); `c` is NUL-terminated and outlives the call
    let oid = unsafe { pg_sys::get_role_oid(c.as_ptr(), true) };
    // SAFETY: as above; `oid` is a valid role from get_role_oid (checked not InvalidOid)
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
