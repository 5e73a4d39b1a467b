//! The executor pool, owned by the front: connected executors and the jobs each runs or has
//! queued, and how many are being started. A job goes to an idle executor. When none is idle,
//! a job of a fast endpoint (its jobs averaged under [`QUEUE_BELOW`]) is written to a busy
//! executor whose one running job is fast too: the executor reads it as soon as it answers,
//! without going to sleep and being woken again (on a loaded server, that wake-up was the
//! largest cost of an executor's job after the query itself). Otherwise the request asks the
//! front's main thread for one more executor, up to `db-pool`, and waits in line up to
//! `db-pool-acquisition-timeout`. The main thread starts executors and retires the idle ones
//! past `db-pool-max-idletime` beyond the warm ones, and any past `db-pool-max-lifetime`.
//! Plain Rust: no PostgreSQL call happens here.
//!
//! Slow endpoints (jobs that averaged [`SLOW`] or more) may hold at most three quarters of
//! `db-pool` together, so that a burst of slow calls leaves executors for everything else:
//! fast requests keep flowing while it lasts. An endpoint none of whose jobs has ended yet may
//! be slow: its jobs hold from the same share until one has, except one of each such endpoint
//! at a time, which may go without (so that a new fast endpoint learns it is fast while slow
//! ones hold the share). A pool smaller than four has no such reserve.

use super::socket::{self, Jobs, Replies};
use postgrest_core::budget::{Budget, Reservation};
use postgrest_core::error::Error;
use postgrest_core::wire::{self, Frame, FrameReader, Reply};
use std::collections::{HashMap, VecDeque};
use std::os::fd::RawFd;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, watch, Notify};

/// One executor's connection. Jobs are written in turn; the replies come back in the same
/// order and are read by the connection's reader task ([`read_replies`]), which hands each to
/// the request that owes it.
struct Conn {
    pid: i32,
    fd: RawFd,
    writer: tokio::sync::Mutex<Jobs>,
    /// the jobs written and not answered, oldest first
    owed: Mutex<VecDeque<Owed>>,
}

struct Owed {
    answer: oneshot::Sender<Result<Answer, Lost>>,
    written: Instant,
}

/// A job's reply, and how long the executor spent on it (not counting a wait in its queue).
pub struct Answer {
    pub reply: Reply,
    pub took: Duration,
}

/// Why a job got no reply.
pub enum Lost {
    /// the executor went away while it ran the job (or may have): the request's error
    Running(String),
    /// it went away before the job began: the job can be sent to another executor
    NotStarted,
}

impl Conn {
    fn owed(&self) -> MutexGuard<'_, VecDeque<Owed>> {
        self.owed.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// End the connection both ways: the executor reads EOF and exits, the reader task ends.
    fn close(&self) {
        // SAFETY: plain libc on the socket this connection owns; it stays open (the halves
        // live as long as `self`), so the fd is not another file's
        unsafe { libc::shutdown(self.fd, libc::SHUT_RDWR) };
    }
}

