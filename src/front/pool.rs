//! The executor pool, owned by the front: connected executors, idle or leased, and how many
//! are being started. Requests lease an idle executor (waiting in line when none is, up to
//! `db-pool-acquisition-timeout`), and ask the front's main thread to start more up to
//! `db-pool`; the main thread starts them and retires the idle ones past
//! `db-pool-max-idletime`. Plain Rust: no PostgreSQL call happens here.
//!
//! Slow endpoints (jobs that averaged [`SLOW`] or more) may hold at most three quarters of
//! `db-pool` together, so that a burst of slow calls leaves executors for everything else:
//! fast requests keep flowing while it lasts. A pool smaller than four has no such reserve.

use bytes::Bytes;
use postgrest_core::budget::{Budget, Reservation};
use postgrest_core::error::Error;
use postgrest_core::wire::{self, Frame, Reply};
use std::collections::HashMap;
use std::os::fd::AsRawFd;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::sync::Notify;

/// One executor's connection.
pub struct Executor {
    stream: UnixStream,
    pub pid: i32,
    idle_since: Instant,
}

impl Executor {
    pub fn new(stream: UnixStream, pid: i32) -> Executor {
        Executor { stream, pid, idle_since: Instant::now() }
    }

    /// Send one job (its frame, in one vectored write when the socket takes it) and await its
    /// reply, read into one buffer that the reply's columns are slices of.
    pub async fn call(&mut self, frame: &Frame) -> std::io::Result<Reply> {
        let mut written = 0;
        loop {
            let slices = frame.slices_from(written);
            if slices.is_empty() {
                break;
            }
            match self.stream.write_vectored(&slices).await? {
                0 => return Err(std::io::ErrorKind::WriteZero.into()),
                n => written += n,
            }
        }
        // as wire::read_frame: a small reply, header and all, is one read
        let mut buf: Vec<u8> = Vec::with_capacity(wire::FIRST_READ);
        while buf.len() < 4 {
            read_more(&mut self.stream, &mut buf).await?;
        }
        let total = wire::frame_total(&buf).map_err(bad_frame)?;
        buf.reserve_exact(total - buf.len());
        while buf.len() < total {
            read_more(&mut self.stream, &mut buf).await?;
        }
        wire::decode_reply(&Bytes::from(buf).slice(4..)).map_err(bad_frame)
    }

    /// An idle executor's socket has nothing to read: readable means it closed (it died).
    fn is_alive(&self) -> bool {
        let mut fd = libc::pollfd { fd: self.stream.as_raw_fd(), events: libc::POLLIN | libc::POLLRDHUP, revents: 0 };
        // SAFETY: one valid pollfd, zero timeout; plain libc, no PostgreSQL
        let n = unsafe { libc::poll(&mut fd, 1, 0) };
        n == 0
    }
}

/// Read what the socket has into `buf`'s spare room; EOF is an error (the executor went away).
async fn read_more(stream: &mut UnixStream, buf: &mut Vec<u8>) -> std::io::Result<()> {
    if stream.read_buf(buf).await? == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    Ok(())
}

fn bad_frame(e: wire::WireError) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, e.0)
}

/// Read one reply frame, blocking (an executor's hello, on the accepting thread).
pub fn read_reply(stream: &mut std::os::unix::net::UnixStream) -> std::io::Result<Reply> {
    wire::decode_reply(&wire::read_frame(stream)?).map_err(bad_frame)
}

#[derive(Default)]
struct State {
    idle: Vec<Executor>,
    /// connected executors, idle or leased
    live: usize,
    /// asked of the main thread, not yet connected
    starting: usize,
    /// starts the main thread should make
    wanted: usize,
    /// after a failed start (max_worker_processes), no new start is asked before this
    blocked_until: Option<Instant>,
    /// executors that said hello, until the main thread has seen them start
    greeted: std::collections::HashSet<i32>,
}

/// An endpoint whose jobs average this long holds executors from the slow share.
pub const SLOW: Duration = Duration::from_millis(100);

/// Endpoints remembered (their mean job time); past this many the memory starts over.
const MAX_ENDPOINTS: usize = 4096;

