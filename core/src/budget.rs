//! A budget: a size that requests hold parts of, waiting (up to a timeout) when it is spent,
//! and that a reload may resize. The front has two:
//! - the in-flight budget, in bytes: how much of request bodies and results the front holds.
//!   A request reserves its body's size before reading it (its Content-Length, or chunk by
//!   chunk) and holds it until its response is made; when the budget is spent it waits, up to
//!   the acquisition timeout, then gets 503 PGRST004. A body larger than the whole budget could
//!   never be served: 413 at once. A result counts from when its reply's header is read until
//!   the response has been handed to the client's socket; it never waits (its transaction is
//!   over), it overdraws, and bodies wait until it is paid back. So many large bodies or
//!   results at once make requests wait instead of the front running out of memory, which, in
//!   a PostgreSQL backend, would restart the cluster (src/front/http.rs, src/front/pool.rs);
//! - the executors that slow endpoints may hold together (src/front/pool.rs).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::Semaphore;

/// A handle: clones share the one budget.
#[derive(Clone)]
pub struct Budget(Arc<Inner>);

struct Inner {
    /// what one permit stands for: 1024 for a budget of bytes (a semaphore's permits are a
    /// u32 per acquisition), 1 for a count
    unit: u64,
    /// the free units
    units: Semaphore,
    /// the budget's size, in units (changed with `owed` locked)
    size: AtomicU32,
    /// units to take away as they come back: an overdraft, or a shrink while they were held.
    /// Every change of it, and the moves of free units that go with it, are made with it
    /// locked (the I/O threads and the main thread share a budget), so that throughout
    /// free units - owed = size - held units, and nothing is free while something is owed.
    owed: Mutex<u32>,
}

/// Why a reservation was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// larger than the whole budget
    TooLarge,
    /// the budget stayed spent for the whole timeout
    Timeout,
}

/// A part of a budget, held until dropped.
pub struct Reservation {
    budget: Budget,
    /// in units
    held: u32,
}

impl Budget {
    /// A budget of `size` bytes, counted in kibibytes.
    pub fn new(size: u64) -> Budget {
        Budget::counting(size, 1024)
    }

    /// A budget of `size`, counted in `unit`s (a reservation rounds up to whole units).
    pub fn counting(size: u64, unit: u64) -> Budget {
        let n = units(size, unit);
        Budget(Arc::new(Inner { unit, units: Semaphore::new(n as usize), size: AtomicU32::new(n), owed: Mutex::new(0) }))
    }

    /// A new size (after a reload). Shrinking takes effect as reservations end: free units are
    /// taken away now, held ones when they come back.
    pub fn resize(&self, size: u64) {
        let b = &self.0;
        let new = units(size, b.unit);
        let mut owed = self.owed();
        let old = b.size.swap(new, Ordering::AcqRel);
        if new > old {
            self.pay(&mut owed, new - old);
        } else {
            *owed += old - new;
            self.settle(&mut owed);
        }
    }

    /// Take the units that are free back to pay what is owed.
    fn settle(&self, owed: &mut MutexGuard<'_, u32>) {
        let taken = self.0.units.forget_permits(**owed as usize) as u32;
        **owed -= taken;
    }

    fn owed(&self) -> MutexGuard<'_, u32> {
        self.0.owed.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `n` units come back: they pay what is owed first, the rest is free again.
    fn pay(&self, owed: &mut MutexGuard<'_, u32>, n: u32) {
        let paid = (**owed).min(n);
        **owed -= paid;
        if n > paid {
            self.0.units.add_permits((n - paid) as usize);
        }
    }

    pub fn size(&self) -> u64 {
        u64::from(self.0.size.load(Ordering::Acquire)) * self.0.unit
    }

    /// Nothing reserved yet: a request without a body, or before it knows its size.
    pub fn none(&self) -> Reservation {
        Reservation { budget: self.clone(), held: 0 }
    }
}

impl Reservation {
    /// What is held, rounded up to whole units.
    pub fn amount(&self) -> u64 {
        u64::from(self.held) * self.budget.0.unit
    }

