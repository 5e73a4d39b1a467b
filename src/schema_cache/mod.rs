//! How catalog changes reach the schema cache. PostgreSQL's own invalidation messages
//! (relcache and syscache callbacks, replayed on standbys too) reach each executor when its
//! transactions start. The callbacks only record what changed; `settle`, run first in every
//! transaction, drops what cannot change the API and bumps the catalog generation in shared
//! memory (`shmem`) for the rest. The front reads the catalogs again (`core::wire::Job::Load`,
//! run by executors; the views' rules: `rules`) when the generation moved past the one its
//! schema cache was read at.
//!
//! What is dropped: relations in temporary and TOAST namespaces and in schemas that are
//! neither exposed nor on `db-extra-search-path` (a temp table in another session, ANALYZE of
//! an unrelated table), relations dropped that were never read into the schema cache, and
//! roles and types (the schema cache holds no role; a type's change that matters reaches a
//! table or a function), and namespaces other than the exposed ones.
//!
//! What is left is logged in shared memory (`shmem`). A change to relations of those schemas
//! is logged as the relations, with a version of each (`RELATION_VERSIONS_SQL`): the front
//! reads just them again, compares what it reads with what it has, and builds the cache again
//! only if they differ. Every executor receives every invalidation; one that finds the
//! relation's last entry at the version it sees does not log it again. Statistics (ANALYZE,
//! autovacuum) are written in place and change no version.
//!
//! Any other change (a function, a schema, a composite type, a relcache reset, a comment on
//! something else than a relation) is checked against a
//! fingerprint of all the catalog rows the schema cache is read from (`FINGERPRINT_SQL`), and
//! logged as "everything" only by the first executor to see a new fingerprint: one change,
//! one full read for the whole server.

pub mod rules;

use crate::exec::{self, Tx};
use crate::shmem;
use pgrx::pg_sys;
use postgrest_core::error::Error;
use postgrest_core::text::Text;
use std::cell::RefCell;
use std::ffi::CString;

/// `pg_description` (catalog/pg_description.h, PostgreSQL 15; not in pgrx's bindings).
const DESCRIPTION_RELATION_ID: pg_sys::Oid = pg_sys::Oid::from_u32(2609);

#[derive(Default)]
struct Pending {
    relations: Vec<pg_sys::Oid>,
    functions: bool,
    namespaces: bool,
    /// a relcache reset: everything may have changed
    everything: bool,
}

thread_local! {
    static PENDING: RefCell<Pending> = RefCell::new(Pending::default());
    /// the exposed schemas and `db-extra-search-path`, by name
    static RELEVANT: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    /// their namespaces when last looked up (None: not yet)
    static RELEVANT_OIDS: RefCell<Option<Vec<pg_sys::Oid>>> = const { RefCell::new(None) };
}

/// The schemas whose relations count (from the configuration; again after a reload).
pub fn set_relevant_schemas(names: Vec<String>) {
    RELEVANT.with(|r| *r.borrow_mut() = names);
}

/// Relcache invalidation callback.
///
/// # Safety
///
/// Called only by PostgreSQL's invalidation processing (CallRelcacheCallbacks), on the backend's
/// thread, with the Datum registered in [`watch_catalogs`]. It records the relation and
/// cannot fail or unwind (a push onto a thread-local vector).
unsafe extern "C-unwind" fn on_relcache(_arg: pg_sys::Datum, relid: pg_sys::Oid) {
    PENDING.with(|p| {
        let mut p = p.borrow_mut();
        if relid == pg_sys::InvalidOid {
            p.everything = true;
        } else {
            p.relations.push(relid);
        }
    });
}

