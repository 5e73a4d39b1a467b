//! An executor: a background worker connected to the database as the authenticator that runs
//! the front's jobs (`core::wire::Job`), one at a time, each in one transaction, and answers
//! each with one `Reply` (ARCHITECTURE.md). It owns its connection to the front, its kept SPI
//! plans and its catalog invalidation callbacks; it never sees HTTP.
//!
//! It exits (code 0, never restarted) when the front closes the connection: the front retires
//! idle executors that way, and a new front starts its own.

use crate::exec::{self, transaction, Tx};
use crate::worker::signals;
use crate::{guc, schema_cache, shmem};
use pgrx::pg_sys;
use pgrx::prelude::pg_guard;
use postgrest_core::app::{self, End, Rows, Transaction};
use postgrest_core::error::{Error, PgError};
use postgrest_core::schema_cache::{partial_catalog_query, CATALOG_QUERY, CATALOG_RELATIONS_QUERY};
use postgrest_core::sql::Statement;
use postgrest_core::wire::{self, Job, Reply};
use std::ffi::CString;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;

/// An executor's entry point, called by PostgreSQL's background-worker startup on the new
/// process's only thread (registered by the front, `front::start_executor`).
#[pg_guard]
// SAFETY: the symbol name is this crate's own (prefixed postgrest_ext_) and defined once; it is
// the bgw_function_name the front registers, with the signature PostgreSQL calls.
#[unsafe(no_mangle)]
pub extern "C-unwind" fn postgrest_ext_executor_main(_arg: pg_sys::Datum) {
    signals::install();
    let settings = guc::settings();
    let (db, role) =
        (settings.get("db_name").cloned().unwrap_or_default(), settings.get("db_authenticator_role").cloned().unwrap_or_default());
    pgrx::bgworkers::BackgroundWorker::connect_worker_to_spi(Some(&db), Some(&role));
    if crate::worker::connected_as_superuser() {
        pgrx::log!("postgrest_ext: role \"{role}\" is a superuser; refusing to serve. Set postgrest.db_authenticator_role to a role without SUPERUSER.");
        return;
    }
    schedule_as_batch();
    schema_cache::watch_catalogs();
    relevant_schemas();
    let Ok(mut front) = UnixStream::connect(crate::front::SOCKET) else {
        pgrx::log!("postgrest_ext: executor cannot reach the front at {}", crate::front::SOCKET);
        return;
    };
    // SAFETY: MyProcPid is set before any worker code runs
    let pid = unsafe { pg_sys::MyProcPid };
    if wire::encode_reply(&Reply::Hello { pid }).write_to(&mut front).is_err() {
        return;
    }
    let waiter = Waiter::new(&front);
    // the front may write the next job before this one is answered: it stays here meanwhile
    let mut jobs = wire::FrameReader::default();
    let mut seen_generation = shmem::generation();
    let stop = loop {
        let job = match next_job(&mut front, &mut jobs, &waiter) {
            Ok(job) => job,
            Err(stop) => break stop,
        };
        let generation = shmem::generation();
        if generation != seen_generation {
            // the catalogs changed: plans kept for the old schema may now fail. Not those of
            // the schema cache's reads that read the system catalogs only and follow most
            // changes (the partial ones, which also serve a full read by index, take 20 ms to
            // plan); a full read's plan, a few MB, is rarely needed again.
            exec::forget_plans(|sql| sql == partial_catalog_query() || sql == CATALOG_RELATIONS_QUERY);
            seen_generation = generation;
        }
        let reply = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(job)))
            .unwrap_or_else(|_| Reply::Failed(Error::Internal("panic in the executor".into())));
        report_idle();
        if matches!(reply, Reply::Loaded { .. }) {
            crate::memory::trim_after_job();
        }
        if wire::encode_reply(&reply).write_to(&mut front).is_err() {
            break Stop::Closed;
        }
        drop(reply);
        crate::memory::trim_if_asked();
        if signals::shutdown_requested() {
            break Stop::Shutdown;
        }
    };
    // a job the front wrote meanwhile is not read: it goes to another executor, not to a 5xx
    // (not after an unreadable one: another executor would not read it either)
    if matches!(stop, Stop::Shutdown) {
        let _ = wire::encode_reply(&Reply::Leaving).write_to(&mut front);
    }
}

