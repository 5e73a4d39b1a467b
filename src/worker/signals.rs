//! Signals and waiting in the workers.
//!
//! SIGTERM uses PostgreSQL's own `die()`: it sets ProcDiePending, so a running query is
//! interrupted at its next CHECK_FOR_INTERRUPTS (pgrx's handler only sets a flag, and a
//! shutdown would wait for the query). While idle, the event loop's 100 ms tick notices the
//! flag. SIGHUP uses pgrx's handler (flag + ConfigReloadPending), processed in the tick.

use pgrx::bgworkers::{BackgroundWorker, SignalWakeFlags};
use pgrx::pg_sys;
use std::ffi::CString;

// src/include/tcop/tcopprot.h (PostgreSQL 15): `extern void die(SIGNAL_ARGS);`, defined in
// src/backend/tcop/postgres.c. pgrx's binding is a Rust wrapper, which cannot be installed as a
// signal handler, so the C symbol is declared here under another name.
#[cfg(feature = "pg15")]
extern "C-unwind" {
    /// PostgreSQL's SIGTERM handler.
    #[link_name = "die"]
    fn pg_die(signal: std::ffi::c_int);
}

pub fn install() {
    // SAFETY: called first thing in the worker's main function, on its only thread, while the
    // postmaster-started worker still has signals blocked; `die` is PostgreSQL's own handler
    // for exactly this signal in a backend (it only sets flags and the latch).
    unsafe { pg_sys::pqsignal(pg_sys::SIGTERM as i32, Some(pg_die)) };
    // also unblocks signals, so it comes last
    BackgroundWorker::attach_signal_handlers(SignalWakeFlags::SIGHUP);
}

pub fn shutdown_requested() -> bool {
    // SAFETY: a sig_atomic_t flag of this backend, read on its main thread (the process's only
    // thread: tokio runs current-thread); its other writer is die(), a signal handler that only
    // ever sets it. A fresh read per call.
    unsafe { pg_sys::ProcDiePending != 0 }
}

/// Exit for a SIGTERM. Exit code 1 lets the postmaster restart a worker that was terminated
/// on its own (pg_terminate_backend); at cluster shutdown nothing is restarted.
pub fn exit_if_shutdown() {
    if shutdown_requested() {
        // SAFETY: on the worker's main thread, outside any transaction and outside the tokio
        // runtime (callers: sleep_ms and the end of listener::serve); proc_exit runs the exit
        // callbacks, which clean up whatever PostgreSQL state is left, and does not return.
        unsafe { pg_sys::proc_exit(1) };
    }
}

/// Reload the config file if a SIGHUP arrived; true if it did.
pub fn reload_if_sighup() -> bool {
    if BackgroundWorker::sighup_received() {
        // SAFETY: on the worker's main thread, between requests (never inside a transaction):
        // where PostgresMain itself processes SIGHUP. ConfigReloadPending is a plain flag of this
        // backend; ProcessConfigFile reports problems in the file at a non-ERROR level.
        unsafe {
            pg_sys::ConfigReloadPending = 0;
            pg_sys::ProcessConfigFile(pg_sys::GucContext::PGC_SIGHUP);
        }
        true
    } else {
        false
    }
}

/// Sleep on the latch (woken by signals), then handle SIGTERM.
pub fn sleep_ms(ms: i64) {
    wait_latch(ms);
    exit_if_shutdown();
}

/// Sleep until the latch is set (a signal, or another thread's `SetLatch`) or `ms` pass; the
/// caller looks at what happened.
pub fn wait_latch(ms: i64) {
    // SAFETY: on the worker's main thread; MyLatch is this process's latch, set up at process
    // start and owned by it; the wait flags and event are PostgreSQL's own constants.
    unsafe {
        pg_sys::WaitLatch(
            pg_sys::MyLatch,
            (pg_sys::WL_LATCH_SET | pg_sys::WL_TIMEOUT | pg_sys::WL_EXIT_ON_PM_DEATH) as i32,
            ms as _,
            pg_sys::PG_WAIT_EXTENSION,
        );
        pg_sys::ResetLatch(pg_sys::MyLatch);
    }
}

/// Serve nothing, but stay a well-behaved worker until shutdown (a misconfiguration must
/// not turn into a crash loop).
pub fn idle_until_shutdown() -> ! {
    loop {
        sleep_ms(1000);
        let _ = reload_if_sighup();
    }
}

/// Wait until `CREATE EXTENSION postgrest_ext` has run in this database (logging once).
pub fn wait_for_extension() {
    let name = CString::new("postgrest_ext").expect("no NUL");
    let mut logged = false;
    loop {
        // SAFETY: inside pgrx's transaction, in a worker connected to its database (catalog
        // lookups need both); `name` is NUL-terminated and outlives the call.
        let found = BackgroundWorker::transaction(|| unsafe { pg_sys::get_extension_oid(name.as_ptr(), true) != pg_sys::InvalidOid });
        if found {
            if logged {
                pgrx::log!("postgrest_ext: extension found, serving");
            }
            return;
        }
        if !logged {
            pgrx::log!("postgrest_ext: waiting for CREATE EXTENSION postgrest_ext in this database");
            logged = true;
        }
        sleep_ms(1000);
        let _ = reload_if_sighup();
    }
}
