//! The moving mean of an I/O thread's idle gaps, which decides whether it spins before it
//! parks (`src/front/spin.rs`): only while its recent gaps were short, so that a thread with
//! sparse work sleeps at once and one in a quick exchange of requests and replies does not.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IdleGaps {
    /// in microseconds; infinite until the first gap
    mean: f64,
}

impl Default for IdleGaps {
    fn default() -> Self {
        IdleGaps::new()
    }
}

impl IdleGaps {
    pub const fn new() -> IdleGaps {
        IdleGaps { mean: f64::INFINITY }
    }

    /// Have the recent gaps averaged `limit` or less?
    pub fn short(&self, limit: Duration) -> bool {
        self.mean <= limit.as_secs_f64() * 1e6
    }

    /// A gap ended: it weighs as much as all those before it, so one long gap stops the
    /// spinning and two or three short ones start it again.
    pub fn record(&mut self, gap: Duration) {
        let gap = gap.as_secs_f64() * 1e6;
        self.mean = if self.mean.is_finite() { (self.mean + gap) / 2.0 } else { gap };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: Duration = Duration::from_micros(150);

    #[test]
    fn short_gaps_make_a_thread_spin_and_a_long_one_stops_it() {
        let mut gaps = IdleGaps::new();
        assert!(!gaps.short(LIMIT), "no spinning before the first gap");
        for _ in 0..3 {
            gaps.record(Duration::from_micros(40));
        }
        assert!(gaps.short(LIMIT));
        gaps.record(Duration::from_millis(5));
        assert!(!gaps.short(LIMIT), "one long gap stops it");
        let mut again = 0;
        while !gaps.short(LIMIT) {
            gaps.record(Duration::from_micros(40));
            again += 1;
        }
        assert!(again <= 6, "short gaps start it again: after {again}");
        // sparse work (a gap of a millisecond or more) never spins
        let mut sparse = IdleGaps::new();
        for _ in 0..100 {
            sparse.record(Duration::from_millis(1));
            assert!(!sparse.short(LIMIT));
        }
    }
}