/// Linux's SCHED_BATCH: a job written by the front wakes this executor without preempting the
/// front, which goes on with the requests it has read (an executor runs as soon as a core is
/// free, or at the next tick). Without it each job and each reply switched the CPU from the
/// writer to the woken reader at once, and a switch back followed: under `pk` the front was
/// switched out 0.7 times a request, and 0.5 with it, for 6-12% more requests a second
/// (BENCHMARKS.md, "The front's CPU"). The same priority otherwise; no privilege is needed.
fn schedule_as_batch() {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: a plain system call on this process with a live local parameter; it touches no
    // PostgreSQL state, and failing leaves the default policy
    if unsafe { libc::sched_setscheduler(0, libc::SCHED_BATCH, &param) } != 0 {
        pgrx::debug1!("postgrest_ext: executor keeps the default scheduling policy: {}", std::io::Error::last_os_error());
    }
}

/// Why an executor stops reading jobs.
enum Stop {
    /// the front closed the connection (it retires this executor, or it is gone)
    Closed,
    /// a job that does not decode: the stream cannot be read on
    Unreadable,
    /// SIGTERM: a shutdown, or pg_terminate_backend
    Shutdown,
}

/// What an idle executor waits on: its latch (signals), the postmaster's death, the socket.
/// Made once: `WaitLatchOrSocket` would build and free an epoll set on every call.
struct Waiter(*mut pg_sys::WaitEventSet);

impl Waiter {
    fn new(front: &UnixStream) -> Waiter {
        // SAFETY: main thread; the set lives in TopMemoryContext for the life of the process,
        // the latch is this process's own and the socket stays open as long as `front`
        unsafe {
            let set = pg_sys::CreateWaitEventSet(pg_sys::TopMemoryContext, 3);
            pg_sys::AddWaitEventToSet(set, pg_sys::WL_LATCH_SET, pg_sys::PGINVALID_SOCKET, pg_sys::MyLatch, std::ptr::null_mut());
            pg_sys::AddWaitEventToSet(
                set,
                pg_sys::WL_EXIT_ON_PM_DEATH,
                pg_sys::PGINVALID_SOCKET,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            );
            pg_sys::AddWaitEventToSet(set, pg_sys::WL_SOCKET_READABLE, front.as_raw_fd(), std::ptr::null_mut(), std::ptr::null_mut());
            Waiter(set)
        }
    }

    /// Block until something happened; true when the socket is readable.
    fn wait(&self) -> bool {
        let mut event = pg_sys::WaitEvent::default();
        // SAFETY: main thread; the set is valid (see `new`) and `event` is one WaitEvent
        let n = unsafe { pg_sys::WaitEventSetWait(self.0, -1, &mut event, 1, pg_sys::PG_WAIT_EXTENSION) };
        if event.events & pg_sys::WL_LATCH_SET != 0 {
            // SAFETY: main thread, this process's latch
            unsafe { pg_sys::ResetLatch(pg_sys::MyLatch) };
        }
        n > 0 && event.events & pg_sys::WL_SOCKET_READABLE != 0
    }
}

/// Wait for the next job: already read, the socket readable, or a signal.
fn next_job(front: &mut UnixStream, jobs: &mut wire::FrameReader, waiter: &Waiter) -> Result<Job, Stop> {
    loop {
        // a job queued behind the last one is run without a wait (and a wake-up)
        let readable = jobs.has_frame() || waiter.wait();
        if signals::shutdown_requested() {
            return Err(Stop::Shutdown);
        }
        if signals::reload_if_sighup() {
            relevant_schemas();
        }
        if readable {
            break;
        }
    }
    let payload = jobs.read_frame(front).map_err(|_| Stop::Closed)?;
    wire::decode_job(&payload).map_err(|e| {
        pgrx::log!("postgrest_ext: executor got an unreadable job ({}); leaving", e.0);
        Stop::Unreadable
    })
}

