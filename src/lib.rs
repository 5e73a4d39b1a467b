//! postgrest_ext: PostgREST served from background workers inside PostgreSQL.
//!
//! This crate is the thin edge around `postgrest_core` (see ARCHITECTURE.md): GUCs (`guc`),
//! the launcher (`worker`), the front that owns the HTTP connections and the schema cache
//! (`front`), the executors that run each request's transaction (`executor`), the
//! transaction guard and SPI (`exec`), the catalog invalidation callbacks (`schema_cache`)
//! and the shared memory (`shmem`). Everything that can be pure (parsing, planning, SQL
//! generation, responses) lives in `core/`.

use pgrx::prelude::*;

mod allocator;
mod exec;
mod executor;
mod front;
mod guc;
mod memory;
mod schema_cache;
mod shmem;
mod worker;

// The hand-declared PostgreSQL functions and constants (src/exec/spi.rs, src/exec/timeout.rs,
// src/worker/signals.rs) are copied from PostgreSQL 15's headers and only declared for it.
#[cfg(not(feature = "pg15"))]
compile_error!(
    "postgrest_ext declares PostgreSQL 15 functions by hand (see src/exec/timeout.rs); port them before building for another version"
);

::pgrx::pg_module_magic!();

// Rust's allocations, in every process that loads the library (`allocator.rs` says why).
#[global_allocator]
static ALLOCATOR: allocator::Allocator = allocator::Allocator;

// The extension's own SQL objects (schema `postgrest_ext`).
extension_sql_file!("../sql/postgrest_ext.sql", name = "postgrest_ext_objects", bootstrap);

/// Called when the library is loaded. GUCs are defined in every backend (so `SHOW` and
/// `ALTER SYSTEM` know them); workers are registered only at postmaster start.
#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    guc::define();
    // SAFETY: a plain bool the postmaster sets around loading shared_preload_libraries; read in
    // _PG_init, on the loading process's only thread
    if unsafe { pg_sys::process_shared_preload_libraries_in_progress } {
        shmem::init();
        worker::register_launcher();
    }
}

/// The version of the extension library, for `SELECT postgrest_ext.version()`.
#[pg_extern]
fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}
