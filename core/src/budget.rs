//! A budget: a size that requests hold parts of, waiting (up to a timeout) when it is spent,
//! and that a reload may resize. The front has two:
//! - the in-flight body budget, in bytes: how much of request bodies is being read, waiting
//!   for an executor or run at once. A request reserves its body's size before reading it (its
//!   Content-Length, or chunk by chunk) and holds it until its response is made; when the
//!   budget is spent it waits, up to the acquisition timeout, then gets 503 PGRST004. A body
//!   larger than the whole budget could never be served: 413 at once. So many large bodies at
//!   once make requests wait instead of the front running out of memory, which, in a
//!   PostgreSQL backend, would restart the cluster (src/front/http.rs);
//! - the executors that slow endpoints may hold together (src/front/pool.rs).

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tokio::sync::{Semaphore, SemaphorePermit};

pub struct Budget {
    /// what one permit stands for: 1024 for a budget of bytes (a semaphore's permits are a
    /// u32 per acquisition), 1 for a count
    unit: u64,
    units: Semaphore,
    /// the budget's size, in units
    size: AtomicU32,
    /// units to take away as they come back (a shrink while they were held)
    owed: AtomicU32,
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
pub struct Reservation<'a> {
    budget: &'a Budget,
    permit: Option<SemaphorePermit<'a>>,
    amount: u64,
}

impl Budget {
    /// A budget of `size` bytes, counted in kibibytes.
    pub fn new(size: u64) -> Budget {
        Budget::counting(size, 1024)
    }

    /// A budget of `size`, counted in `unit`s (a reservation rounds up to whole units).
    pub fn counting(size: u64, unit: u64) -> Budget {
        let n = units(size, unit);
        Budget { unit, units: Semaphore::new(n as usize), size: AtomicU32::new(n), owed: AtomicU32::new(0) }
    }

    /// A new size (after a reload). Shrinking takes effect as reservations end: free units are
    /// taken away now, held ones when a later reservation finds them back.
    pub fn resize(&self, size: u64) {
        let new = units(size, self.unit);
        let old = self.size.swap(new, Ordering::AcqRel);
        if new > old {
            let grow = new - old;
            let cancelled = self.owed.load(Ordering::Acquire).min(grow);
            self.owed.fetch_sub(cancelled, Ordering::AcqRel);
            self.units.add_permits((grow - cancelled) as usize);
        } else {
            self.owed.fetch_add(old - new, Ordering::AcqRel);
            self.settle();
        }
    }

    /// Take away the owed units that are free now.
    fn settle(&self) {
        let owed = self.owed.load(Ordering::Acquire);
        if owed > 0 {
            let taken = self.units.forget_permits(owed as usize) as u32;
            self.owed.fetch_sub(taken, Ordering::AcqRel);
        }
    }

    pub fn size(&self) -> u64 {
        u64::from(self.size.load(Ordering::Acquire)) * self.unit
    }

    /// Nothing reserved yet: a request without a body, or before it knows its size.
    pub fn none(&self) -> Reservation<'_> {
        Reservation { budget: self, permit: None, amount: 0 }
    }
}

impl<'a> Reservation<'a> {
    /// Hold at least `amount` in all, waiting up to `timeout` for the budget to free up.
    pub async fn grow_to(&mut self, amount: u64, timeout: Duration) -> Result<(), Refused> {
        if amount <= self.amount {
            return Ok(());
        }
        let budget = self.budget;
        let wanted = units(amount, budget.unit);
        if wanted > budget.size.load(Ordering::Acquire) {
            return Err(Refused::TooLarge);
        }
        budget.settle();
        let held = self.permit.as_ref().map_or(0, SemaphorePermit::num_permits) as u32;
        let more = wanted - held;
        let permit = match tokio::time::timeout(timeout, budget.units.acquire_many(more)).await {
            Ok(Ok(p)) => p,
            // a closed semaphore (never closed here) counts as spent
            _ => return Err(Refused::Timeout),
        };
        match self.permit.as_mut() {
            Some(p) => p.merge(permit),
            None => self.permit = Some(permit),
        }
        self.amount = u64::from(wanted) * budget.unit;
        Ok(())
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
            assert_eq!(b.grow_to(3 * UNIT, Duration::from_millis(20)).await, Err(Refused::Timeout));
            assert_eq!(b.grow_to(11 * UNIT, Duration::ZERO).await, Err(Refused::TooLarge));
            drop(a);
            b.grow_to(10 * UNIT, Duration::ZERO).await.unwrap();
            budget.resize(20 * UNIT);
            assert_eq!(budget.size(), 20 * UNIT);
            let mut c = budget.none();
            c.grow_to(1, Duration::ZERO).await.unwrap();
            assert_eq!(c.amount, UNIT);
            // shrunk while b holds 10: the 10 come back owed, and only 5 remain in all
            budget.resize(5 * UNIT);
            drop(b);
            drop(c);
            let mut d = budget.none();
            d.grow_to(5 * UNIT, Duration::ZERO).await.unwrap();
            assert_eq!(budget.none().grow_to(UNIT, Duration::ZERO).await, Err(Refused::Timeout));
        });
    }
}
