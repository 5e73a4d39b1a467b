//! The relationship derivations PostgREST runs after reading the catalogs
//! (`querySchemaCache` in SchemaCache.hs): view primary keys, FK relationships followed
//! through views, M2M through junction tables, inverse (O2M / parent O2O) relationships,
//! overriding by computed relationships, and removal of objects of non-exposed schemas.
//! Each function is a direct port of its Haskell namesake. A big schema gives tens of
//! thousands of relationships (apflora: 35,604 from 50 foreign keys, through its views), so
//! each is built once, sharing its names (`relationship::Name`) with the others, and the
//! working maps are keyed by borrowed names with a fast hasher (issue #19).

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::Arc;

use super::fx_hash::{FxHashMap, FxHashSet};
use super::identifiers::QualifiedIdentifier;
use super::relationship::{Cardinality, ColumnPairs, Junction, Name, Relationship, SharedIdentifier};
use super::table::Table;
use super::RelationshipsMap;

/// Which key of a base table a view exposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyDep {
    /// primary key
    PKDep,
    /// foreign key (the referencing columns)
    FKDep,
    /// foreign key reference (the referenced columns)
    FKDepRef,
}

/// A view's dependency on a primary or foreign key of a base table. Each key column can be
/// exposed several times by the view (`select id as id_1, id as id_2 from t`), so `cols` maps
/// each table column to all view columns it appears as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewKeyDependency {
    pub table: QualifiedIdentifier,
    pub view: QualifiedIdentifier,
    pub cons: String,
    pub dep_type: KeyDep,
    /// (table column, view columns), in key order
    pub cols: Vec<(String, Vec<String>)>,
}

/// `addViewPrimaryKeys`: a view's primary key is the set of view columns its base tables'
/// primary keys are exposed as. With several references to one PK column the first is taken:
/// clients never name PK columns, and one column each keeps e.g. Location headers short.
pub fn add_view_primary_keys(tables: &mut BTreeMap<QualifiedIdentifier, Arc<Table>>, key_deps: &[ViewKeyDependency]) {
    let mut by_view: FxHashMap<&QualifiedIdentifier, Vec<&ViewKeyDependency>> = FxHashMap::default();
    for dep in key_deps.iter().filter(|d| d.dep_type == KeyDep::PKDep) {
        by_view.entry(&dep.view).or_default().push(dep);
    }
    for (qi, table) in tables.iter_mut() {
        if table.is_view {
            let pk_cols: Vec<String> = by_view
                .get(qi)
                .map(|deps| deps.iter().flat_map(|d| d.cols.iter().filter_map(|(_, vcols)| vcols.first().cloned())).collect())
                .unwrap_or_default();
            // a table shared with the cache this one updates is copied only if it changes
            if table.pk_cols != pk_cols {
                Arc::make_mut(table).pk_cols = pk_cols;
            }
        }
    }
}

/// Every way of picking one view column per key column (the list-monad `traverse` of
/// PostgREST's `expandKeyDepCols`), each as the picked view columns in key order (the table
/// columns are the key's, which the caller already has).
fn expand_key_dep_cols(kdc: &[(String, Vec<String>)]) -> Vec<Vec<Name>> {
    let mut acc: Vec<Vec<Name>> = vec![Vec::new()];
    for (_, vcols) in kdc {
        let vcols: Vec<Name> = vcols.iter().map(|c| Name::from(c.as_str())).collect();
        let mut next = Vec::with_capacity(acc.len() * vcols.len());
        for prefix in &acc {
            for vcol in &vcols {
                let mut p = prefix.clone();
                p.push(vcol.clone());
                next.push(p);
            }
        }
        acc = next;
    }
    acc
}

/// An M2O relationship, or the child side of an O2O, between tables: what views can expose.
struct ForeignKey<'a> {
    table: &'a SharedIdentifier,
    foreign_table: &'a SharedIdentifier,
    cons: &'a Name,
    cols: &'a ColumnPairs,
    is_m2o: bool,
}