fn run(job: Job) -> Reply {
    match job {
        Job::Run { generation, check_fresh, activity, job } => {
            report_activity(&activity);
            let outcome = transaction(job.read_only, |tx| {
                schema_cache::settle(tx);
                if check_fresh && shmem::generation() != generation {
                    return Ok((Reply::Stale, End::Rollback));
                }
                let (output, end) = app::execute(&mut Spi { tx }, &job)?;
                Ok((Reply::Done(output), end))
            });
            outcome.unwrap_or_else(|e| {
                log_failure(&activity, &e);
                Reply::Failed(e)
            })
        }
        Job::Load { param, relations, rules } => {
            let loaded = transaction(true, |tx| {
                schema_cache::settle(tx);
                catalog_read_settings(tx)?;
                // the document's query and parameter, and the relations whose views' rules to read
                let (query, param, views) = match relations {
                    Some(relations) => (partial_catalog_query(), param, Views::Among(relations)),
                    None => {
                        let listed = exec::query(tx, CATALOG_RELATIONS_QUERY, &[Some(param.as_str().into())], true)?;
                        let [by_index, relevant, views] =
                            listed.into_iter().next().and_then(|row| <[_; 3]>::try_from(row).ok()).unwrap_or_default();
                        // a relation the read sees is in the filter when it is dropped (for a
                        // partial read, the front put the relations there before it sent the job)
                        schema_cache::remember_exposed(relevant.as_deref().unwrap_or_default());
                        let views = Views::Listed(schema_cache::array_oids(views.as_deref().unwrap_or_default()).collect());
                        match by_index {
                            // a full read of a few relations in a big database finds them by index
                            Some(listed) => (partial_catalog_query(), listed, views),
                            None => (CATALOG_QUERY, param, views),
                        }
                    }
                };
                let document = first(exec::query(tx, query, &[Some(param.into())], true)?).ok_or(Error::NoSchemaCache)?;
                // after the read, which opened the exposed views (their updatability): their
                // rules are parsed in the relation cache
                let targets = match views {
                    _ if !rules => Vec::new(),
                    Views::Listed(views) => schema_cache::rules::targets(tx, views, None),
                    Views::Among(relations) => schema_cache::rules::targets(tx, relations, Some(&schema_cache::relevant_namespaces())),
                };
                Ok((Reply::Loaded { document, targets }, End::Commit))
            });
            loaded.unwrap_or_else(|e| {
                pgrx::warning!("postgrest_ext: could not read the schema cache: {e}");
                Reply::Failed(e)
            })
        }
        Job::Ping => transaction(true, |tx| {
            schema_cache::settle(tx);
            Ok((Reply::Pong { generation: shmem::generation() }, End::Commit))
        })
        .unwrap_or_else(Reply::Failed),
    }
}

/// The relations whose views' rules a read reads: the views `CATALOG_RELATIONS_QUERY` listed
/// (a full read), or those of a partial read's relations that are views of the relevant
/// schemas.
enum Views {
    Listed(Vec<u32>),
    Among(Vec<u32>),
}

/// The catalog reads' settings. Their cost estimates grow with the schema: past
/// jit_above_cost, JIT compiling them would take longer than running them (seconds at 10,000
/// tables). Planning the catalog query takes 20 ms (apflora) and its plan does not depend on
/// $1: the kept plan is made generic once instead of planned again at every read.
fn catalog_read_settings(tx: &Tx) -> Result<(), Error> {
    exec::query(
        tx,
        "SELECT pg_catalog.set_config('jit', 'off', true), pg_catalog.set_config('plan_cache_mode', 'force_generic_plan', true)",
        &[],
        true,
    )
    .map(drop)
}

/// The one text column of the one row a catalog read answers.
fn first(rows: Vec<Vec<Option<String>>>) -> Option<String> {
    rows.into_iter().next().and_then(|r| r.into_iter().next().flatten())
}

/// The schemas whose catalog changes count (`schema_cache::settle`), from the configuration.
fn relevant_schemas() {
    if let Ok(config) = guc::config() {
        schema_cache::set_relevant_schemas(config.db_schemas.iter().chain(&config.db_extra_search_path).cloned().collect());
    }
}

/// Caught errors are not logged by PostgreSQL: server-side failures (5xx) go to the log,
/// client errors only at DEBUG1 so a busy API does not flood it.
fn log_failure(activity: &str, e: &Error) {
    // the request line can be as long as the URL; the log needs its start
    let activity = match activity.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &activity[..cut]),
        None => activity.to_string(),
    };
    if e.status() >= 500 {
        pgrx::log!("postgrest_ext: {activity} failed: {e}");
    } else {
        pgrx::debug1!("postgrest_ext: {activity} failed: {e}");
    }
}

/// Show the request in pg_stat_activity (`query` column) while it runs.
fn report_activity(activity: &str) {
    if let Ok(c) = CString::new(activity) {
        // SAFETY: main thread; the string is copied into the backend's status entry
        unsafe { pg_sys::pgstat_report_activity(pg_sys::BackendState::STATE_RUNNING, c.as_ptr()) };
    }
}

fn report_idle() {
    // SAFETY: main thread; a null query leaves the last one shown
    unsafe { pg_sys::pgstat_report_activity(pg_sys::BackendState::STATE_IDLE, std::ptr::null()) };
}

/// One open transaction, driven by `core::app::execute`.
struct Spi<'a> {
    tx: &'a Tx,
}

impl Transaction for Spi<'_> {
    fn set_read_only(&mut self) {
        // SAFETY: a plain global of this backend, read by the executor at the next statement;
        // only ever raised (a hot standby starts read-only and must stay so)
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
    // SAFETY: called inside a transaction (catalog lookups need one); `c` outlives the call
    let oid = unsafe { pg_sys::get_role_oid(c.as_ptr(), true) };
    // SAFETY: as above; a valid oid from get_role_oid
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
