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
/// A Bloom filter of the relations that were ever in an exposed schema at a schema cache
/// read: a dropped relation that is not in it was never part of the API. Bits are only ever
/// set, so it has no false negatives.
const FILTER_WORDS: usize = 8192;
// SAFETY: as for GENERATION
static EXPOSED_RELATIONS: PgAtomic<[AtomicU64; FILTER_WORDS]> = unsafe { PgAtomic::new(c"postgrest_ext exposed relations") };
// SAFETY: as for GENERATION
static BUILDS: PgAtomic<AtomicU64> = unsafe { PgAtomic::new(c"postgrest_ext schema cache builds") };
/// The catalog fingerprint (`schema_cache::settle`) the generation was last bumped for.
// SAFETY: as for GENERATION
static FINGERPRINT: PgAtomic<AtomicU64> = unsafe { PgAtomic::new(c"postgrest_ext catalog fingerprint") };

/// Request the memory; only while `shared_preload_libraries` is being processed.
// the macro tests pgrx's feature names for every PostgreSQL version in this crate
#[allow(unexpected_cfgs)]
pub fn init() {
    pg_shmem_init!(GENERATION = AtomicU64::new(1));
    pg_shmem_init!(BUILDS = AtomicU64::new(0));
    pg_shmem_init!(FINGERPRINT = AtomicU64::new(0));
    pg_shmem_init!(EXPOSED_RELATIONS = [const { AtomicU64::new(0) }; FILTER_WORDS]);
}

/// The number of catalog changes that may change the API, so far.
pub fn generation() -> u64 {
    GENERATION.get().load(Ordering::SeqCst)
}

/// The filter's three bit positions of a relation.
fn filter_bits(relid: u32) -> [usize; 3] {
    let bits = (FILTER_WORDS * 64) as u64;
    [0x9E37_79B9_7F4A_7C15u64, 0xC2B2_AE3D_27D4_EB4F, 0x1656_67B1_9E37_79F9]
        .map(|m| ((u64::from(relid).wrapping_mul(m) >> 17) % bits) as usize)
}

/// Remember a relation of an exposed schema.
pub fn remember_exposed(relid: u32) {
    for bit in filter_bits(relid) {
        EXPOSED_RELATIONS.get()[bit / 64].fetch_or(1 << (bit % 64), Ordering::Relaxed);
    }
}

/// Was this relation perhaps in an exposed schema at some read? (False: certainly not.)
pub fn maybe_exposed(relid: u32) -> bool {
    filter_bits(relid).iter().all(|bit| EXPOSED_RELATIONS.get()[bit / 64].load(Ordering::Relaxed) & (1 << (bit % 64)) != 0)
}

/// An executor read the catalogs for the schema cache.
pub fn count_build() {
    BUILDS.get().fetch_add(1, Ordering::SeqCst);
}

/// `SELECT postgrest_ext.schema_cache_builds()`: how often the schema cache was read since the
/// server started (an error without `shared_preload_libraries`).
#[pg_extern]
fn schema_cache_builds() -> i64 {
    BUILDS.get().load(Ordering::SeqCst) as i64
}

/// A catalog change that may change the API arrived.
pub fn bump() {
    GENERATION.get().fetch_add(1, Ordering::SeqCst);
}

/// Bump the generation for the catalogs as `fingerprint` describes them, unless it was
/// bumped for exactly that already (by another executor that saw the same change).
pub fn bump_for(fingerprint: u64) {
    if FINGERPRINT.get().swap(fingerprint, Ordering::SeqCst) != fingerprint {
        bump();
    }
}