impl<'a> ForeignKey<'a> {
    fn of(rel: &'a Relationship) -> Option<ForeignKey<'a>> {
        let Relationship::Relationship { table, foreign_table, cardinality, .. } = rel else {
            return None;
        };
        let (cons, cols, is_m2o) = match cardinality {
            Cardinality::M2O { cons, columns } => (cons, columns, true),
            Cardinality::O2O { cons, columns, is_parent: false } => (cons, columns, false),
            _ => return None,
        };
        Some(ForeignKey { table, foreign_table, cons, cols, is_m2o })
    }

    /// The same kind of relationship over other columns.
    fn cardinality(&self, columns: ColumnPairs) -> Cardinality {
        let cons = self.cons.clone();
        if self.is_m2o {
            Cardinality::M2O { cons, columns }
        } else {
            Cardinality::O2O { cons, columns, is_parent: false }
        }
    }
}

/// A view exposing a key, with every way it does (`expand_key_dep_cols`), expanded once: the
/// view-to-view case pairs each exposure with all of the other side's. The view and its
/// columns are made shareable once here, for the many relationships they end up in.
struct Exposure {
    view: SharedIdentifier,
    cols: Vec<Vec<Name>>,
}

/// How many relationships `exposures` give on one side.
fn count_exposures(exposures: &[Exposure]) -> usize {
    exposures.iter().map(|e| e.cols.len()).sum()
}

/// `addViewM2OAndO2ORels`: for every M2O/O2O relationship between tables, add the same
/// relationship for views exposing the FK columns (view→table), views exposing the
/// referenced columns (table→view), and both (view→view).
pub fn add_view_m2o_and_o2o_rels(key_deps: &[ViewKeyDependency], rels: Vec<Relationship>) -> Vec<Relationship> {
    let mut indexed: FxHashMap<(&QualifiedIdentifier, &str, KeyDep), Vec<Exposure>> = FxHashMap::default();
    for dep in key_deps {
        let exposure = Exposure { view: Arc::new(dep.view.clone()), cols: expand_key_dep_cols(&dep.cols) };
        indexed.entry((&dep.table, dep.cons.as_str(), dep.dep_type)).or_default().push(exposure);
    }
    let exposures = |table, cons, dep_type| indexed.get(&(table, cons, dep_type)).map(Vec::as_slice).unwrap_or(&[]);
    let fks: Vec<(ForeignKey, &[Exposure], &[Exposure])> = rels
        .iter()
        .filter_map(ForeignKey::of)
        .map(|fk| {
            let view_table = exposures(fk.table, fk.cons, KeyDep::FKDep);
            let table_view = exposures(fk.foreign_table, fk.cons, KeyDep::FKDepRef);
            (fk, view_table, table_view)
        })
        .collect();
    // sized up front, with room for the inverses `add_inverse_rels` adds: a big schema gets
    // tens of thousands of these, and each growth would copy them all
    let count: usize = fks
        .iter()
        .map(|(_, view_table, table_view)| {
            let (vt, tv) = (count_exposures(view_table), count_exposures(table_view));
            vt + tv + vt * tv
        })
        .sum();
    let mut extra = Vec::with_capacity(2 * (rels.len() + count));
    // the tables' own first (a few: cloned, while `fks` borrows them)
    extra.extend(rels.iter().cloned());
    for (fk, view_table, table_view) in &fks {
        for vw_tbl in *view_table {
            for kdc in &vw_tbl.cols {
                let cols = kdc.iter().zip(fk.cols).map(|(vcol, (_, fcol))| (vcol.clone(), fcol.clone()));
                extra.push(Relationship::Relationship {
                    table: vw_tbl.view.clone(),
                    foreign_table: fk.foreign_table.clone(),
                    is_self: false,
                    cardinality: fk.cardinality(cols.collect()),
                    table_is_view: true,
                    ftable_is_view: false,
                });
            }
        }
        for tbl_vw in *table_view {
            for kdc in &tbl_vw.cols {
                let cols = fk.cols.iter().zip(kdc).map(|((tcol, _), vcol)| (tcol.clone(), vcol.clone()));
                extra.push(Relationship::Relationship {
                    table: fk.table.clone(),
                    foreign_table: tbl_vw.view.clone(),
                    is_self: false,
                    cardinality: fk.cardinality(cols.collect()),
                    table_is_view: false,
                    ftable_is_view: true,
                });
            }
        }
        for vw_tbl in *view_table {
            for kdc1 in &vw_tbl.cols {
                for tbl_vw in *table_view {
                    for kdc2 in &tbl_vw.cols {
                        let cols = kdc1.iter().zip(kdc2).map(|(v1, v2)| (v1.clone(), v2.clone()));
                        extra.push(Relationship::Relationship {
                            table: vw_tbl.view.clone(),
                            foreign_table: tbl_vw.view.clone(),
                            is_self: vw_tbl.view == tbl_vw.view,
                            cardinality: fk.cardinality(cols.collect()),
                            table_is_view: true,
                            ftable_is_view: true,
                        });
                    }
                }
            }
        }
    }
    extra
}

/// `addInverseRels`: each M2O gets its O2M, each O2O its counterpart with `is_parent` flipped
/// (all the O2Ms first, as in PostgREST). They are pushed onto `rels`, grown once.
pub fn add_inverse_rels(mut rels: Vec<Relationship>) -> Vec<Relationship> {
    let len = rels.len();
    let inverses = rels.iter().filter(|rel| matches!(rel.cardinality(), Some(Cardinality::M2O { .. } | Cardinality::O2O { .. })));
    rels.reserve_exact(inverses.count());
    for m2o in [true, false] {
        for i in 0..len {
            if let Some(inverse) = inverse_rel(&rels[i], m2o) {
                rels.push(inverse);
            }
        }
    }
    rels
}

/// The inverse of an M2O relationship (`m2o`) or of an O2O one (not `m2o`).
fn inverse_rel(rel: &Relationship, m2o: bool) -> Option<Relationship> {
    let Relationship::Relationship { table, foreign_table, is_self, cardinality, table_is_view, ftable_is_view } = rel else {
        return None;
    };
    let cardinality = match cardinality {
        Cardinality::M2O { cons, columns } if m2o => Cardinality::O2M { cons: cons.clone(), columns: swapped(columns) },
        Cardinality::O2O { cons, columns, is_parent } if !m2o => {
            Cardinality::O2O { cons: cons.clone(), columns: swapped(columns), is_parent: !is_parent }
        }
        _ => return None,
    };
    Some(Relationship::Relationship {
        table: foreign_table.clone(),
        foreign_table: table.clone(),
        is_self: *is_self,
        cardinality,
        table_is_view: *ftable_is_view,
        ftable_is_view: *table_is_view,
    })
}

/// The column pairs seen from the other side.
fn swapped(cols: &ColumnPairs) -> ColumnPairs {
    cols.iter().map(|(a, b)| (b.clone(), a.clone())).collect()
}

/// Primary keys by relation, for `add_m2m_rels`: the exposed relations' (with the views' from
/// `add_view_primary_keys`), and those of tables in other schemas the catalog query read
/// because they may be junctions. An exposed relation wins, then the first one read.
pub struct PrimaryKeys<'a>(FxHashMap<&'a QualifiedIdentifier, &'a [String]>);

impl<'a> PrimaryKeys<'a> {
    pub fn new(tables: &'a BTreeMap<QualifiedIdentifier, Arc<Table>>, internal: &'a [(QualifiedIdentifier, Vec<String>)]) -> Self {
        let mut pks: FxHashMap<_, _> = tables.iter().map(|(qi, table)| (qi, table.pk_cols.as_slice())).collect();
        for (qi, cols) in internal {
            pks.entry(qi).or_insert(cols.as_slice());
        }
        PrimaryKeys(pks)
    }