/// Read an executor's replies until its connection ends or it says it leaves; then it leaves
/// the pool. When it went away, the job it was running fails; the jobs queued behind it (all
/// of them, when it said it leaves) never began and may be sent elsewhere.
async fn read_replies(pool: Arc<Pool>, conn: Arc<Conn>, stream: Replies) {
    let _unfinished = ForgetOwed(conn.clone());
    let mut frames = FrameReader::default();
    let mut last_reply = Instant::now();
    // a large reply's size, held from its header until the response made of it has been sent
    let mut held: Option<Reservation> = None;
    let ended = loop {
        if held.is_none() {
            if let Some(len) = frames.own_buffer_size() {
                // it cannot wait: its transaction is over, and the requests whose bodies hold
                // the budget may be waiting for this very reply
                let mut reservation = pool.inflight.none();
                reservation.overdraw(len as u64);
                held = Some(reservation);
            }
        }
        let frame = match frames.take_holding(&mut held) {
            Ok(Some(frame)) => frame,
            Ok(None) => {
                let room = match frames.room() {
                    Ok(room) => room,
                    Err(e) => break Ended::garbled(e.0),
                };
                match stream.read(room).await {
                    Ok(0) => break Ended::Lost { why: "connection closed".to_string(), garbled: false },
                    Ok(n) => frames.filled(n),
                    Err(e) => break Ended::Lost { why: e.to_string(), garbled: false },
                }
                continue;
            }
            Err(e) => break Ended::garbled(e.0),
        };
        // a reply that arrived whole but does not decode was answered: the executor may have
        // gone on to the next job
        let reply = match wire::decode_reply(&frame) {
            Ok(Reply::Leaving) => break Ended::Left,
            Ok(reply) => reply,
            Err(e) => break Ended::garbled(e.0),
        };
        let Some(owed) = conn.owed().pop_front() else { break Ended::garbled("a reply to no job") };
        pool.answered(&conn);
        // its time began when it was written, or when the job ahead of it was answered
        let took = owed.written.max(last_reply).elapsed();
        last_reply = Instant::now();
        let _ = owed.answer.send(Ok(Answer { reply, took }));
    };
    conn.close();
    pool.gone(&conn);
    let mut owed = std::mem::take(&mut *conn.owed());
    let Ended::Lost { why, garbled } = ended else {
        // it said it leaves before it read any of them
        for queued in owed {
            let _ = queued.answer.send(Err(Lost::NotStarted));
        }
        return;
    };
    if let Some(running) = owed.pop_front() {
        let _ = running.answer.send(Err(Lost::Running(why.clone())));
    }
    // an executor runs a job only after it answered the one before, and a reply it wrote is
    // read before the end of the stream: the jobs behind the first never began
    for queued in owed {
        let _ = queued.answer.send(Err(if garbled { Lost::Running(why.clone()) } else { Lost::NotStarted }));
    }
}

/// When the reader task is dropped unfinished (the runtime shuts down), the requests still
/// owed a reply learn that it is lost: some wait on the blocking pool, whose threads the
/// shutdown would otherwise wait for.
struct ForgetOwed(Arc<Conn>);

impl Drop for ForgetOwed {
    fn drop(&mut self) {
        self.0.owed().clear();
    }
}

/// How an executor's stream of replies ended.
enum Ended {
    /// it said it leaves ([`Reply::Leaving`])
    Left,
    /// it went away, or its stream cannot be read on (`garbled`: then it may have begun the
    /// jobs behind the first one too)
    Lost { why: String, garbled: bool },
}

impl Ended {
    fn garbled(why: &str) -> Ended {
        Ended::Lost { why: why.to_string(), garbled: true }
    }
}

/// Read one reply frame, blocking (an executor's hello, on the accepting thread).
pub fn read_reply(stream: &mut std::os::unix::net::UnixStream) -> std::io::Result<Reply> {
    wire::decode_reply(&wire::read_frame(stream)?).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.0))
}

/// A connected executor as the pool sees it.
struct Slot {
    conn: Arc<Conn>,
    /// the jobs written to it and not answered, the running one first: whether a job may be
    /// queued behind each (it is of a fast endpoint)
    jobs: VecDeque<bool>,
    /// since when its running job runs, or it is idle
    since: Instant,
    /// when it connected: it retires at an idle moment past `db-pool-max-lifetime`
    connected: Instant,
}

impl Slot {
    fn is_idle(&self) -> bool {
        self.jobs.is_empty()
    }

    /// Running a fast job, not for long, with fewer than [`QUEUED`] fast ones behind it.
    fn has_room(&self) -> bool {
        (1..=QUEUED).contains(&self.jobs.len()) && self.jobs.iter().all(|fast| *fast) && self.since.elapsed() < QUEUE_BELOW
    }
}