/// Syscache invalidation callback.
///
/// # Safety
///
/// Called only by PostgreSQL's invalidation processing (CallSyscacheCallbacks), on the backend's
/// thread, for the caches registered in [`watch_catalogs`]. As [`on_relcache`]: it only records.
unsafe extern "C-unwind" fn on_syscache(_arg: pg_sys::Datum, cacheid: i32, _hash: u32) {
    PENDING.with(|p| {
        let mut p = p.borrow_mut();
        if cacheid == pg_sys::SysCacheIdentifier::NAMESPACEOID as i32 {
            p.namespaces = true;
        } else {
            p.functions = true;
        }
    });
}

/// Register the invalidation callbacks; once per executor, after connecting.
pub fn watch_catalogs() {
    // SAFETY: on the executor's main thread, once per process, so 1 relcache and 2 syscache
    // slots of PostgreSQL's fixed tables are used; the callbacks are 'static functions with
    // the signatures PostgreSQL calls, and the cache ids are valid SysCacheIdentifier values.
    // Constraints and column types need no callback of their own: changing them invalidates
    // their table's relcache entry (indexes, foreign-key triggers, ALTER TABLE).
    unsafe {
        pg_sys::CacheRegisterRelcacheCallback(Some(on_relcache), pg_sys::Datum::from(0));
        for cache in [pg_sys::SysCacheIdentifier::PROCOID, pg_sys::SysCacheIdentifier::NAMESPACEOID] {
            pg_sys::CacheRegisterSyscacheCallback(cache as i32, Some(on_syscache), pg_sys::Datum::from(0));
        }
    }
}

/// Sort the changes recorded since the last call and log those that may change the API.
/// First thing in every transaction (its start took the invalidations in).
pub fn settle(tx: &Tx) {
    let Change { anything, relations, functions } = what_changed();
    if anything {
        return log_everything(tx);
    }
    if !relations.is_empty() {
        match relation_versions(tx, &relations) {
            Ok(versions) => versions.into_iter().for_each(|(relid, version)| shmem::relation_changed(relid, version)),
            // cannot tell: a full read too many is better than a change missed
            Err(_) => return shmem::bump(),
        }
    }
    if functions {
        match fingerprint(tx, FUNCTIONS_FINGERPRINT_SQL, &[]) {
            Ok(functions) => shmem::functions_changed(functions),
            Err(_) => shmem::bump(),
        }
    }
}

/// Log "everything" unless another executor logged the catalogs as they are now (or only
/// "functions" if the rest of them is as it was logged).
fn log_everything(tx: &Tx) {
    // the fingerprint reads the catalogs of every exposed relation
    crate::memory::trim_after_job();
    let namespaces = oid_array(relevant_namespaces().iter().map(|o| o.to_u32()));
    match (fingerprint(tx, FINGERPRINT_SQL, &[Some(namespaces.into())]), fingerprint(tx, FUNCTIONS_FINGERPRINT_SQL, &[])) {
        (Ok(rest), Ok(functions)) => shmem::bump_for(rest, functions),
        // cannot tell: a build too many is better than a change missed
        _ => shmem::bump(),
    }
}

/// What the recorded changes may have changed in the API.
#[derive(Default)]
struct Change {
    /// anything: read everything again
    anything: bool,
    /// relations of the exposed schemas or the extra search path (oids, without repeats)
    relations: Vec<u32>,
    /// functions (of any schema: a computed relationship's may be anywhere)
    functions: bool,
}

