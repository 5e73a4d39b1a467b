//! SIGTERM: PostgREST's graceful shutdown (Warp's). The front stops accepting, lets the
//! requests in progress finish (their responses say `Connection: close`), and closes idle
//! keep-alive connections at once.
//!
//! Unlike Warp it does not wait for ever: the front is the database's whole API, and nothing
//! listens until it is gone. A request still running after [`DRAIN`] has its statement
//! cancelled, so its transaction rolls back and it gets the cancel error; one still waiting
//! (for an executor, the slow share or its body's budget: `Pool::stopped`) gets a 503. At a
//! cluster shutdown the postmaster terminates the executors too: their requests fail at once,
//! and the drain ends when the last executor has gone.

use super::Shared;
use crate::worker::signals;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How long the requests in progress at a SIGTERM may go on.
const DRAIN: Duration = Duration::from_secs(5);
/// How long the cancelled requests then have to send their answers.
const LAST_ANSWERS: Duration = Duration::from_secs(1);

/// Whether the front is draining, and the client connections still open.
pub struct Shutdown {
    draining: watch::Sender<bool>,
    open: AtomicUsize,
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown { draining: watch::Sender::new(false), open: AtomicUsize::new(0) }
    }
}

impl Shutdown {
    /// Resolves once the front drains: no new connection, each open one ends after its
    /// request in progress.
    pub async fn draining(&self) {
        let _ = self.draining.subscribe().wait_for(|d| *d).await;
    }

    /// Count a client connection as open until the guard is dropped.
    pub fn opened(&self) -> Open<'_> {
        self.open.fetch_add(1, Ordering::Relaxed);
        Open(self)
    }

    fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }
}

pub struct Open<'a>(&'a Shutdown);

impl Drop for Open<'_> {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// After a SIGTERM, on the main thread: drain the connections (module comment). Returns once
/// none is open, or the last answers had their time.
pub fn drain(shared: &Shared) {
    // no executor starts from here on: one asked for at a cluster shutdown would never come
    shared.shutdown.draining.send_replace(true);
    let open = || shared.shutdown.open() > 0;
    wait_while(|| open() && shared.pool.live() > 0, DRAIN);
    if !open() {
        return;
    }
    let cancelled = shared.pool.stop();
    for pid in &cancelled {
        // SAFETY: plain libc kill of an executor of ours, still connected (so its pid is not
        // reused): SIGINT is PostgreSQL's cancel (pg_cancel_backend), handled at its next
        // CHECK_FOR_INTERRUPTS like a statement_timeout
        unsafe { libc::kill(*pid, libc::SIGINT) };
    }
    if !cancelled.is_empty() {
        // not ereport: at its end it processes the pending SIGTERM, and the front would exit
        eprintln!("postgrest_ext: shutting down: cancelled the {} requests still running after {DRAIN:?}", cancelled.len());
    }
    wait_while(open, LAST_ANSWERS);
}

fn wait_while(condition: impl Fn() -> bool, most: Duration) {
    let until = Instant::now() + most;
    while condition() && Instant::now() < until {
        signals::wait_latch(20);
    }
}