#[derive(Default)]
struct State {
    /// connected executors, idle or busy
    executors: Vec<Slot>,
    /// asked of the main thread, not yet connected
    starting: usize,
    /// starts the main thread should make
    wanted: usize,
    /// after a failed start (max_worker_processes), no new start is asked before this
    blocked_until: Option<Instant>,
    /// executors that said hello, until the main thread has seen them start
    greeted: std::collections::HashSet<i32>,
}

impl State {
    /// The slot of `conn` (by identity: a pid may be reused once its executor is gone).
    fn slot(&mut self, conn: &Conn) -> Option<&mut Slot> {
        self.executors.iter_mut().find(|s| std::ptr::eq(&*s.conn, conn))
    }
}

/// An endpoint whose jobs average this long holds executors from the slow share.
pub const SLOW: Duration = Duration::from_millis(100);

/// A job of an endpoint whose jobs average less than this may wait in a busy executor's queue,
/// behind one such job that has not run longer than this.
pub const QUEUE_BELOW: Duration = Duration::from_millis(5);

/// How many jobs may wait in one executor's queue.
const QUEUED: usize = 2;

/// Endpoints remembered (their mean job time); past this many the memory starts over.
const MAX_ENDPOINTS: usize = 4096;

pub struct Pool {
    state: Mutex<State>,
    /// an executor became idle or connected, or went away, or starting one failed
    returned: Notify,
    /// a busy executor has room for a queued job (only jobs that may queue wait for it)
    room: Notify,
    /// executors that slow endpoints may hold at once
    slow_share: Budget,
    /// mean job time per endpoint (method and path), in seconds, decaying
    endpoints: Mutex<HashMap<String, f64>>,
    /// some unproven endpoint's first job ended (it is in `endpoints` now), or its last job in
    /// flight did: the jobs waiting in [`Pool::prove`] look whether that was theirs
    proven: Notify,
    /// the jobs of each endpoint that was unproven when they asked, counted from then until
    /// their lease ends (waiting for an executor, or running)
    unproven: Mutex<HashMap<String, usize>>,
    /// the front's in-flight budget, which large replies count against
    inflight: Budget,
    /// the front is shutting down: no job is taken any more (set under the state's lock, so
    /// that no job is placed after [`Pool::stop`] listed the busy executors)
    stopped: watch::Sender<bool>,
}

impl Pool {
    pub fn new(inflight: Budget) -> Pool {
        Pool {
            state: Mutex::default(),
            returned: Notify::new(),
            room: Notify::new(),
            slow_share: Budget::counting(0, 1),
            endpoints: Mutex::new(HashMap::new()),
            proven: Notify::new(),
            unproven: Mutex::default(),
            inflight,
            stopped: watch::Sender::new(false),
        }
    }
}

/// A request the front can no longer take: it is shutting down.
pub fn shutting_down() -> Error {
    Error::ExecutorLost("the server is shutting down".into())
}

/// The bounds of the pool, from the configuration.
#[derive(Clone, Copy)]
pub struct Limits {
    pub warm: usize,
    pub max: usize,
    pub acquisition_timeout: Duration,
    pub max_idle: Duration,
    pub max_lifetime: Duration,
}

