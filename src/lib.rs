//! postgrest_ext: PostgREST served from background workers inside PostgreSQL.
//!
//! This crate is the thin edge around `postgrest_core`: GUCs (`guc`), the background workers
//! and their HTTP listener (`worker`), the transaction guard and SPI (`exec`), the catalog
//! read behind the schema cache (`schema_cache`), and `backend`, which puts the last two
//! behind core's `Database` trait. See ARCHITECTURE.md. Everything that can be pure
//! (parsing, planning, SQL generation, responses) lives in `core/`.

use pgrx::prelude::*;

mod backend;
mod exec;
mod guc;
mod schema_cache;
mod worker;

::pgrx::pg_module_magic!();

// The extension's own SQL objects (schema `postgrest_ext`).
extension_sql_file!("../sql/postgrest_ext.sql", name = "postgrest_ext_objects", bootstrap);

/// Called when the library is loaded. GUCs are defined in every backend (so `SHOW` and
/// `ALTER SYSTEM` know them); workers are registered only at postmaster start.
#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    guc::define();
    if unsafe { pg_sys::process_shared_preload_libraries_in_progress } {
        worker::register_launcher();
    }
}

/// The version of the extension library, for `SELECT postgrest_ext.version()`.
#[pg_extern]
fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}
