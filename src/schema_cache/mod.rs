//! How catalog changes reach the schema cache: PostgreSQL's own invalidation messages
//! (relcache and syscache callbacks, replayed on standbys too), taken in by each executor
//! when its transactions start, bump the catalog generation in shared memory (`shmem`). The
//! front reads the catalogs again (`core::wire::Job::Load`, run by an executor) when the
//! generation moved past the one its schema cache was read at.

use crate::shmem;
use pgrx::pg_sys;

/// A catalog change that may change the API.
fn invalidate() {
    shmem::bump();
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
