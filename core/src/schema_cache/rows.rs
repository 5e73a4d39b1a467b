//! The catalog rows a schema cache is derived from, by oid, kept by the front so that a change
//! to a few relations costs a read of those relations only (issue #19: one DDL on one table of
//! 10,000 was a full read of all of them).
//!
//! A full read gives every row. A partial read (`catalog.sql` with its `--partial` lines, for
//! a set of relations) gives every row that mentions one of them: the relations themselves,
//! the foreign keys at either end of them (and of the tables their rules depend on), those
//! tables' keys and the junctions' primary keys, and the rules of the views among them.
//! If those rows are what the kept rows hold about the relations, nothing changed (a
//! statistics update, an invalidation another executor logged too). Otherwise
//! [`CatalogRows::apply`] replaces what the rows held about those relations with what the
//! partial read found, and the relationships are derived again from all rows, as after a full
//! read. What is not read per relation (functions, types, representations, media handlers)
//! only a full read changes.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::document::{CatalogDoc, InternalPk, RawComputedRel, RawRel};
use super::fx_hash::FxHashMap;
use super::identifiers::QualifiedIdentifier;
use super::table::Table;
use super::view_deps::{ExposedView, TableKey, TargetEntry};

/// The rows of a read, keyed so that a partial read's rows replace the ones they update.
#[derive(Debug, Default, Clone)]
pub struct CatalogRows {
    /// the exposed relations' names
    pub(crate) names: FxHashMap<u32, QualifiedIdentifier>,
    /// foreign keys by (table, constraint name, constraint): the order of a full read
    pub(crate) m2o: BTreeMap<(u32, String, u32), RawRel>,
    pub(crate) internal_pks: BTreeMap<u32, InternalPk>,
    pub(crate) views: BTreeMap<u32, ExposedView>,
    /// by (table, constraint, constraint type)
    pub(crate) view_keys: BTreeMap<(u32, u32, String), TableKey>,
    /// each view's rules' target lists, sorted
    pub(crate) rules: BTreeMap<u32, Vec<Vec<TargetEntry>>>,
    pub(crate) computed_rels: Vec<RawComputedRel>,
}

/// Why a partial read cannot be applied: read everything instead.
#[derive(Debug, PartialEq, Eq)]
pub enum NeedsFullRead {
    /// the document does not decode
    Invalid(String),
    /// the document is not a partial read
    NotPartial,
    /// a relation was renamed or moved: functions and types name it too
    Renamed,
}

impl CatalogRows {
    /// The rows of `doc` (what the schema cache keeps apart, the tables, functions and
    /// handlers, is left in it) and the target lists of the rules.
    pub(crate) fn take(doc: &mut CatalogDoc, rules: Vec<(u32, Vec<TargetEntry>)>) -> CatalogRows {
        let mut rows = CatalogRows {
            names: doc.tables.iter().map(|t| (t.oid, QualifiedIdentifier::new(t.schema.clone(), t.name.clone()))).collect(),
            computed_rels: std::mem::take(&mut doc.computed_rels),
            ..CatalogRows::default()
        };
        rows.insert(doc, rules);
        rows
    }

    /// Add a read's rows, replacing rows of the same keys.
    fn insert(&mut self, doc: &mut CatalogDoc, rules: Vec<(u32, Vec<TargetEntry>)>) {
        for rel in std::mem::take(&mut doc.m2o_rels) {
            self.m2o.insert((rel.conrelid, rel.constraint_name.clone(), rel.oid), rel);
        }
        for pk in std::mem::take(&mut doc.internal_pks) {
            self.internal_pks.insert(pk.relid, pk);
        }
        for view in std::mem::take(&mut doc.views) {
            self.views.insert(view.oid, view);
        }
        for key in std::mem::take(&mut doc.view_keys) {
            self.view_keys.insert((key.relid, key.con, key.constraint_type.clone()), key);
        }
        let mut read: Vec<u32> = rules.iter().map(|(view, _)| *view).collect();
        for (view, entries) in rules {
            self.rules.entry(view).or_default().push(entries);
        }
        read.sort_unstable();
        read.dedup();
        for view in &read {
            if let Some(rules) = self.rules.get_mut(view) {
                rules.sort();
            }
        }
    }