    /// Hold at least `amount` in all, waiting up to `timeout` for the budget to free up.
    pub async fn grow_to(&mut self, amount: u64, timeout: Duration) -> Result<(), Refused> {
        let b = &self.budget.0;
        let wanted = units(amount, b.unit);
        if wanted <= self.held {
            return Ok(());
        }
        if wanted > b.size.load(Ordering::Acquire) {
            return Err(Refused::TooLarge);
        }
        let more = wanted - self.held;
        // declared before the wait, so dropped after it when the wait's future is dropped
        let mut unwaited = SettleWhenDropped(Some(&self.budget));
        match tokio::time::timeout(timeout, b.units.acquire_many(more)).await {
            // counted in `held` from here on, and given back on drop
            Ok(Ok(permit)) => {
                permit.forget();
                unwaited.0 = None;
            }
            // (a closed semaphore, never closed here, counts as spent)
            _ => return Err(Refused::Timeout),
        }
        drop(unwaited);
        self.held = wanted;
        Ok(())
    }

    /// Hold at least `amount` in all if that much is free now, without waiting.
    pub fn try_grow_to(&mut self, amount: u64) -> bool {
        let wanted = units(amount, self.budget.0.unit);
        if wanted <= self.held {
            return true;
        }
        let Ok(permit) = self.budget.0.units.try_acquire_many(wanted - self.held) else { return false };
        permit.forget();
        self.held = wanted;
        true
    }

    /// Hold at least `amount` in all at once, whatever is free: what is missing is owed, and
    /// the units given back pay it before anyone else gets them.
    pub fn overdraw(&mut self, amount: u64) {
        let b = &self.budget.0;
        let wanted = units(amount, b.unit);
        if wanted <= self.held {
            return;
        }
        let more = wanted - self.held;
        let mut owed = self.budget.owed();
        let free = b.units.forget_permits(more as usize) as u32;
        *owed += more - free;
        self.held = wanted;
    }
}

/// Settles a budget when dropped armed: a wait that ended without its units (it timed out, or
/// its future was dropped: the front stopped) gave those the semaphore had set aside for it
/// back, to the next waiter or free; free ones pay what is owed first, as any others (the
/// debt stays counted either way).
struct SettleWhenDropped<'a>(Option<&'a Budget>);

impl Drop for SettleWhenDropped<'_> {
    fn drop(&mut self) {
        if let Some(budget) = self.0 {
            budget.settle(&mut budget.owed());
        }
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.held > 0 {
            let mut owed = self.budget.owed();
            self.budget.pay(&mut owed, self.held);
        }
    }
}

/// An amount in units, rounded up (a body of 1 byte holds one kibibyte).
fn units(amount: u64, unit: u64) -> u32 {
    amount.div_ceil(unit.max(1)).min(u64::from(u32::MAX >> 3)) as u32
}