    /// No columns for a relation the query did not read.
    fn get(&self, qi: &QualifiedIdentifier) -> &'a [String] {
        self.0.get(qi).copied().unwrap_or(&[])
    }
}

/// One side of a possible junction: an M2O relationship from `junction` to `target` whose FK
/// columns all belong to the junction's primary key.
struct JunctionLeg<'a> {
    junction: &'a SharedIdentifier,
    target: &'a SharedIdentifier,
    target_is_view: bool,
    cons: &'a Name,
    /// (junction column, target column)
    cols: &'a ColumnPairs,
}

fn junction_leg<'a>(rel: &'a Relationship, pks: &PrimaryKeys) -> Option<JunctionLeg<'a>> {
    let Relationship::Relationship { table, foreign_table, cardinality: Cardinality::M2O { cons, columns }, ftable_is_view, .. } = rel
    else {
        return None;
    };
    let pk_cols = pks.get(table);
    columns.iter().all(|(jcol, _)| pk_cols.iter().any(|pk| **pk == **jcol)).then_some(JunctionLeg {
        junction: table,
        target: foreign_table,
        target_is_view: *ftable_is_view,
        cons,
        cols: columns,
    })
}

/// `addM2MRels`: a table with M2O relationships to two tables (two different constraints)
/// whose FK columns are all part of its primary key is a junction between them. Only such
/// legs are paired (in PostgREST's order: each M2O with every M2O of its table): pairing every
/// M2O with all relationships of its table was quadratic in views with hundreds of them.
pub fn add_m2m_rels(pks: &PrimaryKeys, mut rels: Vec<Relationship>) -> Vec<Relationship> {
    let legs: Vec<JunctionLeg> = rels.iter().filter_map(|rel| junction_leg(rel, pks)).collect();
    let mut by_junction: FxHashMap<&QualifiedIdentifier, Vec<&JunctionLeg>> = FxHashMap::default();
    for leg in &legs {
        by_junction.entry(&**leg.junction).or_default().push(leg);
    }
    let mut m2m = Vec::new();
    for leg1 in &legs {
        for leg2 in by_junction.get(&**leg1.junction).map(Vec::as_slice).unwrap_or(&[]) {
            if leg1.cons == leg2.cons {
                continue;
            }
            m2m.push(Relationship::Relationship {
                table: leg1.target.clone(),
                foreign_table: leg2.target.clone(),
                is_self: leg1.target == leg2.target,
                cardinality: Cardinality::M2M(Box::new(Junction {
                    table: leg1.junction.clone(),
                    constraint1: leg1.cons.clone(),
                    constraint2: leg2.cons.clone(),
                    cols_source: swapped(leg1.cols),
                    cols_target: swapped(leg2.cols),
                })),
                table_is_view: leg1.target_is_view,
                ftable_is_view: leg2.target_is_view,
            });
        }
    }
    rels.append(&mut m2m);
    rels
}