pub struct Pool {
    state: Mutex<State>,
    /// an executor came back or connected, or starting it failed
    returned: Notify,
    /// executors that slow endpoints may hold at once
    slow_share: Budget,
    /// mean job time per endpoint (method and path), in seconds, decaying
    endpoints: Mutex<HashMap<String, f64>>,
}

impl Default for Pool {
    fn default() -> Pool {
        Pool { state: Mutex::default(), returned: Notify::new(), slow_share: Budget::counting(0, 1), endpoints: Mutex::new(HashMap::new()) }
    }
}

/// The bounds of the pool, from the configuration.
#[derive(Clone, Copy)]
pub struct Limits {
    pub warm: usize,
    pub max: usize,
    pub acquisition_timeout: Duration,
    pub max_idle: Duration,
}

impl Pool {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// An idle executor, waiting in line for one up to the acquisition timeout. `wake` asks
    /// the main thread to start one. A job of a slow `endpoint` first waits for room in the
    /// slow share.
    pub async fn acquire(&self, limits: Limits, wake: impl Fn(), endpoint: Option<&str>) -> Result<Lease<'_>, Error> {
        let deadline = tokio::time::Instant::now() + limits.acquisition_timeout;
        let share = limits.max - limits.max / 4;
        if self.slow_share.size() != share as u64 {
            self.slow_share.resize(share as u64);
        }
        let mut slow = None;
        loop {
            // checked again on each turn: the endpoint may be found slow while this job waits
            if slow.is_none() && limits.max >= 4 && endpoint.is_some_and(|e| self.is_slow(e)) {
                // the wake-up that brought this job here may have been for an executor it must
                // now leave to others: pass it on (a spurious one costs a look, a lost one a wait)
                self.returned.notify_one();
                let mut held = self.slow_share.none();
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                held.grow_to(1, left).await.map_err(|_| Error::PoolTimeout)?;
                slow = Some(held);
            }
            // listen before looking, so that a return between the look and the wait is seen
            let returned = self.returned.notified();
            tokio::pin!(returned);
            returned.as_mut().enable();
            {
                let mut state = self.lock();
                while let Some(executor) = state.idle.pop() {
                    if executor.is_alive() {
                        return Ok(Lease { pool: self, executor: Some(executor), in_flight: false, _slow: slow.take() });
                    }
                    state.live = state.live.saturating_sub(1);
                }
                let blocked = state.blocked_until.is_some_and(|t| Instant::now() < t);
                if state.live + state.starting < limits.max && !blocked {
                    state.starting += 1;
                    state.wanted += 1;
                    wake();
                }
            }
            if tokio::time::timeout_at(deadline, returned).await.is_err() {
                return Err(Error::PoolTimeout);
            }
        }
    }

    fn is_slow(&self, endpoint: &str) -> bool {
        let endpoints = self.endpoints.lock().unwrap_or_else(|p| p.into_inner());
        endpoints.get(endpoint).is_some_and(|mean| *mean >= SLOW.as_secs_f64())
    }

    /// A job of `endpoint` held its executor for `took`.
    pub fn observe(&self, endpoint: &str, took: Duration) {
        let mut endpoints = self.endpoints.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(mean) = endpoints.get_mut(endpoint) {
            // recent jobs weigh most: a few fast ones make a slow endpoint fast again
            *mean = 0.7 * *mean + 0.3 * took.as_secs_f64();
            return;
        }
        if endpoints.len() >= MAX_ENDPOINTS {
            endpoints.clear();
        }
        endpoints.insert(endpoint.to_string(), took.as_secs_f64());
    }

    /// A newly started executor connected.
    pub fn connected(&self, executor: Executor) {
        let mut state = self.lock();
        state.starting = state.starting.saturating_sub(1);
        state.live += 1;
        state.greeted.insert(executor.pid);
        state.idle.push(executor);
        drop(state);
        self.returned.notify_one();
    }

    /// For the main thread: how many executors to start now.
    pub fn take_wanted(&self) -> usize {
        std::mem::take(&mut self.lock().wanted)
    }

    /// For the main thread: asked for `n` more executors at start (the warm ones).
    pub fn want(&self, n: usize) {
        let mut state = self.lock();
        state.starting += n;
        state.wanted += n;
    }

    /// For the main thread: a start failed (no free background worker slot).
    pub fn start_failed(&self) {
        let mut state = self.lock();
        state.starting = state.starting.saturating_sub(1);
        state.blocked_until = Some(Instant::now() + Duration::from_secs(1));
        self.returned.notify_waiters();
    }

    /// For the main thread: did the executor with this pid connect (asked once)?
    pub fn take_greeted(&self, pid: i32) -> bool {
        self.lock().greeted.remove(&pid)
    }

    /// For the main thread: an executor that never connected is given up on. Starts pause
    /// for a while: one that refused (a superuser authenticator) would refuse again.
    pub fn start_lost(&self) {
        let mut state = self.lock();
        state.starting = state.starting.saturating_sub(1);
        state.blocked_until = Some(Instant::now() + Duration::from_secs(5));
        self.returned.notify_waiters();
    }

    /// For the main thread, each tick: close the executors idle longer than `max_idle`
    /// beyond the warm ones (they exit when their socket closes), and ask for new ones when
    /// fewer than the warm ones are left (one was terminated).
    pub fn maintain(&self, limits: Limits) {
        let mut state = self.lock();
        // the longest idle are at the front: the pool pushes and pops at the back
        while state.live > limits.warm {
            match state.idle.first() {
                Some(e) if e.idle_since.elapsed() > limits.max_idle => {
                    state.idle.remove(0);
                    state.live = state.live.saturating_sub(1);
                }
                _ => break,
            }
        }
        let before = state.idle.len();
        state.idle.retain(Executor::is_alive);
        let dead = before - state.idle.len();
        state.live = state.live.saturating_sub(dead);
        let short = limits.warm.saturating_sub(state.live + state.starting);
        if short > 0 && state.blocked_until.is_none_or(|t| Instant::now() >= t) {
            state.starting += short;
            state.wanted += short;
        }
    }

    /// Connected executors, idle or leased.
    pub fn live(&self) -> usize {
        self.lock().live
    }

    /// Close every idle executor (shutdown).
    pub fn close_idle(&self) {
        let mut state = self.lock();
        let n = state.idle.len();
        state.idle.clear();
        state.live = state.live.saturating_sub(n);
    }

    fn give_back(&self, mut executor: Executor) {
        executor.idle_since = Instant::now();
        self.lock().idle.push(executor);
        self.returned.notify_one();
    }

    fn lost(&self) {
        let mut state = self.lock();
        state.live = state.live.saturating_sub(1);
        drop(state);
        self.returned.notify_one();
    }
}

