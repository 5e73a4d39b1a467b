//! The shared memory of the extension, requested in `_PG_init`: the catalog generation.
//!
//! Executors bump it when a catalog change reaches them (`schema_cache`'s invalidation
//! callbacks); the front reads it before planning, from any thread: it is one atomic in the
//! main shared memory segment, read without calling PostgreSQL (see ARCHITECTURE.md).

use pgrx::prelude::*;
use pgrx::{pg_shmem_init, PgAtomic};
use std::sync::atomic::{AtomicU64, Ordering};

// SAFETY: the name is unique to this extension; pg_shmem_init! below sets the pointer before
// any process reads it (the postmaster's shmem startup hook runs before workers fork)
static GENERATION: PgAtomic<AtomicU64> = unsafe { PgAtomic::new(c"postgrest_ext catalog generation") };

/// Request the memory; only while `shared_preload_libraries` is being processed.
// the macro tests pgrx's feature names for every PostgreSQL version in this crate
#[allow(unexpected_cfgs)]
pub fn init() {
    pg_shmem_init!(GENERATION = AtomicU64::new(1));
}

/// The number of catalog changes that may change the API, so far.
pub fn generation() -> u64 {
    GENERATION.get().load(Ordering::SeqCst)
}

/// A catalog change that may change the API arrived.
pub fn bump() {
    GENERATION.get().fetch_add(1, Ordering::SeqCst);
}
