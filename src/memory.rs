//! Giving freed memory back to the system. glibc keeps what a process frees for reuse: after
//! a schema cache build (the front: a document and a cache of tens of MB) or a catalog read
//! (an executor), the process would hold that peak for good, several times what it uses
//! (BENCHMARKS.md, "schema": 315 -> 132 MB in the front, 95 -> 30 MB in an executor).
//! `malloc_trim` returns it, and mimalloc's collection what that allocator holds of Rust's
//! small blocks (`allocator.rs`); it is called only after those rare jobs, never per request.

use std::cell::Cell;

thread_local! {
    static ASKED: Cell<bool> = const { Cell::new(false) };
}

/// Give freed memory back now (any thread: glibc and mimalloc lock their own state).
pub fn trim() {
    // SAFETY: plain libc, no PostgreSQL; safe to call at any time from any thread
    unsafe { libc::malloc_trim(0) };
    crate::allocator::collect();
}

/// The current job made large allocations: trim once it is answered.
pub fn trim_after_job() {
    ASKED.with(|a| a.set(true));
}

/// Trim if the job just answered asked for it.
pub fn trim_if_asked() {
    if ASKED.with(|a| a.replace(false)) {
        trim();
    }
}
