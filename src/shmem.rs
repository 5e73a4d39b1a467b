//! The shared memory of the extension, requested in `_PG_init`: the catalog generation and the
//! change log.
//!
//! Executors append to the log when a catalog change reaches them (`schema_cache`'s
//! invalidation callbacks): the relation that changed, or "everything". The generation is the
//! number of entries so far. The front reads both before planning, from any thread: they are
//! atomics in the main shared memory segment, read without calling PostgreSQL (see
//! ARCHITECTURE.md). From the entries since its cache's generation it tells which relations to
//! read again.

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
/// The fingerprints (`schema_cache::settle`) of the catalogs but the functions, and of the
/// functions, when a change of them was last logged ("everything", "functions").
// SAFETY: as for GENERATION
static FINGERPRINT: PgAtomic<AtomicU64> = unsafe { PgAtomic::new(c"postgrest_ext catalog fingerprint") };
// SAFETY: as for GENERATION
static FUNCTIONS_FINGERPRINT: PgAtomic<AtomicU64> = unsafe { PgAtomic::new(c"postgrest_ext functions fingerprint") };
// SAFETY: as for GENERATION
static FULL_BUILDS: PgAtomic<AtomicU64> = unsafe { PgAtomic::new(c"postgrest_ext schema cache full builds") };
/// The change log: entry n (the change from generation n to n + 1) is in slot n % LOG_SLOTS,
/// as three words: n + 1 once it is written, the relation's oid (or [`EVERYTHING`] or
/// [`FUNCTIONS`]) and the relation's version when it was logged
/// (`schema_cache::relation_versions`).
const LOG_SLOTS: usize = 1024;
/// A log entry for a change that is not one relation's (schemas, comments, a reload).
const EVERYTHING: u64 = u64::MAX;
/// A log entry for a change of functions only (their part of the fingerprint changed).
const FUNCTIONS: u64 = u64::MAX - 1;
// SAFETY: as for GENERATION
static LOG: PgAtomic<[AtomicU64; 3 * LOG_SLOTS]> = unsafe { PgAtomic::new(c"postgrest_ext change log") };