/// An executor leased to one request; it goes back to the pool when dropped, unless its
/// connection broke.
pub struct Lease<'a> {
    pool: &'a Pool,
    executor: Option<Executor>,
    in_flight: bool,
    /// a slow endpoint's room in the slow share, given back with the executor
    _slow: Option<Reservation<'a>>,
}

impl Lease<'_> {
    /// Send one job and wait for its reply; a broken connection is an error of this request
    /// only (PGRST001), and the executor is forgotten.
    pub async fn call(&mut self, frame: &Frame) -> Result<Reply, Error> {
        let executor = self.executor.as_mut().ok_or_else(|| Error::Internal("lease used after loss".into()))?;
        // dropped before the reply is read, the lease must not give the executor back: its
        // reply would answer the next job
        self.in_flight = true;
        let outcome = executor.call(frame).await;
        self.in_flight = false;
        match outcome {
            Ok(reply) => Ok(reply),
            Err(e) => {
                let pid = executor.pid;
                self.executor = None;
                self.pool.lost();
                Err(Error::ExecutorLost(format!("executor {pid}: {e}")))
            }
        }
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        match self.executor.take() {
            Some(executor) if !self.in_flight => self.pool.give_back(executor),
            // closed: the executor exits when it sees it
            Some(_) => self.pool.lost(),
            None => {}
        }
    }
}
