//! Spin before parking: the front's I/O thread, out of work, polls its sockets for a short
//! while before it sleeps, when its recent idle gaps were that short.
//!
//! A request hands off twice (front → executor → front), and each hand-off to a sleeping
//! thread is a wake-up: on a virtual machine an inter-processor interrupt through the
//! hypervisor, tens of microseconds each way, and CPU for the waker too (BENCHMARKS.md,
//! "Spinning before the I/O thread parks"). When the reply is due within microseconds, polling
//! for it costs less than sleeping and being woken. The gaps decide: the I/O thread spins only
//! while its idle gaps average under [`SHORT`], so a server with sparse requests never spins,
//! and one with a request always in hand has no gaps. Linux's `busy_poll` for sockets is the
//! same trade. Each round of the spin yields the CPU to any other runnable task first.
//!
//! The sockets are in an epoll set of their own, level-triggered and read-only, beside
//! tokio's: a socket that becomes readable ends the spin, and tokio's own wait then returns at
//! once. A descriptor leaves the set when it is closed.

use postgrest_core::idle_gaps::IdleGaps;
use std::cell::Cell;
use std::os::fd::RawFd;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long the thread spins at most.
const SPIN: Duration = Duration::from_micros(150);
/// The mean idle gap under which it spins: twice the spin, since a gap it slept through is
/// longer by the wake-up (on a virtual machine tens of microseconds), and one spun through
/// ends early. With gaps of a millisecond or more it never spins.
const SHORT: Duration = Duration::from_micros(300);

/// The epoll set of the sockets whose input ends a spin: made by [`enable`], and without it
/// nothing here does anything.
static SET: OnceLock<RawFd> = OnceLock::new();

thread_local! {
    /// When the thread last went idle, and its recent idle gaps.
    static IDLE: Cell<(Option<Instant>, IdleGaps)> = const { Cell::new((None, IdleGaps::new())) };
}

/// Spin before parking from now on: the runtime has one I/O thread (`http::start`).
pub fn enable() {
    // SAFETY: a plain system call; the descriptor is kept for the life of the process
    let set = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    if set >= 0 {
        let _ = SET.set(set);
    }
}

/// Input on `fd` (a client connection, the listener, an executor's replies) ends a spin.
pub fn watch(fd: RawFd) {
    let Some(&set) = SET.get() else { return };
    let mut event = libc::epoll_event { events: libc::EPOLLIN as u32, u64: fd as u64 };
    // SAFETY: both descriptors are open (the caller owns `fd`), `event` is a live local; a
    // failure only leaves `fd` out of the set
    unsafe { libc::epoll_ctl(set, libc::EPOLL_CTL_ADD, fd, &mut event) };
}

/// tokio's `on_thread_park`: spin while the recent gaps were short, until a watched socket
/// has input or [`SPIN`] has passed.
pub fn before_park() {
    let (_, gaps) = IDLE.get();
    let now = Instant::now();
    IDLE.set((Some(now), gaps));
    let Some(&set) = SET.get().filter(|_| gaps.short(SHORT)) else { return };
    let mut event = [libc::epoll_event { events: 0, u64: 0 }];
    while now.elapsed() < SPIN {
        // SAFETY: the set is open, `event` has room for the one event asked for; a zero
        // timeout never blocks
        if unsafe { libc::epoll_wait(set, event.as_mut_ptr(), 1, 0) } != 0 {
            return;
        }
        // SAFETY: a plain system call
        unsafe { libc::sched_yield() };
    }
}

/// tokio's `on_thread_unpark`: the gap just ended (spun, then slept) joins the mean.
pub fn after_unpark() {
    if let (Some(idle), mut gaps) = IDLE.get() {
        gaps.record(idle.elapsed());
        IDLE.set((None, gaps));
    }
}
