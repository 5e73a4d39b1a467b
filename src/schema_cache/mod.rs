//! The schema cache, read straight from the catalogs and kept until they change.
//!
//! One catalog query (`postgrest_core::schema_cache::CATALOG_QUERY`) produces one JSON
//! document; core turns it into a `SchemaCache`. PostgreSQL's own invalidation messages
//! (relcache and syscache callbacks, replayed on standbys too) mark it stale, and the next
//! request rebuilds it inside its own transaction.

use crate::exec::{self, transaction, Tx};
use pgrx::pg_sys;
use postgrest_core::app::End;
use postgrest_core::config::Config;
use postgrest_core::error::Error;
use postgrest_core::schema_cache::{catalog_param, SchemaCache, CATALOG_QUERY};
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Bumped by every invalidation. A cache built at generation g is fresh while the counter is
/// still g: an invalidation during a load, or a load that failed, leaves it stale.
static GENERATION: AtomicU64 = AtomicU64::new(1);

/// The cache, the generation it was read at, and the schema list it was built for.
struct Cached {
    generation: u64,
    schemas: Vec<String>,
    cache: Arc<SchemaCache>,
}

thread_local! {
    static CACHE: RefCell<Option<Cached>> = const { RefCell::new(None) };
}

/// Mark the cache stale (SIGHUP, or a catalog change).
pub fn invalidate() {
    GENERATION.fetch_add(1, Ordering::SeqCst);
}

/// Relcache invalidation callback.
///
/// # Safety
///
/// Called only by PostgreSQL's invalidation processing (CallRelcacheCallbacks), on the backend's
/// thread, with the Datum registered in [`watch_catalogs`]. It reads neither argument and only
/// bumps an atomic, so it cannot fail or unwind.
unsafe extern "C-unwind" fn on_relcache(_arg: pg_sys::Datum, _relid: pg_sys::Oid) {
    invalidate();
}

/// Syscache invalidation callback.
///
/// # Safety
///
/// Called only by PostgreSQL's invalidation processing (CallSyscacheCallbacks), on the backend's
/// thread, for the caches registered in [`watch_catalogs`]. As [`on_relcache`]: it only bumps an
/// atomic.
unsafe extern "C-unwind" fn on_syscache(_arg: pg_sys::Datum, _cacheid: i32, _hash: u32) {
    invalidate();
}

/// Register the invalidation callbacks; once per worker, after connecting.
pub fn watch_catalogs() {
    // SAFETY: on the worker's main thread, once per process (worker main calls it once, after
    // connecting), so 1 relcache and 5 syscache slots of PostgreSQL's fixed tables are used; the
    // callbacks are 'static functions with the signatures PostgreSQL calls, and the cache ids are
    // valid SysCacheIdentifier values.
    unsafe {
        pg_sys::CacheRegisterRelcacheCallback(Some(on_relcache), pg_sys::Datum::from(0));
        for cache in [
            pg_sys::SysCacheIdentifier::PROCOID,
            pg_sys::SysCacheIdentifier::NAMESPACEOID,
            pg_sys::SysCacheIdentifier::TYPEOID,
            pg_sys::SysCacheIdentifier::AUTHOID,
            pg_sys::SysCacheIdentifier::CONSTROID,
        ] {
            pg_sys::CacheRegisterSyscacheCallback(cache as i32, Some(on_syscache), pg_sys::Datum::from(0));
        }
    }
}

/// The current schema cache, rebuilt first (in a transaction of its own) if the catalogs
/// changed since it was read.
pub fn current(config: &Config) -> Result<Arc<SchemaCache>, Error> {
    if let Some(cache) = CACHE.with(|c| c.borrow().as_ref().filter(|c| c.fresh_for(config)).map(|c| c.cache.clone())) {
        return Ok(cache);
    }
    // the generation is read inside the transaction, after its start took in the pending
    // invalidations: one arriving during the load leaves the new cache stale
    let (generation, cache) = transaction(true, |tx| Ok(((GENERATION.load(Ordering::SeqCst), load(tx, config)?), End::Commit)))?;
    let cache = Arc::new(cache);
    exec::forget_plans();
    CACHE.with(|c| *c.borrow_mut() = Some(Cached { generation, schemas: config.db_schemas.clone(), cache: cache.clone() }));
    Ok(cache)
}

/// Did the catalogs change since the cache was read (as far as this backend has been told)?
pub fn stale(config: &Config) -> bool {
    CACHE.with(|c| !c.borrow().as_ref().is_some_and(|c| c.fresh_for(config)))
}

impl Cached {
    fn fresh_for(&self, config: &Config) -> bool {
        self.generation == GENERATION.load(Ordering::SeqCst) && self.schemas == config.db_schemas
    }
}

fn load(tx: &Tx, config: &Config) -> Result<SchemaCache, Error> {
    let param = catalog_param(&config.db_schemas, &config.db_extra_search_path, &config.db_hoisted_tx_settings);
    let rows = exec::query(tx, CATALOG_QUERY, &[Some(param)], true)?;
    let doc = rows.first().and_then(|r| r.first()).and_then(|v| v.as_deref()).ok_or(Error::NoSchemaCache)?;
    SchemaCache::from_json(doc).map_err(|e| {
        pgrx::warning!("postgrest_ext: could not build the schema cache: {e}");
        Error::NoSchemaCache
    })
}