/// `getOverrideRelationshipsMap`: a computed relationship named like a foreign table
/// replaces the FK relationships from the same table to it; then everything is keyed by
/// (table, schema of the foreign table -- or of the function for computed ones) and sorted.
/// The key is "deformed" to a schema (instead of the foreign table) because a relationship
/// can also be looked up by FK column name ("column as target").
pub fn override_relationships_map(mut rels: Vec<Relationship>, computed: Vec<Relationship>) -> RelationshipsMap {
    // HM.fromList: one computed relationship per (table, function), the last one wins;
    // HM.union: it replaces whatever was found for (table, same-named foreign table).
    let computed = last_computed_per_function(computed);
    let overridden: FxHashSet<(&QualifiedIdentifier, &QualifiedIdentifier)> = computed.iter().filter_map(computed_key).collect();
    if !overridden.is_empty() {
        rels.retain(|rel| !overridden.contains(&(rel.table(), rel.foreign_table())));
    }
    rels.extend(computed);
    group_sorted(rels)
}

/// (table, function) of a computed relationship.
fn computed_key(rel: &Relationship) -> Option<(&QualifiedIdentifier, &QualifiedIdentifier)> {
    match rel {
        Relationship::ComputedRelationship { table, function, .. } => Some((table, function)),
        Relationship::Relationship { .. } => None,
    }
}

/// The computed relationships, the last of each (table, function), in their order.
fn last_computed_per_function(computed: Vec<Relationship>) -> Vec<Relationship> {
    let last: FxHashMap<_, usize> = computed.iter().enumerate().filter_map(|(i, rel)| Some((computed_key(rel)?, i))).collect();
    let kept: FxHashSet<usize> = last.into_values().collect();
    computed.into_iter().enumerate().filter(|(i, _)| kept.contains(i)).map(|(_, rel)| rel).collect()
}

