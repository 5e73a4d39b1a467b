//! The views' rules for the schema cache (`core::schema_cache::view_deps`): the target list of
//! the first query of each rule's action, as PostgREST's `allViewsKeyDependencies` reads it,
//! taken from PostgreSQL's relation cache. Read as text (`pg_rewrite.ev_action`, 10 MB for
//! apflora's 281 nested views) and scanned, they took a second executor 26 ms; the relation
//! cache holds them parsed, and the executor that reads the tables has just opened the
//! exposed schemas' views for their updatability (`pg_relation_is_updatable`), which parsed
//! them (materialized views and the views of db-extra-search-path are parsed here, once per
//! executor, when first opened).

use std::ffi::c_void;

use crate::exec::Tx;
use pgrx::pg_sys;
use postgrest_core::schema_cache::{RuleTargets, TargetEntry};

/// The target lists of the rules of those of `relations` that are views or materialized views,
/// in `namespaces` when given. A relation that no longer exists is left out: its drop is
/// logged, and read again.
pub fn targets(_tx: &Tx, relations: impl IntoIterator<Item = u32>, namespaces: Option<&[pg_sys::Oid]>) -> RuleTargets {
    let mut targets = Vec::new();
    for relid in relations.into_iter().map(pg_sys::Oid::from_u32) {
        // SAFETY: inside a transaction (`Tx`), on the backend's main thread: syscache lookups
        // that take no lock and answer '\0' and InvalidOid for a relation that is gone
        let (kind, namespace) = unsafe { (pg_sys::get_rel_relkind(relid) as u8, pg_sys::get_rel_namespace(relid)) };
        // only views are opened: a partial read's relations are tables, indexes and sequences too
        if !matches!(kind, b'v' | b'm') || namespaces.is_some_and(|n| !n.contains(&namespace)) {
            continue;
        }
        // SAFETY: as above. try_relation_open locks the relation (AccessShareLock, as
        // pg_relation_is_updatable does) and answers NULL for one dropped meanwhile; its
        // relcache entry, rules and all, stays valid until relation_close, and nothing in
        // between takes in invalidations. The lock is released at once: the target lists are
        // copied out, and a change after this read is logged and read again.
        unsafe {
            let rel = pg_sys::try_relation_open(relid, pg_sys::AccessShareLock as pg_sys::LOCKMODE);
            if rel.is_null() {
                continue;
            }
            if !(*rel).rd_rules.is_null() {
                let rules = &*(*rel).rd_rules;
                for i in 0..usize::try_from(rules.numLocks).unwrap_or(0) {
                    let rule = &**rules.rules.add(i);
                    targets.push((relid.to_u32(), first_query_targets(rule.actions)));
                }
            }
            pg_sys::relation_close(rel, pg_sys::AccessShareLock as pg_sys::LOCKMODE);
        }
    }
    targets
}

/// `(resno, resorigtbl, resorigcol)` of each target entry of the first query of `actions` (a
/// rule's action list): empty for a rule that does nothing.
///
/// # Safety
/// `actions` is a valid `List` of `Query` nodes, or NIL.
unsafe fn first_query_targets(actions: *mut pg_sys::List) -> Vec<TargetEntry> {
    let Some(query) = pointers(actions).next().map(|q| q as *mut pg_sys::Node) else { return Vec::new() };
    if !pgrx::is_a(query, pg_sys::NodeTag::T_Query) {
        return Vec::new();
    }
    let query = query as *mut pg_sys::Query;
    pointers((*query).targetList)
        .map(|te| &*(te as *mut pg_sys::TargetEntry))
        .map(|te| TargetEntry { resno: i32::from(te.resno), resorigtbl: te.resorigtbl.to_u32(), resorigcol: i32::from(te.resorigcol) })
        .collect()
}

/// The pointers a `List` holds.
///
/// # Safety
/// `list` is a valid `List` of pointers, or NIL (NULL), and outlives the iterator.
unsafe fn pointers(list: *mut pg_sys::List) -> impl Iterator<Item = *mut c_void> {
    let (cells, len) = if list.is_null() { (std::ptr::null_mut(), 0) } else { ((*list).elements, (*list).length.max(0) as usize) };
    // SAFETY: a List's `elements` holds `length` cells (the caller's contract)
    (0..len).map(move |i| unsafe { (*cells.add(i)).ptr_value })
}