/// The cheap filter: which of the recorded changes could reach the schema cache?
fn what_changed() -> Change {
    let pending = PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()));
    let everything = Change { anything: true, ..Change::default() };
    if pending.everything {
        return everything;
    }
    let functions = pending.functions;
    if pending.relations.is_empty() && !pending.namespaces {
        return Change { functions, ..Change::default() };
    }
    let relevant = relevant_namespaces();
    // a namespace changed: it matters if an exposed schema appeared, went or was renamed (a
    // temporary namespace made for a session does not)
    let before = RELEVANT_OIDS.with(|r| r.borrow_mut().replace(relevant.clone()));
    if pending.namespaces && before.is_some_and(|b| b != relevant) {
        return everything;
    }
    // pg_description: a COMMENT ON, signalled by the extension's event trigger
    if pending.relations.contains(&DESCRIPTION_RELATION_ID) {
        return everything;
    }
    let matters = |relid: &pg_sys::Oid| {
        // SAFETY: inside a transaction; a syscache lookup that answers InvalidOid for a
        // relation that is gone
        let namespace = unsafe { pg_sys::get_rel_namespace(*relid) };
        // temporary and TOAST namespaces are never exposed; a relation dropped or moved out
        // of the exposed schemas mattered if it was ever read into the schema cache
        relevant.contains(&namespace) || shmem::maybe_exposed(relid.to_u32())
    };
    let relevant_relids: Vec<&pg_sys::Oid> = pending.relations.iter().filter(|r| matters(r)).collect();
    // a composite type's name is in functions' signatures and columns' types: not one
    // relation's (a sequence is read as its table's column default: `RELATION_VERSIONS_SQL`
    // logs the table)
    // SAFETY: inside a transaction; a syscache lookup that answers '\0' for a relation that is gone
    if relevant_relids.iter().any(|r| unsafe { pg_sys::get_rel_relkind(**r) } as u8 == pg_sys::RELKIND_COMPOSITE_TYPE) {
        return everything;
    }
    let mut relations: Vec<u32> = relevant_relids.into_iter().map(|r| r.to_u32()).collect();
    relations.sort_unstable();
    relations.dedup();
    Change { anything: false, relations, functions }
}

/// The oids and row versions (xmin) of what the catalog query reads for the exposed schemas
/// and the extra search path: relations, columns, constraints, view rules, comments, types,
/// the schemas themselves; with [`FUNCTIONS_FINGERPRINT_SQL`], the functions too. A change of
/// any of them makes a new row version; the statistics that ANALYZE and VACUUM write into
/// pg_class are updated in place and do not.
/// Every executor runs it after such a change, before its next job (a new request's among
/// them): pg_class is read once, and the other catalogs by index where they have one
/// (apflora beside 10,000 tables: 50 -> 15 ms). An index's columns are not read.
const FINGERPRINT_SQL: &str = "\
WITH rels AS MATERIALIZED (
  SELECT c.oid, c.xmin, c.relkind FROM pg_catalog.pg_class c WHERE c.relnamespace = ANY ($1::oid[])
),
with_columns AS MATERIALIZED (
  SELECT coalesce(array_agg(oid), '{}') AS oids FROM rels WHERE relkind NOT IN ('i', 'I')
)
SELECT coalesce(sum(h), 0)::text FROM (
  SELECT hashtextextended(n.oid::text || ' ' || n.xmin::text, 1) AS h
    FROM pg_catalog.pg_namespace n WHERE n.oid = ANY ($1::oid[])
  UNION ALL SELECT hashtextextended(c.oid::text || ' ' || c.xmin::text, 2)
    FROM rels c
  UNION ALL SELECT hashtextextended(a.attrelid::text || ' ' || a.attnum::text || ' ' || a.xmin::text, 3)
    FROM pg_catalog.pg_attribute a
    WHERE a.attrelid = ANY ((SELECT oids FROM with_columns)::oid[]) AND a.attnum > 0
  UNION ALL SELECT hashtextextended(k.oid::text || ' ' || k.xmin::text, 4)
    FROM pg_catalog.pg_constraint k
    -- IN: a hashed subplan (= ANY of an array compares each row with every element)
    WHERE k.connamespace = ANY ($1::oid[]) OR k.confrelid IN (SELECT oid FROM rels)
  UNION ALL SELECT hashtextextended(r.oid::text || ' ' || r.xmin::text, 5)
    FROM pg_catalog.pg_rewrite r JOIN rels c ON c.oid = r.ev_class
  UNION ALL SELECT hashtextextended(d.objoid::text || ' ' || d.objsubid::text || ' ' || d.xmin::text, 6)
    FROM pg_catalog.pg_description d WHERE d.classoid IN ('pg_catalog.pg_class'::regclass, 'pg_catalog.pg_proc'::regclass, 'pg_catalog.pg_namespace'::regclass)
  UNION ALL SELECT hashtextextended(t.oid::text || ' ' || t.xmin::text, 8)
    FROM pg_catalog.pg_type t WHERE t.typnamespace = ANY ($1::oid[]) AND t.typtype IN ('d', 'e')
  UNION ALL SELECT hashtextextended(e.oid::text || ' ' || e.xmin::text, 9)
    FROM pg_catalog.pg_enum e JOIN pg_catalog.pg_type t ON t.oid = e.enumtypid WHERE t.typnamespace = ANY ($1::oid[])
) f";