/// Request the memory; only while `shared_preload_libraries` is being processed.
// the macro tests pgrx's feature names for every PostgreSQL version in this crate
#[allow(unexpected_cfgs)]
pub fn init() {
    pg_shmem_init!(GENERATION = AtomicU64::new(1));
    pg_shmem_init!(BUILDS = AtomicU64::new(0));
    pg_shmem_init!(FINGERPRINT = AtomicU64::new(0));
    pg_shmem_init!(FUNCTIONS_FINGERPRINT = AtomicU64::new(0));
    pg_shmem_init!(EXPOSED_RELATIONS = [const { AtomicU64::new(0) }; FILTER_WORDS]);
    pg_shmem_init!(FULL_BUILDS = AtomicU64::new(0));
    pg_shmem_init!(LOG = [const { AtomicU64::new(0) }; 3 * LOG_SLOTS]);
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

/// The front built a schema cache: from a full read, or a partial one that changed it.
pub fn count_build(full: bool) {
    BUILDS.get().fetch_add(1, Ordering::SeqCst);
    if full {
        FULL_BUILDS.get().fetch_add(1, Ordering::SeqCst);
    }
}

/// Schema cache builds so far (any thread).
pub fn builds() -> u64 {
    BUILDS.get().load(Ordering::SeqCst)
}

/// `SELECT postgrest_ext.schema_cache_builds()`: how often the schema cache was built since
/// the server started, from a full read of the catalogs or a partial one that changed it (an
/// error without `shared_preload_libraries`).
#[pg_extern]
fn schema_cache_builds() -> i64 {
    builds() as i64
}

/// `SELECT postgrest_ext.schema_cache_full_builds()`: how many of those read all of it.
#[pg_extern]
fn schema_cache_full_builds() -> i64 {
    FULL_BUILDS.get().load(Ordering::SeqCst) as i64
}

/// Log a change: a relation's (its oid, with its version), [`FUNCTIONS`] or [`EVERYTHING`].
fn log(what: u64, version: u64) {
    let n = GENERATION.get().fetch_add(1, Ordering::SeqCst);
    let slot = (n % LOG_SLOTS as u64) as usize * 3;
    let log = LOG.get();
    // a reader that read the slot's old entry sees it change (`changes`, `logged_version`)
    log[slot].store(0, Ordering::SeqCst);
    log[slot + 1].store(what, Ordering::SeqCst);
    log[slot + 2].store(version, Ordering::SeqCst);
    log[slot].store(n + 1, Ordering::SeqCst);
}

/// A catalog change that may change anything in the API arrived.
pub fn bump() {
    log(EVERYTHING, 0);
}

/// A catalog change of this relation arrived; `version` is the relation's now. Every executor
/// receives every invalidation: if the relation's last entry has this version, another
/// executor logged this state already (after it was committed), and the front's read for that
/// entry saw it.
pub fn relation_changed(relid: u32, version: u64) {
    if logged_version(relid) != Some(version) {
        log(u64::from(relid), version);
    }
}

/// Entry n as (relation or [`EVERYTHING`], version), if its slot holds it: None while it is
/// being written, or once a later entry took the slot.
fn entry(n: u64) -> Option<(u64, u64)> {
    let slot = (n % LOG_SLOTS as u64) as usize * 3;
    let log = LOG.get();
    if log[slot].load(Ordering::SeqCst) != n + 1 {
        return None;
    }
    let read = (log[slot + 1].load(Ordering::SeqCst), log[slot + 2].load(Ordering::SeqCst));
    // still that entry (not overwritten while it was read)
    (log[slot].load(Ordering::SeqCst) == n + 1).then_some(read)
}

/// The version of the relation's last entry in the log, if it holds one.
fn logged_version(relid: u32) -> Option<u64> {
    let head = GENERATION.get().load(Ordering::SeqCst);
    (head.saturating_sub(LOG_SLOTS as u64)..head)
        .rev()
        .find_map(|n| entry(n).filter(|(logged, _)| *logged == u64::from(relid)).map(|(_, version)| version))
}

/// Log a change of the catalogs as their fingerprints describe them (`rest`: all but the
/// functions; `functions`), unless it was logged for exactly that already (by another
/// executor that saw the same change): "everything" if the rest changed, else "functions" if
/// they did. A value stored replaces a different one only with a log entry, so an equal one
/// was logged before: two executors racing cost a build too many at worst, never a change
/// missed.
pub fn bump_for(rest: u64, functions: u64) {
    if FINGERPRINT.get().swap(rest, Ordering::SeqCst) != rest {
        FUNCTIONS_FINGERPRINT.get().store(functions, Ordering::SeqCst);
        bump();
    } else {
        functions_changed(functions);
    }
}

/// Log "functions" for the functions as `fingerprint` describes them, unless it was logged
/// for exactly that already.
pub fn functions_changed(fingerprint: u64) {
    if FUNCTIONS_FINGERPRINT.get().swap(fingerprint, Ordering::SeqCst) != fingerprint {
        log(FUNCTIONS, 0);
    }
}

/// What changed from one catalog generation to another, when it is not "everything".
pub struct Changes {
    /// without repeats
    pub relations: Vec<u32>,
    pub functions: bool,
}

/// The relations and whether functions changed from generation `from` to `to`; None if
/// anything else may have changed, or the log no longer holds those entries.
pub fn changes(from: u64, to: u64) -> Option<Changes> {
    if to < from || to - from > LOG_SLOTS as u64 {
        return None;
    }
    let mut relids = Vec::new();
    let mut functions = false;
    for n in from..to {
        // an entry is written right after its generation is taken: wait for it a little (an
        // entry overwritten by one LOG_SLOTS later never comes back: a full read)
        let mut tries = 0;
        let relid = loop {
            match entry(n) {
                Some((relid, _)) => break relid,
                None if tries < 1000 => {
                    tries += 1;
                    std::thread::yield_now();
                }
                None => return None,
            }
        };
        match relid {
            EVERYTHING => return None,
            FUNCTIONS => functions = true,
            relid => {
                let relid = relid as u32;
                if !relids.contains(&relid) {
                    relids.push(relid);
                }
            }
        }
    }
    Some(Changes { relations: relids, functions })
}
