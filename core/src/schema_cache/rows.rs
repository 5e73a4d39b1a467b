//! The catalog rows a schema cache is derived from, by oid, kept by the front so that a change
//! to a few relations costs a read of those relations only (issue #19: one DDL on one table of
//! 10,000 was a full read of all of them).
//!
//! A full read gives every row. A partial read (`catalog.sql` with its `--partial` lines, for
//! a set of relations) gives every row that mentions one of them: the relations themselves,
//! the foreign keys at either end of them (and of the tables their rules depend on), those
//! tables' keys and the junctions' primary keys, and the rules of the views among them.
//! [`CatalogRows::apply`] replaces what the rows held about those relations with what the
//! partial read found; the relationships are then derived again from all rows, as after a
//! full read. What is not read per relation (functions, types, representations, media
//! handlers) only a full read changes.

use std::collections::BTreeMap;

use super::document::{CatalogDoc, InternalPk, RawComputedRel, RawRel};
use super::fx_hash::FxHashMap;
use super::identifiers::QualifiedIdentifier;
use super::table::Table;
use super::view_deps::{ExposedView, TableKey, TargetEntry};

/// The rows of a read, keyed so that a partial read's rows replace the ones they update.
#[derive(Debug, Default, Clone)]
pub struct CatalogRows {
    /// each relation read (exposed relations, views of the view schemas): its version
    pub(crate) versions: FxHashMap<u32, String>,
    /// the exposed relations' names
    pub(crate) names: FxHashMap<u32, QualifiedIdentifier>,
    /// foreign keys by (table, constraint name, constraint): the order of a full read
    pub(crate) m2o: BTreeMap<(u32, String, u32), RawRel>,
    pub(crate) internal_pks: BTreeMap<u32, InternalPk>,
    pub(crate) views: BTreeMap<u32, ExposedView>,
    /// by (table, constraint name, constraint type)
    pub(crate) view_keys: BTreeMap<(u32, String, String), TableKey>,
    /// each view's rules' target lists
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
            versions: std::mem::take(&mut doc.versions).into_iter().collect(),
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
            self.view_keys.insert((key.relid, key.constraint_name.clone(), key.constraint_type.clone()), key);
        }
        for (view, entries) in rules {
            self.rules.entry(view).or_default().push(entries);
        }
    }

    /// Did any of `changed` change since these rows were read, as `doc` (a partial read of
    /// them) sees them? An unchanged version means an invalidation that changed nothing the
    /// rows hold (statistics, a repeated message).
    pub(crate) fn changed(&self, changed: &[u32], doc: &CatalogDoc) -> bool {
        let now: FxHashMap<u32, &String> = doc.versions.iter().map(|(relid, v)| (*relid, v)).collect();
        changed.iter().any(|relid| self.versions.get(relid) != now.get(relid).copied())
    }

    /// Replace what the rows hold about the `changed` relations with the partial read `doc`
    /// of them, and the tables in `tables` (the current cache's) with the read's.
    pub(crate) fn apply(
        &mut self,
        changed: &[u32],
        mut doc: CatalogDoc,
        rules: Vec<(u32, Vec<TargetEntry>)>,
        tables: &mut BTreeMap<QualifiedIdentifier, Table>,
    ) -> Result<(), NeedsFullRead> {
        if !doc.partial {
            return Err(NeedsFullRead::NotPartial);
        }
        for table in &doc.tables {
            if self.names.get(&table.oid).is_some_and(|qi| qi.schema != table.schema || qi.name != table.name) {
                return Err(NeedsFullRead::Renamed);
            }
        }
        for relid in changed {
            self.versions.remove(relid);
            if let Some(qi) = self.names.remove(relid) {
                tables.remove(&qi);
            }
            self.internal_pks.remove(relid);
            self.views.remove(relid);
            self.rules.remove(relid);
        }
        self.m2o.retain(|_, rel| !changed.contains(&rel.conrelid) && !changed.contains(&rel.confrelid));
        self.view_keys.retain(|(relid, ..), _| !changed.contains(relid));
        self.versions.extend(std::mem::take(&mut doc.versions));
        for table in std::mem::take(&mut doc.tables) {
            let qi = QualifiedIdentifier::new(table.schema.clone(), table.name.clone());
            self.names.insert(table.oid, qi.clone());
            tables.insert(qi, table);
        }
        self.insert(&mut doc, rules);
        Ok(())
    }

    /// The rules' target lists, one entry per rule.
    pub(crate) fn rule_list(&self) -> Vec<(u32, &[TargetEntry])> {
        self.rules.iter().flat_map(|(view, rules)| rules.iter().map(move |entries| (*view, entries.as_slice()))).collect()
    }
}
