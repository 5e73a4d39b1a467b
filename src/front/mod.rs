//! The front: the one process that owns the HTTP connections, the configuration snapshot, the
//! JWT cache, the schema cache and the executor pool (ARCHITECTURE.md).
//!
//! Its main thread is the only one that calls PostgreSQL: it handles signals, re-reads the
//! GUCs on SIGHUP, starts executors when the pool asks and retires idle ones. The I/O threads
//! (tokio, every signal blocked) run hyper and `core::app::handle`, reaching executors over
//! unix sockets; they never call `pg_sys` (pgrx panics if they do).

mod client;
mod db;
mod http;
mod pool;
mod shutdown;
mod socket;
mod spin;

use crate::worker::{signals, EXECUTOR_TYPE, LIBRARY};
use crate::{guc, shmem};
use pgrx::bgworkers::{BackgroundWorkerBuilder, BackgroundWorkerStatus, DynamicBackgroundWorker};
use pgrx::pg_sys;
use pgrx::prelude::pg_guard;
use pool::{Limits, Pool};
use postgrest_core::auth::JwtCache;
use postgrest_core::budget::{self, Budget};
use postgrest_core::config::Config;
use postgrest_core::schema_cache::{CatalogRows, SchemaCache};
use postgrest_core::wire::Reply;
use std::os::unix::net::UnixListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Where executors reach the front: relative to the data directory, every background
/// worker's working directory, which only the cluster's owner can enter.
pub const SOCKET: &str = "postgrest_ext.sock";

/// What the I/O threads share, each part owned by the front.
pub struct Shared {
    pub config: RwLock<Arc<Config>>,
    pub jwt: JwtCache,
    pub cache: RwLock<Option<Cached>>,
    /// held while the schema cache is read, one read at a time: the rows the cache was
    /// derived from, for a partial read (`CatalogRows`)
    pub loading: tokio::sync::Mutex<Option<CatalogRows>>,
    pub pool: Arc<Pool>,
    /// the bytes of request bodies and results in flight
    pub budget: Budget,
    pub shutdown: shutdown::Shutdown,
}

/// The schema cache and the catalog generation and schemas it was read for.
pub struct Cached {
    pub generation: u64,
    pub schemas: Vec<String>,
    pub cache: Arc<SchemaCache>,
}

