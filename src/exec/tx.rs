//! The per-request transaction guard.
//!
//! SPI outside a transaction segfaults, and a segfault restarts the whole cluster; so "inside a
//! transaction" is a type: everything that touches SPI takes a `&Tx`, and the only way to get
//! one is `transaction()`, which starts the transaction, runs the body under a catch, and
//! commits or aborts. pgrx's `BackgroundWorker::transaction` is not used: it does not catch
//! errors, and a failed query would leave the worker broken.

use pgrx::pg_sys;
use pgrx::pg_sys::panic::CaughtError;
use pgrx::PgTryBuilder;
use postgrest_core::app::End;
use postgrest_core::error::{Error, PgError};
use std::cell::Cell;

/// Proof that a transaction is open on this backend. Not constructible outside this module.
pub struct Tx {
    _private: (),
}

thread_local! {
    /// SQLSTATE of the last ERROR raised while the guard's error-context callback was
    /// installed. pgrx folds SQLSTATEs it does not know (custom ones such as `PT402`) into
    /// XX000, so the raw code is recorded here as PostgreSQL reports it.
    static LAST_SQLSTATE: Cell<i32> = const { Cell::new(0) };
}

/// The guard's error-context callback: records the SQLSTATE of the report being built.
///
/// # Safety
///
/// Called only by PostgreSQL (errfinish, or GetErrorContextStack), on the backend's thread,
/// while [`transaction`] has it linked into `error_context_stack`; both call it with an error
/// data entry on the error stack, which is what geterrcode reads. It cannot unwind.
unsafe extern "C-unwind" fn record_sqlstate(_arg: *mut std::ffi::c_void) {
    // SAFETY: an error report is on the error stack (see above)
    let code = unsafe { pg_sys::geterrcode() };
    LAST_SQLSTATE.with(|c| c.set(code));
}

/// Run `body` in its own transaction. Errors raised by PostgreSQL, Rust panics and `Err`
/// results all abort the transaction; the caller gets a clean `Error` back.
pub fn transaction<R>(read_only: bool, body: impl FnOnce(&Tx) -> Result<(R, End), Error>) -> Result<R, Error> {
    // SAFETY: on the backend's main thread, in a connected worker, with no transaction open:
    // requests run one at a time and no body calls transaction() again. The globals are plain
    // variables of this backend. The transaction and snapshot started here are ended below, by
    // CommitTransactionCommand or abort(). (This runs before the catch: an ERROR here, not
    // expected outside a transaction, would unwind to the listener's task, not to abort().)
    unsafe {
        // a cancel that arrived while idle must not hit this request
        pg_sys::QueryCancelPending = 0;
        pg_sys::SetCurrentStatementStartTimestamp();
        pg_sys::StartTransactionCommand();
        // only ever raise it: a hot standby (or default_transaction_read_only) starts read-only
        if read_only {
            pg_sys::XactReadOnly = true;
        }
        pg_sys::PushActiveSnapshot(pg_sys::GetTransactionSnapshot());
    }
    LAST_SQLSTATE.with(|c| c.set(0));
    let mut callback = pg_sys::ErrorContextCallback {
        // SAFETY: a plain global of this backend, read on its main thread
        previous: unsafe { pg_sys::error_context_stack },
        callback: Some(record_sqlstate),
        arg: std::ptr::null_mut(),
    };
    // SAFETY: `callback` stays on this frame, unmoved, while it is linked: `unlink` (declared
    // after it, so dropped before it) puts the previous stack back, right after the catch or
    // while unwinding out of it.
    unsafe { pg_sys::error_context_stack = &mut callback };
    let unlink = Unlink(callback.previous);

    let tx = Tx { _private: () };
    let outcome = PgTryBuilder::new(std::panic::AssertUnwindSafe(|| match body(&tx) {
        Ok((value, End::Commit)) => {
            // SAFETY: inside the transaction started above, whose snapshot is still the active one
            // (SPI pops whatever it pushes); under the catch, so an ERROR from either call is
            // caught and abort() rolls back.
            unsafe {
                pg_sys::PopActiveSnapshot();
                // commit can fail too (deferred constraints): still under the catch
                pg_sys::CommitTransactionCommand();
            }
            Outcome::Committed(value)
        }
        Ok((value, End::Rollback)) => Outcome::RolledBack(value),
        Err(e) => Outcome::Failed(e),
    }))
    .catch_others(|caught| Outcome::Failed(caught_to_error(caught)))
    .execute();
    drop(unlink);

    match outcome {
        Outcome::Committed(value) => Ok(value),
        Outcome::RolledBack(value) => {
            abort();
            Ok(value)
        }
        Outcome::Failed(e) => {
            abort();
            Err(e)
        }
    }
}

/// Puts back the error context stack a transaction found, when dropped.
struct Unlink(*mut pg_sys::ErrorContextCallback);

impl Drop for Unlink {
    fn drop(&mut self) {
        // SAFETY: main thread; restores exactly the value read before our callback was linked
        unsafe { pg_sys::error_context_stack = self.0 };
    }
}

enum Outcome<R> {
    Committed(R),
    RolledBack(R),
    Failed(Error),
}

/// Roll back whatever is open, as PostgresMain's error recovery does.
fn abort() {
    // SAFETY: only called by transaction(), on the backend's main thread, after its
    // StartTransactionCommand; an SPI connection an ERROR left open is popped by the abort itself.
    // HOLD/RESUME_INTERRUPTS as PostgresMain's error recovery does (errfinish reset the counter to
    // 0 if an ERROR got us here); the abort deletes the transaction's memory contexts, hence the
    // switch to TopMemoryContext.
    unsafe {
        pg_sys::InterruptHoldoffCount += 1;
        super::timeout::disarm();
        pg_sys::AbortCurrentTransaction();
        pg_sys::MemoryContextSwitchTo(pg_sys::TopMemoryContext);
        pg_sys::InterruptHoldoffCount -= 1;
    }
}

/// A caught PostgreSQL error or Rust panic → our error type (SQLSTATE kept).
fn caught_to_error(caught: CaughtError) -> Error {
    match caught {
        CaughtError::PostgresError(report) | CaughtError::ErrorReport(report) => {
            let recorded = LAST_SQLSTATE.with(|c| c.get());
            let code = if recorded != 0 { recorded } else { report.sql_error_code() as i32 };
            let error = PgError {
                sqlstate: unpack_sqlstate(code),
                message: report.message().to_string(),
                detail: report.detail().map(String::from),
                hint: report.hint().map(String::from),
            };
            Error::from_pg(error, false)
        }
        CaughtError::RustPanic { ereport, .. } => {
            pgrx::warning!("postgrest_ext: panic while handling a request: {}", ereport.message());
            Error::Internal(ereport.message().to_string())
        }
    }
}

/// PostgreSQL packs a SQLSTATE into 30 bits, six per character (`MAKE_SQLSTATE`).
fn unpack_sqlstate(code: i32) -> String {
    (0..5).map(|i| (((code >> (6 * i)) & 0x3F) as u8 + b'0') as char).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn sqlstate_unpacks() {
        // MAKE_SQLSTATE('4','2','P','0','1')
        let pack = |s: &str| s.bytes().enumerate().fold(0i32, |acc, (i, b)| acc | (((b - b'0') as i32 & 0x3F) << (6 * i)));
        assert_eq!(super::unpack_sqlstate(pack("42P01")), "42P01");
        assert_eq!(super::unpack_sqlstate(pack("PT402")), "PT402");
    }
}