impl Pool {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// An executor for one job: an idle one, else (for a job of a fast endpoint) room in a
    /// busy one's queue, else the first that comes back, waiting in line up to the acquisition
    /// timeout. `wake` asks the main thread to start one. A job of a slow `endpoint` first
    /// waits for room in the slow share, and one of an unproven endpoint may too.
    pub async fn acquire(&self, limits: Limits, wake: impl Fn(), endpoint: Option<&str>) -> Result<Lease<'_>, Error> {
        let deadline = tokio::time::Instant::now() + limits.acquisition_timeout;
        let share = limits.max - limits.max / 4;
        if self.slow_share.size() != share as u64 {
            self.slow_share.resize(share as u64);
        }
        let mut slow = None;
        let mut unproven = None;
        let mut patience = None;
        let mut woken = false;
        loop {
            // checked again on each turn: the endpoint may be found slow while this job waits
            let mean = endpoint.and_then(|e| self.mean(e));
            let queues = mean.is_some_and(|m| m < QUEUE_BELOW);
            if slow.is_none() && limits.max >= 4 && mean.is_some_and(|m| m >= SLOW) {
                // the wake-up that brought this job here may have been for an executor it must
                // now leave to others: pass it on (a spurious one costs a look, a lost one a wait)
                self.returned.notify_one();
                let mut held = self.slow_share.none();
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                tokio::select! {
                    granted = held.grow_to(1, left) => granted.map_err(|_| Error::PoolTimeout)?,
                    () = self.stopped() => return Err(shutting_down()),
                }
                slow = Some(held);
            } else if let Some(e) = endpoint.filter(|_| mean.is_none() && slow.is_none() && unproven.is_none() && limits.max >= 4) {
                match self.prove(e, deadline).await? {
                    Proving::Held(held, guard) => (slow, unproven) = (Some(held), Some(guard)),
                    Proving::Alone(guard) => unproven = Some(guard),
                    Proving::LookAgain => continue,
                }
            }
            // listen before looking, so that a return between the look and the wait is seen
            let returned = self.returned.notified();
            let room = self.room.notified();
            tokio::pin!(returned, room);
            returned.as_mut().enable();
            if queues {
                room.as_mut().enable();
            }
            {
                let mut state = self.lock();
                if *self.stopped.borrow() {
                    return Err(shutting_down());
                }
                // a busy executor's queue first, the one whose job has run longest (likely the
                // first to end): it takes the job without a wake-up. Else the executor idle the
                // shortest time (the others can retire).
                let executors = &mut state.executors;
                let roomy = executors.iter().enumerate().filter(|(_, s)| queues && s.has_room()).min_by_key(|(_, s)| s.since);
                let idle = || executors.iter().enumerate().filter(|(_, s)| s.is_idle()).max_by_key(|(_, s)| s.since);
                if let Some(at) = roomy.or_else(idle).map(|(at, _)| at) {
                    let slot = &mut executors[at];
                    let took_idle = slot.is_idle();
                    if took_idle {
                        slot.since = Instant::now();
                    }
                    slot.jobs.push_back(queues);
                    let lease =
                        Lease { pool: self, conn: slot.conn.clone(), written: false, _slow: slow.take(), _unproven: unproven.take() };
                    // the wake-up that brought this job here may have been for the other kind of
                    // place (an idle executor, room in a queue), which some other job waits for
                    if woken {
                        if took_idle && executors.iter().any(Slot::has_room) {
                            self.room.notify_one();
                        } else if !took_idle && executors.iter().any(Slot::is_idle) {
                            self.returned.notify_one();
                        }
                    }
                    return Ok(lease);
                }
                // a job that may queue first waits a moment for room: a busy executor ends its
                // fast job within that, and a few busy executors sleep less than many
                let now = tokio::time::Instant::now();
                let patient = queues && *patience.get_or_insert(now + QUEUE_BELOW) > now;
                let blocked = state.blocked_until.is_some_and(|t| Instant::now() < t);
                if !patient && state.executors.len() + state.starting < limits.max && !blocked {
                    state.starting += 1;
                    state.wanted += 1;
                    wake();
                }
            }
            let wait = async {
                if queues {
                    tokio::select! {
                        () = returned => {}
                        () = room => {}
                    }
                } else {
                    returned.await
                }
            };
            let until = match patience {
                Some(p) if p > tokio::time::Instant::now() => p.min(deadline),
                _ => deadline,
            };
            if tokio::time::timeout_at(until, wait).await.is_err() && until == deadline {
                return Err(Error::PoolTimeout);
            }
            woken = true;
        }
    }

    /// A place for a job of `endpoint`, none of whose jobs has ended yet: room in the slow
    /// share if there is some, else none when no other job of it is in flight, else a wait for
    /// room, for its first job to end (then the caller looks again) or for its last one in
    /// flight to (then it goes alone).
    async fn prove(&self, endpoint: &str, deadline: tokio::time::Instant) -> Result<Proving<'_>, Error> {
        // listen before looking, so that a first job ending between the two is seen
        let proven = self.proven.notified();
        tokio::pin!(proven);
        proven.as_mut().enable();
        if self.mean(endpoint).is_some() {
            return Ok(Proving::LookAgain);
        }
        let mut held = self.slow_share.none();
        if held.try_grow_to(1) {
            return Ok(Proving::Held(held, self.unproven_job(endpoint)));
        }
        if let Some(alone) = self.only_unproven_job(endpoint) {
            return Ok(Proving::Alone(alone));
        }
        // as for a slow endpoint: the wake-up that brought this job here is passed on
        self.returned.notify_one();
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let granted = {
            // one wait for room throughout: it keeps its place in the share's line while other
            // endpoints are proven
            let wait = held.grow_to(1, left);
            tokio::pin!(wait);
            loop {
                tokio::select! {
                    biased;
                    granted = &mut wait => break granted,
                    () = &mut proven => {
                        proven.set(self.proven.notified());
                        proven.as_mut().enable();
                        if self.mean(endpoint).is_some() {
                            return Ok(Proving::LookAgain);
                        }
                        if let Some(alone) = self.only_unproven_job(endpoint) {
                            return Ok(Proving::Alone(alone));
                        }
                    }
                    () = self.stopped() => return Err(shutting_down()),
                }
            }
        };
        granted.map_err(|_| Error::PoolTimeout)?;
        Ok(Proving::Held(held, self.unproven_job(endpoint)))
    }

    fn unproven(&self) -> MutexGuard<'_, HashMap<String, usize>> {
        self.unproven.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Count a job of the unproven `endpoint` in flight.
    fn unproven_job(&self, endpoint: &str) -> Unproven<'_> {
        *self.unproven().entry(endpoint.to_string()).or_default() += 1;
        Unproven { pool: self, endpoint: endpoint.to_string() }
    }

    /// Count a job of the unproven `endpoint` in flight if no other is.
    fn only_unproven_job(&self, endpoint: &str) -> Option<Unproven<'_>> {
        let mut unproven = self.unproven();
        if unproven.contains_key(endpoint) {
            return None;
        }
        unproven.insert(endpoint.to_string(), 1);
        Some(Unproven { pool: self, endpoint: endpoint.to_string() })
    }

    /// The mean job time of `endpoint`, once one of its jobs has ended.
    fn mean(&self, endpoint: &str) -> Option<Duration> {
        let endpoints = self.endpoints.lock().unwrap_or_else(|p| p.into_inner());
        endpoints.get(endpoint).map(|mean| Duration::from_secs_f64(*mean))
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
        drop(endpoints);
        self.proven.notify_waiters();
    }

    /// A newly started executor connected (on a thread in the I/O runtime: its reader task
    /// is spawned there).
    pub fn connected(self: &Arc<Self>, stream: std::os::unix::net::UnixStream, pid: i32) {
        let Ok((read, write)) = socket::split(stream) else {
            self.start_lost();
            return;
        };
        // its replies end the I/O thread's spin
        super::spin::watch(write.fd());
        let conn = Arc::new(Conn { pid, fd: write.fd(), writer: tokio::sync::Mutex::new(write), owed: Mutex::default() });
        let mut state = self.lock();
        state.starting = state.starting.saturating_sub(1);
        state.greeted.insert(pid);
        state.executors.push(Slot { conn: conn.clone(), jobs: VecDeque::new(), since: Instant::now(), connected: Instant::now() });
        drop(state);
        tokio::spawn(read_replies(self.clone(), conn, read));
        self.returned.notify_one();
    }

    /// The oldest job of `conn` was answered.
    fn answered(&self, conn: &Conn) {
        let mut state = self.lock();
        let Some(slot) = state.slot(conn) else { return };
        slot.jobs.pop_front();
        slot.since = Instant::now();
        let (idle, room) = (slot.is_idle(), slot.has_room());
        drop(state);
        self.offered(idle, room);
    }

    /// An executor has one job fewer: wake a job waiting for what it now offers.
    fn offered(&self, idle: bool, room: bool) {
        if idle {
            self.returned.notify_one();
        } else if room {
            self.room.notify_one();
        }
    }

    /// `conn` ended (or broke): no more jobs go to it.
    fn gone(&self, conn: &Conn) {
        self.lock().executors.retain(|s| !std::ptr::eq(&*s.conn, conn));
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
    /// beyond the warm ones (they exit when their socket closes), and an idle one older than
    /// `max_lifetime` (PostgREST's `db-pool-max-lifetime`: what PostgreSQL caches in a process
    /// only grows), one at a time; and ask for new ones when fewer than the warm ones are left
    /// (one was retired so, or terminated).
    pub fn maintain(&self, limits: Limits) {
        let mut state = self.lock();
        while state.executors.len() > limits.warm {
            // the longest idle
            let Some(at) = state
                .executors
                .iter()
                .enumerate()
                .filter(|(_, s)| s.is_idle() && s.since.elapsed() > limits.max_idle)
                .min_by_key(|(_, s)| s.since)
                .map(|(at, _)| at)
            else {
                break;
            };
            state.executors.swap_remove(at).conn.close();
        }
        // one at a time, and only from a whole pool whose successor can start now: the next
        // goes once that one connected, and none while starts fail (a pool with more than the
        // warm ones needs no successor)
        let can_start = state.blocked_until.is_none_or(|t| Instant::now() >= t);
        let live = state.executors.len();
        if state.starting == 0 && (live > limits.warm || (live == limits.warm && can_start)) {
            let expired = state
                .executors
                .iter()
                .enumerate()
                .filter(|(_, s)| s.is_idle() && s.connected.elapsed() > limits.max_lifetime)
                .min_by_key(|(_, s)| s.connected)
                .map(|(at, _)| at);
            if let Some(at) = expired {
                state.executors.swap_remove(at).conn.close();
            }
        }
        let short = limits.warm.saturating_sub(state.executors.len() + state.starting);
        if short > 0 && can_start {
            state.starting += short;
            state.wanted += short;
        }
    }

    /// Connected executors, idle or busy.
    pub fn live(&self) -> usize {
        self.lock().executors.len()
    }

    /// Take no more jobs (shutdown): the jobs waiting for an executor fail. Returns the
    /// executors with jobs.
    pub fn stop(&self) -> Vec<i32> {
        let state = self.lock();
        self.stopped.send_replace(true);
        let busy = state.executors.iter().filter(|s| !s.is_idle()).map(|s| s.conn.pid).collect();
        drop(state);
        self.returned.notify_waiters();
        self.room.notify_waiters();
        busy
    }

    /// Resolves once the pool has stopped: what waits for a place in it (the slow share, a
    /// body's budget) need wait no longer.
    pub async fn stopped(&self) {
        let _ = self.stopped.subscribe().wait_for(|stopped| *stopped).await;
    }

    /// Close every idle executor (shutdown).
    pub fn close_idle(&self) {
        self.lock().executors.retain(|s| {
            if s.is_idle() {
                s.conn.close();
            }
            !s.is_idle()
        });
    }

    /// A lease ended before its job was written: the job it counted is not coming.
    fn unlease(&self, conn: &Conn) {
        let mut state = self.lock();
        let Some(slot) = state.slot(conn) else { return };
        slot.jobs.pop_back();
        let (idle, room) = (slot.is_idle(), slot.has_room());
        drop(state);
        self.offered(idle, room);
    }
}

