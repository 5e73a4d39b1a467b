//! What the pipeline needs from the database, as two small traits, so that all of the
//! request logic stays in core and runs in unit tests against a fake.
//!
//! - [`Database`] is what the pipeline (`app::handle`) talks to: the schema cache to plan
//!   with, and "run this transaction". The extension implements it with SPI in the backend.
//! - [`Transaction`] is the inside of one open transaction. [`execute`] drives it through the
//!   steps of PostgREST's `mainTx`, so their order is decided here and nowhere else.

use super::main_tx::{MainTx, TxJob};
use crate::config::Config;
use crate::error::Error;
use crate::response::ResultSet;
use crate::schema_cache::SchemaCache;
use crate::sql::Statement;
use bytes::Bytes;
use std::future::Future;
use std::sync::Arc;

/// Rows of columns as bytes (None = NULL): text output, except the binary column's.
pub type Rows = Vec<Vec<Option<Bytes>>>;

/// What a transaction returns to the response phase.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Output {
    pub rows: Rows,
    /// the explain's JSON, when a planned or estimated count was asked for
    pub explain: Option<String>,
}

/// The outcome of [`Database::run`].
#[derive(Debug, Clone, PartialEq)]
pub enum Ran {
    Done(Output),
    /// The catalogs changed after the schema cache the request was planned with was read:
    /// nothing ran; plan again with a fresh cache.
    Stale,
}

/// How a transaction ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Commit,
    Rollback,
}

/// Asynchronous: the front awaits its executors on its I/O threads (no thread is blocked
/// while a transaction runs); core itself needs no runtime (its tests poll the futures once).
pub trait Database {
    /// The schema cache for `config`'s schemas, as of the newest catalog change this
    /// database has seen (rebuilt first if it is older).
    fn schema_cache(&mut self, config: &Config) -> impl Future<Output = Result<Arc<SchemaCache>, Error>>;

    /// Has a catalog change arrived since `schema_cache` last answered? Asked before an
    /// answer that needs no transaction (an error, OPTIONS), so that a relation created just
    /// before the request is never reported missing.
    fn stale(&mut self) -> impl Future<Output = Result<bool, Error>>;

    /// Run `main` as one transaction with [`execute`]. With `check_fresh`, answer
    /// [`Ran::Stale`] instead when the catalogs changed since `schema_cache` answered.
    fn run(&mut self, main: &MainTx, check_fresh: bool) -> impl Future<Output = Result<Ran, Error>>;
}

pub trait Transaction {
    /// Make the transaction read-only (it is never made writable again).
    fn set_read_only(&mut self);
    /// Switch to `role` for the rest of the transaction; a superuser is refused.
    fn set_role(&mut self, role: &str) -> Result<(), Error>;
    /// `set_config(name, value, true)`.
    fn set_local(&mut self, name: &str, value: &str) -> Result<(), Error>;
    /// Run `statement` and return its rows; the column at `binary` is read with its type's
    /// binary send function. `read_only` runs it as SPI does a read-only query.
    fn query(&mut self, statement: &Statement, read_only: bool, binary: Option<usize>) -> Result<Rows, Error>;
}

/// The steps of one request's transaction: role, GUCs, pre-request, main statement, explain,
/// the checks on the result, and how it ends (`db-tx-end` / `Prefer: tx`).
pub fn execute(tx: &mut impl Transaction, main: &TxJob) -> Result<(Output, End), Error> {
    if main.read_only {
        // GET and HEAD begin read-only; a call of a stable function by POST becomes so here
        tx.set_read_only();
    }
    tx.set_role(&main.role)?;
    for (name, value) in &main.settings {
        tx.set_local(name, value)?;
    }
    if let Some(pre) = &main.pre_request {
        tx.query(pre, false, None)?;
    }
    let rows = tx.query(&main.statement, main.spi_read_only, main.binary_column)?;
    let explain = match &main.explain {
        Some(e) => tx.query(e, false, None)?.into_iter().next().and_then(|r| r.into_iter().next().flatten()).map(|b| text(&b)),
        None => None,
    };
    if main.binary_column.is_some() {
        main.checks.verify(&ResultSet::from_row(rows.first().map(Vec::as_slice).unwrap_or(&[]))?)?;
    }
    if main.rollback {
        // deferred constraints must still fail the request (PostgREST's optionalRollback)
        tx.query(&Statement { sql: "SET CONSTRAINTS ALL IMMEDIATE".into(), params: vec![] }, false, None)?;
        return Ok((Output { rows, explain }, End::Rollback));
    }
    Ok((Output { rows, explain }, End::Commit))
}

/// A text column's bytes as a string (its output function's UTF-8).
pub fn text(v: &[u8]) -> String {
    String::from_utf8_lossy(v).into_owned()
}