    /// Does the partial read `doc` (with `rules`) of the `changed` relations say anything
    /// about them that these rows and `tables` (the cache's) do not? A view's primary key is
    /// derived, not read: it is left out.
    pub(crate) fn differs(
        &self,
        changed: &[u32],
        doc: &CatalogDoc,
        rules: &[(u32, Vec<TargetEntry>)],
        tables: &BTreeMap<QualifiedIdentifier, Arc<Table>>,
    ) -> bool {
        let read = |t: &Table| Table { pk_cols: if t.is_view { Vec::new() } else { t.pk_cols.clone() }, ..t.clone() };
        let touches = |rel: &RawRel| changed.contains(&rel.conrelid) || changed.contains(&rel.confrelid);
        let mut m2o_now: Vec<&RawRel> = doc.m2o_rels.iter().filter(|r| touches(r)).collect();
        m2o_now.sort_by_key(|r| r.oid);
        let mut m2o_kept: Vec<&RawRel> = self.m2o.values().filter(|r| touches(r)).collect();
        m2o_kept.sort_by_key(|r| r.oid);
        if m2o_now != m2o_kept {
            return true;
        }
        // the keys of the relations and of their constraints, in the kept rows' order
        let mentions = |k: &TableKey| changed.contains(&k.relid) || changed.contains(&k.conrelid);
        let mut keys_now: Vec<&TableKey> = doc.view_keys.iter().filter(|k| mentions(k)).collect();
        keys_now.sort_by(|a, b| (a.relid, a.con, &a.constraint_type).cmp(&(b.relid, b.con, &b.constraint_type)));
        let keys_kept: Vec<&TableKey> = self.view_keys.values().filter(|k| mentions(k)).collect();
        if keys_now != keys_kept {
            return true;
        }
        changed.iter().any(|relid| {
            let table_now = doc.tables.iter().find(|t| t.oid == *relid).map(read);
            let table_kept = self.names.get(relid).and_then(|qi| tables.get(qi)).map(|t| read(t));
            let mut rules_now: Vec<&Vec<TargetEntry>> = rules.iter().filter(|(view, _)| view == relid).map(|(_, e)| e).collect();
            rules_now.sort();
            let rules_kept: Vec<&Vec<TargetEntry>> = self.rules.get(relid).into_iter().flatten().collect();
            table_now != table_kept
                || doc.views.iter().find(|v| v.oid == *relid) != self.views.get(relid)
                || doc.internal_pks.iter().find(|pk| pk.relid == *relid) != self.internal_pks.get(relid)
                || rules_now != rules_kept
        })
    }

    /// Replace what the rows hold about the `changed` relations with the partial read `doc`
    /// of them (the caller checked that it is one), and the tables in `tables` (the current
    /// cache's) with the read's.
    pub(crate) fn apply(
        &mut self,
        changed: &[u32],
        mut doc: CatalogDoc,
        rules: Vec<(u32, Vec<TargetEntry>)>,
        tables: &mut BTreeMap<QualifiedIdentifier, Arc<Table>>,
    ) -> Result<(), NeedsFullRead> {
        for table in &doc.tables {
            if self.names.get(&table.oid).is_some_and(|qi| qi.schema != table.schema || qi.name != table.name) {
                return Err(NeedsFullRead::Renamed);
            }
        }
        for relid in changed {
            if let Some(qi) = self.names.remove(relid) {
                tables.remove(&qi);
            }
            self.internal_pks.remove(relid);
            self.views.remove(relid);
            self.rules.remove(relid);
        }
        self.m2o.retain(|_, rel| !changed.contains(&rel.conrelid) && !changed.contains(&rel.confrelid));
        self.view_keys.retain(|_, k| !changed.contains(&k.relid) && !changed.contains(&k.conrelid));
        for table in std::mem::take(&mut doc.tables) {
            let qi = QualifiedIdentifier::new(table.schema.clone(), table.name.clone());
            self.names.insert(table.oid, qi.clone());
            tables.insert(qi, Arc::new(table));
        }
        self.insert(&mut doc, rules);
        Ok(())
    }

    /// The rules' target lists, one entry per rule.
    pub(crate) fn rule_list(&self) -> Vec<(u32, &[TargetEntry])> {
        self.rules.iter().flat_map(|(view, rules)| rules.iter().map(move |entries| (*view, entries.as_slice()))).collect()
    }
}