/// One job's turn on an executor: run at once, or waiting in its queue (of [`QUEUED`] at most).
pub struct Lease<'a> {
    pool: &'a Pool,
    conn: Arc<Conn>,
    /// the job went to `call`, which counts it from then on (a lease dropped before that
    /// takes its job back)
    written: bool,
    /// a slow (or unproven) endpoint's room in the slow share, given back with the executor
    _slow: Option<Reservation>,
    /// counts the job as one of its unproven endpoint's in flight
    _unproven: Option<Unproven<'a>>,
}

/// Where [`Pool::prove`] leaves a job of an unproven endpoint.
enum Proving<'a> {
    /// it holds room in the slow share
    Held(Reservation, Unproven<'a>),
    /// it is its endpoint's only job in flight, and goes without
    Alone(Unproven<'a>),
    /// a first job of its endpoint ended: look again
    LookAgain,
}

/// A job of an endpoint none of whose jobs had ended, in flight until dropped.
struct Unproven<'a> {
    pool: &'a Pool,
    endpoint: String,
}

impl Drop for Unproven<'_> {
    fn drop(&mut self) {
        let mut unproven = self.pool.unproven();
        let Some(n) = unproven.get_mut(&self.endpoint) else { return };
        *n -= 1;
        if *n == 0 {
            unproven.remove(&self.endpoint);
            drop(unproven);
            // one that waits may now go alone (this job may have ended without a reply, so
            // without the endpoint being learned)
            self.pool.proven.notify_waiters();
        }
    }
}