impl Shared {
    pub fn config(&self) -> Arc<Config> {
        self.config.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn limits(&self) -> Limits {
        limits(&self.config())
    }
}

fn limits(config: &Config) -> Limits {
    Limits {
        warm: config.workers as usize,
        max: config.db_pool.max(config.workers as usize),
        acquisition_timeout: config.db_pool_acquisition_timeout,
        max_idle: config.db_pool_max_idletime,
        max_lifetime: config.db_pool_max_lifetime,
    }
}

/// The in-flight body budget `config` asks for, in bytes.
fn config_budget(config: &Config) -> u64 {
    config.server_inflight_body.unwrap_or_else(budget::auto_size)
}

/// The front's latch, for the I/O threads to wake the main thread.
static MAIN_LATCH: AtomicUsize = AtomicUsize::new(0);

#[cfg(feature = "pg15")]
extern "C" {
    /// src/include/storage/latch.h (PostgreSQL 15). Declared here without pgrx's guard, which refuses any
    /// thread but the main one: SetLatch takes no lock, allocates nothing and never raises
    /// an error (latch.c: it is called from signal handlers), so any thread may call it.
    #[link_name = "SetLatch"]
    fn set_latch_from_any_thread(latch: *mut pg_sys::Latch);
}

/// Wake the main thread (from any thread).
pub fn wake_main() {
    let latch = MAIN_LATCH.load(Ordering::Acquire);
    if latch != 0 {
        // SAFETY: MyLatch of this process, stored by the main thread before any I/O thread
        // exists; it lives as long as the process
        unsafe { set_latch_from_any_thread(latch as *mut pg_sys::Latch) };
    }
}

/// The front's entry point, called by PostgreSQL's background-worker startup on the new
/// process's only thread (registered by the launcher).
#[pg_guard]
// SAFETY: the symbol name is this crate's own (prefixed postgrest_ext_) and defined once; it is
// the bgw_function_name the launcher registers, with the signature PostgreSQL calls.
#[unsafe(no_mangle)]
pub extern "C-unwind" fn postgrest_ext_front_main(_arg: pg_sys::Datum) {
    signals::install();
    let config = match guc::config() {
        Ok(c) => c,
        Err(e) => {
            pgrx::log!("postgrest_ext: invalid configuration, not serving: {e}");
            signals::idle_until_shutdown();
        }
    };
    pgrx::bgworkers::BackgroundWorker::connect_worker_to_spi(Some(&config.db_name), Some(&config.db_authenticator_role));
    if crate::worker::connected_as_superuser() {
        pgrx::log!(
            "postgrest_ext: role \"{}\" is a superuser; refusing to serve. Set postgrest.db_authenticator_role to a role without SUPERUSER.",
            config.db_authenticator_role
        );
        signals::idle_until_shutdown();
    }
    signals::wait_for_extension();
    // the database's and the role's settings (app.settings.*) apply once connected
    let config = guc::config().unwrap_or(config);
    crate::worker::raise_fd_limit();
    let _ = std::fs::remove_file(SOCKET);
    let executors = match UnixListener::bind(SOCKET) {
        Ok(l) => l,
        Err(e) => {
            pgrx::log!("postgrest_ext: cannot listen for executors on {SOCKET}: {e}");
            signals::idle_until_shutdown();
        }
    };
    let http = http::bind_until_bound(&config);
    // SAFETY: main thread; MyLatch is set for every background worker
    MAIN_LATCH.store(unsafe { pg_sys::MyLatch } as usize, Ordering::Release);
    let budget = Budget::new(config_budget(&config));
    let shared = Arc::new(Shared {
        config: RwLock::new(Arc::new(config)),
        jwt: JwtCache::new(),
        cache: RwLock::new(None),
        loading: tokio::sync::Mutex::new(None),
        pool: Arc::new(Pool::new(budget.clone())),
        budget,
        shutdown: shutdown::Shutdown::default(),
    });
    let Some(runtime) = http::start(shared.clone(), http, executors) else {
        signals::idle_until_shutdown();
    };
    pgrx::log!("postgrest_ext: serving http://{}", shared.config().listen_address());
    shared.pool.want(shared.limits().warm);
    let mut logged_cap = false;
    let mut pending: Vec<Pending> = vec![];
    loop {
        pending.retain_mut(|p| p.still_pending(&shared.pool));
        for _ in 0..shared.pool.take_wanted() {
            match start_executor() {
                Ok(handle) => {
                    // its pid at once (the postmaster forks it within milliseconds): one that
                    // connects and dies before a later look would otherwise be taken for one
                    // that never started, and pause the starts
                    let pid = handle.wait_for_startup().ok();
                    pending.push(Pending { handle, pid, since: std::time::Instant::now() });
                }
                Err(()) => {
                    shared.pool.start_failed();
                    if !logged_cap {
                        pgrx::log!(
                        "postgrest_ext: cannot start another executor ({} running): raise max_worker_processes, or lower postgrest.db_pool",
                        shared.pool.live()
                    );
                        logged_cap = true;
                    }
                }
            }
        }
        shared.pool.maintain(shared.limits());
        signals::wait_latch(1000);
        if signals::shutdown_requested() {
            break;
        }
        if signals::reload_if_sighup() {
            match guc::config() {
                Ok(c) => {
                    shared.budget.resize(config_budget(&c));
                    *shared.config.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(c);
                }
                Err(e) => pgrx::log!("postgrest_ext: invalid configuration after reload, keeping the old one: {e}"),
            }
            // PostgREST reloads its schema cache with its configuration
            shmem::bump();
        }
    }
    // requests in flight finish (or fail cleanly) before the process goes
    shutdown::drain(&shared);
    runtime.shutdown_timeout(Duration::from_secs(1));
    shared.pool.close_idle();
    let _ = std::fs::remove_file(SOCKET);
    // exit 1: a front stopped by pg_terminate_backend is started again; at a cluster shutdown
    // nothing is
    // SAFETY: main thread; proc_exit runs PostgreSQL's exit callbacks and does not return
    unsafe { pg_sys::proc_exit(1) }
}

/// An executor asked for that has not said hello yet. Until it does it counts as starting
/// in the pool; one that stops first (it refused to serve, or failed) is given up on.
struct Pending {
    handle: DynamicBackgroundWorker,
    pid: Option<i32>,
    since: std::time::Instant,
}

impl Pending {
    /// Main thread, each tick: false once it connected or was given up on.
    fn still_pending(&mut self, pool: &Pool) -> bool {
        match self.handle.pid() {
            Ok(pid) => {
                self.pid = Some(pid);
                if pool.take_greeted(pid) {
                    return false;
                }
            }
            Err(BackgroundWorkerStatus::NotYetStarted) => {}
            Err(_) => {
                // stopped: unless it connected in between, it never will
                if !self.pid.is_some_and(|pid| pool.take_greeted(pid)) {
                    pool.start_lost();
                }
                return false;
            }
        }
        if self.since.elapsed() > Duration::from_secs(30) {
            pool.start_lost();
            return false;
        }
        true
    }
}

/// Register one executor; it connects to [`SOCKET`] when it has started.
fn start_executor() -> Result<DynamicBackgroundWorker, ()> {
    BackgroundWorkerBuilder::new("postgrest_ext executor")
        .set_type(EXECUTOR_TYPE)
        .set_library(LIBRARY)
        .set_function("postgrest_ext_executor_main")
        .enable_spi_access()
        .set_start_time(pgrx::bgworkers::BgWorkerStartTime::ConsistentState)
        .set_restart_time(None)
        // SAFETY: MyProcPid is set before any worker code runs; the postmaster signals this
        // process when the executor starts or stops (wait_for_startup waits for that)
        .set_notify_pid(unsafe { pg_sys::MyProcPid })
        .load_dynamic()
        .map_err(|_| ())
}

/// An executor connected: its first message names it. Then its socket joins the I/O
/// runtime (`runtime` entered by the caller).
pub fn accept_executor(shared: &Shared, mut stream: std::os::unix::net::UnixStream) {
    // an executor says hello at once; one that does not must not hold up the others
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let hello = pool::read_reply(&mut stream);
    match hello {
        Ok(Reply::Hello { pid }) => shared.pool.connected(stream, pid),
        _ => shared.pool.start_lost(),
    }
}