/// The functions' part of the fingerprint (the catalog query reads the functions of any
/// schema: computed relationships), on its own: a change of functions (`CREATE FUNCTION` in
/// a migration) is logged as "functions" when it changes (well under 1 ms, where the whole
/// fingerprint takes 15 ms on apflora beside 10,000 tables), and the front reads the
/// functions again, not everything.
const FUNCTIONS_FINGERPRINT_SQL: &str = "\
SELECT coalesce(sum(hashtextextended(p.oid::text || ' ' || p.xmin::text, 7)), 0)::text
FROM pg_catalog.pg_proc p
WHERE p.pronamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)";

/// A version of each relation of `$1` (a sequence counts as the table that owns it: its name
/// is in the column's default): the row versions of the catalog rows a partial read
/// (`catalog.sql`) reads about it: the relation, its columns and their defaults, its
/// constraints, its triggers (a foreign key of another table adds some), its rules and its
/// comments. A change to any makes new row versions; ANALYZE and VACUUM write in place.
const RELATION_VERSIONS_SQL: &str = "\
SELECT r.relid::text, (
  coalesce((SELECT hashtextextended(c.xmin::text, 0) FROM pg_catalog.pg_class c WHERE c.oid = r.relid), 0)
  + (SELECT coalesce(sum(hashtextextended(a.xmin::text || ' ' || a.attnum, 1)), 0)
     FROM pg_catalog.pg_attribute a WHERE a.attrelid = r.relid AND a.attnum > 0)
  + (SELECT coalesce(sum(hashtextextended(d.xmin::text || ' ' || d.adnum, 2)), 0)
     FROM pg_catalog.pg_attrdef d WHERE d.adrelid = r.relid)
  + (SELECT coalesce(sum(hashtextextended(k.xmin::text || ' ' || k.oid, 3)), 0)
     FROM pg_catalog.pg_constraint k WHERE k.conrelid = r.relid)
  + (SELECT coalesce(sum(hashtextextended(t.xmin::text || ' ' || t.oid, 4)), 0)
     FROM pg_catalog.pg_trigger t WHERE t.tgrelid = r.relid)
  + (SELECT coalesce(sum(hashtextextended(w.xmin::text || ' ' || w.oid, 5)), 0)
     FROM pg_catalog.pg_rewrite w WHERE w.ev_class = r.relid)
  + (SELECT coalesce(sum(hashtextextended(s.xmin::text || ' ' || s.objsubid, 6)), 0)
     FROM pg_catalog.pg_description s WHERE s.objoid = r.relid AND s.classoid = 'pg_catalog.pg_class'::regclass)
)::text
FROM (
  SELECT DISTINCT coalesce((
    SELECT d.refobjid FROM pg_catalog.pg_depend d
    JOIN pg_catalog.pg_class s ON s.oid = d.objid AND s.relkind = 'S'
    WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = x.relid
      AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype IN ('a', 'i')
    LIMIT 1), x.relid) AS relid
  FROM unnest($1::oid[]) AS x(relid)
) r";