impl Lease<'_> {
    /// Send the job (its frame, in one vectored write when the socket takes it) and await its
    /// reply. A job the executor never began ([`Lost::NotStarted`]) may be sent again.
    pub async fn call(mut self, frame: &Frame) -> Result<Answer, Lost> {
        let (answer, reply) = oneshot::channel();
        let conn = self.conn.clone();
        {
            let mut writer = conn.writer.lock().await;
            conn.owed().push_back(Owed { answer, written: Instant::now() });
            // the job is counted by `sending` from here on, not by the lease
            let mut sending = Sending { pool: self.pool, conn: &conn, bytes: 0, state: Write::Writing };
            self.written = true;
            loop {
                let slices = frame.slices_from(sending.bytes);
                if slices.is_empty() {
                    break;
                }
                match writer.write_vectored(&slices).await {
                    Ok(n) if n > 0 => sending.bytes += n,
                    // the socket broke: the executor cannot have read all of the job, it never began
                    _ => {
                        sending.state = Write::Broken;
                        return Err(Lost::NotStarted);
                    }
                }
            }
            sending.state = Write::Done;
        }
        match reply.await {
            Ok(answer) => answer,
            Err(_) => Err(Lost::Running("the reply was lost".into())),
        }
    }

    pub fn pid(&self) -> i32 {
        self.conn.pid
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if !self.written {
            self.pool.unlease(&self.conn);
        }
    }
}

/// A job being written, with the connection's writer held. If it ends without the whole frame
/// written (the request's future dropped, or the socket broken), the job is taken back when none
/// of it was written, and otherwise the connection is closed: a partial frame makes it unusable.
struct Sending<'a> {
    pool: &'a Pool,
    conn: &'a Conn,
    bytes: usize,
    state: Write,
}

enum Write {
    Writing,
    Done,
    Broken,
}

impl Drop for Sending<'_> {
    fn drop(&mut self) {
        match self.state {
            Write::Done => {}
            Write::Writing if self.bytes == 0 => {
                // the writer is still held: this job is the last one owed
                self.conn.owed().pop_back();
                self.pool.unlease(self.conn);
            }
            Write::Writing | Write::Broken => {
                self.conn.close();
                // no job goes to it while its reader task has not seen the end yet
                self.pool.gone(self.conn);
            }
        }
    }
}