/// The default budget: a sixteenth of the memory this process may use (the machine's, or its
/// cgroup's limit when lower). Small, because a body costs its executor several times its size
/// inside PostgreSQL (the parameter, json_to_record's copy of each value, the input function's
/// result, the tuple: 8-10x for a bytea column, BENCHMARKS.md "memory"): the bodies in flight
/// and what PostgreSQL makes of them stay well within the memory.
pub fn auto_size() -> u64 {
    let machine = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().find(|l| l.starts_with("MemTotal:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok()))
        .map_or(4 << 30, |kb| kb * 1024);
    let cgroup = std::fs::read_to_string("/sys/fs/cgroup/memory.max").ok().and_then(|v| v.trim().parse::<u64>().ok());
    // never below 64 MB: a small container could otherwise refuse ordinary uploads
    (cgroup.map_or(machine, |c| c.min(machine)) / 16).max(64 << 20)
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNIT: u64 = 1024;

    fn run<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(f)
    }

    #[test]
    fn reservations_wait_then_time_out_and_give_back_on_drop() {
        run(async {
            let budget = Budget::new(10 * UNIT);
            let mut a = budget.none();
            a.grow_to(6 * UNIT, Duration::ZERO).await.unwrap();
            a.grow_to(8 * UNIT, Duration::ZERO).await.unwrap();
            let mut b = budget.none();
            assert!(!b.try_grow_to(3 * UNIT));
            assert!(b.try_grow_to(2 * UNIT) && b.amount() == 2 * UNIT);
            drop(b);
            let mut b = budget.none();
            assert_eq!(b.grow_to(3 * UNIT, Duration::from_millis(20)).await, Err(Refused::Timeout));
            assert_eq!(b.grow_to(11 * UNIT, Duration::ZERO).await, Err(Refused::TooLarge));
            drop(a);
            b.grow_to(10 * UNIT, Duration::ZERO).await.unwrap();
            budget.resize(20 * UNIT);
            assert_eq!(budget.size(), 20 * UNIT);
            let mut c = budget.none();
            c.grow_to(1, Duration::ZERO).await.unwrap();
            assert_eq!(c.amount(), UNIT);
            // shrunk while b holds 10: the 10 come back owed, and only 5 remain in all
            budget.resize(5 * UNIT);
            drop(b);
            drop(c);
            let mut d = budget.none();
            d.grow_to(5 * UNIT, Duration::ZERO).await.unwrap();
            assert_eq!(budget.none().grow_to(UNIT, Duration::ZERO).await, Err(Refused::Timeout));
        });
    }

    #[test]
    fn an_overdraft_never_waits_and_is_paid_back_before_anyone_gets_units() {
        run(async {
            let budget = Budget::new(10 * UNIT);
            let mut a = budget.none();
            a.grow_to(4 * UNIT, Duration::ZERO).await.unwrap();
            // a result larger than what is free, even than the whole budget, is held at once
            let mut result = budget.none();
            result.overdraw(9 * UNIT);
            result.overdraw(2 * UNIT);
            assert_eq!(result.amount(), 9 * UNIT);
            let mut b = budget.none();
            assert_eq!(b.grow_to(UNIT, Duration::from_millis(20)).await, Err(Refused::Timeout));
            // a's 4 units pay the 3 owed first
            drop(a);
            b.grow_to(UNIT, Duration::ZERO).await.unwrap();
            assert_eq!(b.grow_to(2 * UNIT, Duration::ZERO).await, Err(Refused::Timeout));
            drop(result);
            b.grow_to(10 * UNIT, Duration::ZERO).await.unwrap();
            drop(b);
            // an overdraft beyond the whole budget, then a shrink: both are paid back in turn
            let mut huge = budget.none();
            huge.overdraw(25 * UNIT);
            budget.resize(6 * UNIT);
            let mut c = budget.none();
            assert_eq!(c.grow_to(UNIT, Duration::ZERO).await, Err(Refused::Timeout));
            drop(huge);
            c.grow_to(6 * UNIT, Duration::ZERO).await.unwrap();
            assert_eq!(budget.none().grow_to(UNIT, Duration::ZERO).await, Err(Refused::Timeout));
            drop(c);
            budget.none().grow_to(6 * UNIT, Duration::ZERO).await.unwrap();
        });
    }

    #[test]
    fn a_wait_given_up_pays_what_was_owed_meanwhile() {
        run(async {
            let budget = Budget::new(10 * UNIT);
            let mut a = budget.none();
            a.grow_to(8 * UNIT, Duration::ZERO).await.unwrap();
            let mut b = budget.none();
            let mut wait = Box::pin(b.grow_to(5 * UNIT, Duration::from_secs(60)));
            // one poll: it waits, and the semaphore sets the 2 free units aside for it
            let pending =
                std::future::poll_fn(|cx| std::task::Poll::Ready(std::future::Future::poll(wait.as_mut(), cx).is_pending())).await;
            assert!(pending);
            let mut result = budget.none();
            result.overdraw(3 * UNIT);
            // given up (a shutdown drops the future): its 2 units pay 2 of the 3 owed
            drop(wait);
            assert_eq!(budget.none().grow_to(UNIT, Duration::ZERO).await, Err(Refused::Timeout));
            drop(a);
            let mut c = budget.none();
            c.grow_to(7 * UNIT, Duration::ZERO).await.unwrap();
            assert_eq!(budget.none().grow_to(UNIT, Duration::ZERO).await, Err(Refused::Timeout));
            drop(result);
            drop(c);
            budget.none().grow_to(10 * UNIT, Duration::ZERO).await.unwrap();
        });
    }

    #[test]
    fn the_budget_is_whole_again_after_threads_race_on_it() {
        // threads of their own, each overdrawing, reserving and giving back as fast as it can
        let budget = Budget::new(64 * UNIT);
        let threads: Vec<_> = (0..4u64)
            .map(|t| {
                let budget = budget.clone();
                std::thread::spawn(move || {
                    run(async {
                        let mut x = t.wrapping_mul(2_654_435_761).wrapping_add(1);
                        for i in 0..20_000u64 {
                            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                            let amount = (x >> 33) % (80 * UNIT);
                            let mut r = budget.none();
                            if t == 0 && i % 100 == 0 {
                                budget.resize(((x >> 40) % 96 + 1) * UNIT);
                            } else if x % 2 == 0 {
                                r.overdraw(amount);
                            } else {
                                let _ = r.grow_to(amount, Duration::ZERO).await;
                            }
                        }
                    })
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        budget.resize(64 * UNIT);
        // free - owed = size - held, with nothing held: all of it free and nothing owed
        assert_eq!(*budget.owed(), 0);
        assert_eq!(budget.0.units.available_permits(), 64);
    }
}