/// The versions of these relations now (see [`RELATION_VERSIONS_SQL`]).
fn relation_versions(tx: &Tx, relids: &[u32]) -> Result<Vec<(u32, u64)>, Error> {
    let rows = exec::query(tx, RELATION_VERSIONS_SQL, &[Some(oid_array(relids.iter().copied()).into())], true)?;
    Ok(rows
        .into_iter()
        .filter_map(|row| match row.as_slice() {
            [Some(relid), Some(version)] => Some((relid.parse().ok()?, fnv(version))),
            _ => None,
        })
        .collect())
}

/// Oids as the text of an `oid[]` parameter.
fn oid_array(oids: impl Iterator<Item = u32>) -> String {
    format!("{{{}}}", oids.map(|o| o.to_string()).collect::<Vec<_>>().join(","))
}

/// A numeric's digits, hashed to a u64.
fn fnv(digits: &str) -> u64 {
    digits.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// The catalogs' fingerprint now ([`FINGERPRINT_SQL`] with the relevant namespaces, or
/// [`FUNCTIONS_FINGERPRINT_SQL`]).
fn fingerprint(tx: &Tx, sql: &str, params: &[Option<Text>]) -> Result<u64, Error> {
    let rows = exec::query(tx, sql, params, true)?;
    let sum = rows.into_iter().next().and_then(|r| r.into_iter().next().flatten()).unwrap_or_default();
    // the sum is a numeric of any size
    Ok(fnv(&sum))
}

/// The namespaces of the exposed schemas and the extra search path that exist.
pub fn relevant_namespaces() -> Vec<pg_sys::Oid> {
    RELEVANT.with(|r| {
        r.borrow()
            .iter()
            .filter_map(|name| CString::new(name.as_str()).ok())
            // SAFETY: inside a transaction; missing_ok, so an unknown name is InvalidOid
            .map(|c| unsafe { pg_sys::get_namespace_oid(c.as_ptr(), true) })
            .filter(|oid| *oid != pg_sys::InvalidOid)
            .collect()
    })
}

/// At a full schema cache read: remember every relation of the relevant schemas (see
/// `settle`), listed by `CATALOG_RELATIONS_QUERY` as an array's text.
pub fn remember_exposed(relations: &str) {
    array_oids(relations).for_each(shmem::remember_exposed);
}

/// The oids of an array's text (`{16384,16390}`), as `CATALOG_RELATIONS_QUERY` lists them.
pub fn array_oids(array: &str) -> impl Iterator<Item = u32> + '_ {
    array.trim_matches(|c| c == '{' || c == '}').split(',').filter_map(|oid| oid.parse::<u32>().ok())
}

/// Called by the extension's event trigger after `COMMENT ON`, which sends no invalidation of
/// its own, for each object commented on: queue one, sent at commit. A comment on a relation
/// or a column invalidates the relation (read again alone); any other (a function, a schema)
/// invalidates `pg_description`, which executors count as a change of anything.
#[pgrx::pg_extern]
fn comments_changed(classid: pg_sys::Oid, objid: pg_sys::Oid) {
    let relid = if classid == pg_sys::RelationRelationId { objid } else { DESCRIPTION_RELATION_ID };
    // SAFETY: called by PostgreSQL as a SQL function, inside the commenting transaction; the
    // relation exists (it was just commented on; pg_description always does)
    unsafe { pg_sys::CacheInvalidateRelcacheByRelid(relid) };
}

pgrx::extension_sql!(
    r#"
REVOKE EXECUTE ON FUNCTION postgrest_ext.comments_changed(oid, oid) FROM PUBLIC;
CREATE FUNCTION postgrest_ext.on_comment() RETURNS event_trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog
  AS $$ DECLARE c record; BEGIN
    FOR c IN SELECT classid, objid FROM pg_event_trigger_ddl_commands() LOOP
      PERFORM postgrest_ext.comments_changed(c.classid, c.objid);
    END LOOP;
  END $$;
CREATE EVENT TRIGGER postgrest_ext_comments ON ddl_command_end WHEN TAG IN ('COMMENT')
  EXECUTE FUNCTION postgrest_ext.on_comment();
"#,
    name = "comment_trigger",
    requires = [comments_changed]
);
