//! The launcher, and what the front and the executors share (ARCHITECTURE.md).
//!
//! The launcher is registered at postmaster start and connects to no database. It waits until
//! the configured database and authenticator role exist (logging once), then starts the front
//! (`crate::front`), which starts the executors. Starting it directly would crash-loop while
//! the database does not exist yet: connecting to a missing database is FATAL. All of them
//! start on hot standbys as well: reads are served there, writes fail cleanly as read-only
//! (25006 → 405).

pub mod signals;

use crate::guc;
use pgrx::bgworkers::{BackgroundWorker, BackgroundWorkerBuilder, BgWorkerStartTime, SignalWakeFlags};
use pgrx::pg_sys;
use pgrx::prelude::pg_guard;
use std::time::Duration;

pub const LIBRARY: &str = "postgrest_ext";
/// `backend_type` in pg_stat_activity names the processes (it must contain "postgrest"); the
/// executors, which show the requests they run, are the "workers".
pub const EXECUTOR_TYPE: &str = "postgrest_ext worker";
const FRONT_TYPE: &str = "postgrest_ext front";
const LAUNCHER_TYPE: &str = "postgrest_ext launcher";

pub fn register_launcher() {
    BackgroundWorkerBuilder::new("postgrest_ext launcher")
        .set_type(LAUNCHER_TYPE)
        .set_library(LIBRARY)
        .set_function("postgrest_ext_launcher_main")
        .enable_spi_access()
        // hot standbys serve reads too: start once the standby is consistent, not after recovery
        .set_start_time(BgWorkerStartTime::ConsistentState)
        .set_restart_time(Some(Duration::from_secs(5)))
        .load();
}

/// The launcher's entry point, called by PostgreSQL's background-worker startup (looked up by
/// name from `set_function` above) on the new process's only thread, signals still blocked.
#[pg_guard]
// SAFETY: the symbol name is this crate's own (prefixed postgrest_ext_) and defined once; it is
// what the registration above gives PostgreSQL as bgw_function_name, with this exact signature.
#[unsafe(no_mangle)]
pub extern "C-unwind" fn postgrest_ext_launcher_main(_arg: pg_sys::Datum) {
    BackgroundWorker::attach_signal_handlers(SignalWakeFlags::SIGHUP | SignalWakeFlags::SIGTERM);
    BackgroundWorker::connect_worker_to_spi(None, None);
    let config = match guc::config() {
        Ok(c) => c,
        Err(e) => {
            pgrx::log!("postgrest_ext: invalid configuration, not serving: {e}");
            while BackgroundWorker::wait_latch(Some(Duration::from_secs(3600))) {}
            return;
        }
    };
    let mut logged = false;
    loop {
        let (db_ok, role_ok) = exists(&config.db_name, &config.db_authenticator_role);
        if db_ok && role_ok {
            break;
        }
        if !logged {
            pgrx::log!(
                "postgrest_ext: waiting for database \"{}\" ({}) and role \"{}\" ({}) to exist",
                config.db_name,
                if db_ok { "found" } else { "missing" },
                config.db_authenticator_role,
                if role_ok { "found" } else { "missing" }
            );
            logged = true;
        }
        if !BackgroundWorker::wait_latch(Some(Duration::from_secs(1))) {
            return;
        }
    }
    let started = BackgroundWorkerBuilder::new("postgrest_ext front")
        .set_type(FRONT_TYPE)
        .set_library(LIBRARY)
        .set_function("postgrest_ext_front_main")
        .enable_spi_access()
        .set_start_time(BgWorkerStartTime::ConsistentState)
        // a front that failed (exit 1) comes back; one that was asked to stop exits 0 and stays so
        .set_restart_time(Some(Duration::from_secs(1)))
        // SAFETY: a plain int of this process, set at process start and never changed
        .set_notify_pid(unsafe { pg_sys::MyProcPid })
        .load_dynamic();
    if started.is_err() {
        pgrx::log!("postgrest_ext: could not start the front: raise max_worker_processes");
    }
    // Stay alive: after a crash-restart of the cluster the launcher runs again and starts the
    // front again (dynamic workers are not restarted by a crash-restart).
    while BackgroundWorker::wait_latch(Some(Duration::from_secs(3600))) {}
}

/// Do the database and the role exist? The launcher has no database, so only heap scans of
/// the shared catalogs work (syscache and index lookups need pg_class).
fn exists(db: &str, role: &str) -> (bool, bool) {
    // SAFETY: inside pgrx's transaction on the launcher's main thread; the launcher connected
    // to no database, so only shared catalogs are read, by heap scan (shared_catalog_has). Each
    // `t` is a pg_database / pg_authid tuple's data, which starts with that catalog's fixed-width
    // struct (GETSTRUCT), and datname / rolname lie in that fixed part.
    BackgroundWorker::transaction(|| unsafe {
        let db_found = shared_catalog_has(pg_sys::DatabaseRelationId, db, |t| (*(t as *const pg_sys::FormData_pg_database)).datname);
        let role_found = shared_catalog_has(pg_sys::AuthIdRelationId, role, |t| (*(t as *const pg_sys::FormData_pg_authid)).rolname);
        (db_found, role_found)
    })
}

/// Is there a row in the shared catalog `relid` whose name (read by `name_of` from the
/// tuple's struct) is `wanted`?
///
/// # Safety
///
/// Call on the backend's main thread inside a transaction; `relid` must be a shared catalog
/// (readable without a database) and `name_of` must read a NameData from the start of one of its
/// tuples' data (the catalog's GETSTRUCT struct).
unsafe fn shared_catalog_has(relid: pg_sys::Oid, wanted: &str, name_of: impl Fn(*const u8) -> pg_sys::NameData) -> bool {
    // SAFETY: per the contract above. The relation is opened and closed, and the scan begun and
    // ended, in pairs with the same lock mode (an ERROR in between is not caught by pgrx's
    // transaction: it ends the launcher process, which releases everything).
    // Each tuple from heap_getnext is valid until the next call, and is only read before it:
    // its data starts t_hoff bytes (MAXALIGNed) after the header; a catalog NameData is always
    // NUL-terminated within NAMEDATALEN, and `name` is our own copy.
    unsafe {
        let rel = pg_sys::table_open(relid, pg_sys::AccessShareLock as i32);
        let scan = pg_sys::table_beginscan_catalog(rel, 0, std::ptr::null_mut());
        let mut found = false;
        loop {
            let tuple = pg_sys::heap_getnext(scan, pg_sys::ScanDirection::ForwardScanDirection);
            if tuple.is_null() {
                break;
            }
            let header = (*tuple).t_data;
            let data = (header as *const u8).add((*header).t_hoff as usize);
            let name = name_of(data);
            if std::ffi::CStr::from_ptr(name.data.as_ptr()).to_bytes() == wanted.as_bytes() {
                found = true;
                break;
            }
        }
        pg_sys::table_endscan(scan);
        pg_sys::table_close(rel, pg_sys::AccessShareLock as i32);
        found
    }
}

/// Is the session's user a superuser? Looked up inside a transaction: `superuser()` may
/// read the catalogs (a role changed by `ALTER ROLE ... SET role`).
pub fn connected_as_superuser() -> bool {
    // SAFETY: main thread, connected to a database, inside the transaction pgrx opens
    BackgroundWorker::transaction(|| unsafe { pg_sys::superuser() })
}

/// The soft RLIMIT_NOFILE is 1024; each keep-alive client holds a descriptor.
pub fn raise_fd_limit() {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: plain system calls on a live local rlimit; raising the soft limit up to the hard
    // one needs no privilege and touches no PostgreSQL state.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}