/// The schema in a relationship's `RelationshipsMap` key: its foreign table's, or for a
/// computed relationship its function's (the key it replaced FK relationships under).
fn deformed_schema(rel: &Relationship) -> &str {
    match rel {
        Relationship::Relationship { foreign_table, .. } => &foreign_table.schema,
        Relationship::ComputedRelationship { function, .. } => &function.schema,
    }
}

/// The relationships keyed by (table, deformed schema), each list sorted. Groups are found
/// and sorted as indices so that each relationship (a few hundred bytes) is moved once, into
/// its place, instead of on every rehash and sorting step. Equal relationships are identical,
/// so an unstable sort gives Haskell's stable `sort`'s result.
fn group_sorted(rels: Vec<Relationship>) -> RelationshipsMap {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut group_of: FxHashMap<(&QualifiedIdentifier, &str), usize> = FxHashMap::default();
    for (i, rel) in rels.iter().enumerate() {
        let next = groups.len();
        let group = *group_of.entry((rel.table(), deformed_schema(rel))).or_insert(next);
        if group == next {
            groups.push(Vec::new());
        }
        groups[group].push(i);
    }
    for members in &mut groups {
        members.sort_unstable_by(|&a, &b| cmp_in_group(&rels[a], &rels[b]));
    }
    let mut slots: Vec<Option<Relationship>> = rels.into_iter().map(Some).collect();
    let mut map = RelationshipsMap::with_capacity(groups.len());
    for members in groups {
        let sorted: Vec<Relationship> = members.iter().map(|&i| slots[i].take().expect("each relationship is in one group")).collect();
        let key = (sorted[0].table().clone(), deformed_schema(&sorted[0]).to_string());
        map.insert(key, sorted);
    }
    map
}

/// `Ord for Relationship` for two relationships of one group: they have the same table and,
/// when both are FK relationships, foreign tables of the same schema, so comparing those
/// (most of the derived order's work, string by string) is skipped.
fn cmp_in_group(a: &Relationship, b: &Relationship) -> Ordering {
    debug_assert!(a.table() == b.table() && deformed_schema(a) == deformed_schema(b));
    match (fk_order_in_group(a), fk_order_in_group(b)) {
        (Some(a), Some(b)) => a.cmp(&b),
        _ => a.cmp(b),
    }
}

/// The fields of an FK relationship the derived order compares after the table (and the
/// foreign table's schema), in its order; every field is named so that a new one is not missed.
fn fk_order_in_group(rel: &Relationship) -> Option<(&str, bool, &Cardinality, bool, bool)> {
    match rel {
        Relationship::Relationship { table: _, foreign_table, is_self, cardinality, table_is_view, ftable_is_view } => {
            Some((foreign_table.name.as_str(), *is_self, cardinality, *table_is_view, *ftable_is_view))
        }
        Relationship::ComputedRelationship { .. } => None,
    }
}

/// `removeInternal` (relationships part): keep what starts in an exposed schema, points to an
/// exposed schema and has no junction in a non-exposed schema. Tables and routines are only
/// read from the exposed schemas in the first place. A list left empty stays in the map.
pub fn remove_internal_relationships(mut rels: RelationshipsMap, schemas: &[String]) -> RelationshipsMap {
    let exposed = |s: &str| schemas.iter().any(|x| x == s);
    rels.retain(|(table, schema), group| {
        // The FK relationships of a group all point to its schema (see `deformed_schema`), so
        // only computed ones need their target's schema read.
        let to_exposed = exposed(schema);
        group.retain(|r| match r {
            Relationship::Relationship { cardinality: Cardinality::M2M(junction), .. } => to_exposed && exposed(&junction.table.schema),
            Relationship::Relationship { .. } => to_exposed,
            Relationship::ComputedRelationship { foreign_table, .. } => exposed(&foreign_table.schema),
        });
        exposed(&table.schema)
    });
    rels
}
