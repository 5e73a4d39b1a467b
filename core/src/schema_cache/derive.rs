//! The relationship derivations PostgREST runs after reading the catalogs
//! (`querySchemaCache` in SchemaCache.hs): view primary keys, FK relationships followed
//! through views, M2M through junction tables, inverse (O2M / parent O2O) relationships,
//! overriding by computed relationships, and removal of objects of non-exposed schemas.
//! Each function is a direct port of its Haskell namesake.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::identifiers::QualifiedIdentifier;
use super::relationship::{Cardinality, ColumnPairs, Junction, Relationship};
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
pub fn add_view_primary_keys(tables: &mut BTreeMap<QualifiedIdentifier, Table>, key_deps: &[ViewKeyDependency]) {
    let mut by_view: HashMap<&QualifiedIdentifier, Vec<&ViewKeyDependency>> = HashMap::new();
    for dep in key_deps.iter().filter(|d| d.dep_type == KeyDep::PKDep) {
        by_view.entry(&dep.view).or_default().push(dep);
    }
    for (qi, table) in tables.iter_mut() {
        if table.is_view {
            table.pk_cols = by_view
                .get(qi)
                .map(|deps| deps.iter().flat_map(|d| d.cols.iter().filter_map(|(_, vcols)| vcols.first().cloned())).collect())
                .unwrap_or_default();
        }
    }
}

/// Every way of picking one view column per key column (the list-monad `traverse` of
/// PostgREST's `expandKeyDepCols`), as (table column, view column) pairs.
fn expand_key_dep_cols(kdc: &[(String, Vec<String>)]) -> Vec<ColumnPairs> {
    let mut acc: Vec<ColumnPairs> = vec![Vec::new()];
    for (tcol, vcols) in kdc {
        let mut next = Vec::with_capacity(acc.len() * vcols.len());
        for prefix in &acc {
            for vcol in vcols {
                let mut p = prefix.clone();
                p.push((tcol.clone(), vcol.clone()));
                next.push(p);
            }
        }
        acc = next;
    }
    acc
}

/// `addViewM2OAndO2ORels`: for every M2O/O2O relationship between tables, add the same
/// relationship for views exposing the FK columns (view→table), views exposing the
/// referenced columns (table→view), and both (view→view).
pub fn add_view_m2o_and_o2o_rels(key_deps: &[ViewKeyDependency], rels: Vec<Relationship>) -> Vec<Relationship> {
    let mut indexed: HashMap<(&QualifiedIdentifier, &str, KeyDep), Vec<&ViewKeyDependency>> = HashMap::new();
    for dep in key_deps {
        indexed.entry((&dep.table, dep.cons.as_str(), dep.dep_type)).or_default().push(dep);
    }
    let mut extra = Vec::new();
    for rel in &rels {
        let Relationship::Relationship { table, foreign_table, cardinality, .. } = rel else {
            continue;
        };
        let (cons, rel_cols, is_m2o) = match cardinality {
            Cardinality::M2O { cons, columns } => (cons, columns, true),
            Cardinality::O2O { cons, columns, is_parent: false } => (cons, columns, false),
            _ => continue,
        };
        let build = |cols: ColumnPairs| {
            if is_m2o {
                Cardinality::M2O { cons: cons.clone(), columns: cols }
            } else {
                Cardinality::O2O { cons: cons.clone(), columns: cols, is_parent: false }
            }
        };
        let empty = Vec::new();
        let view_table_rels = indexed.get(&(table, cons.as_str(), KeyDep::FKDep)).unwrap_or(&empty);
        let table_view_rels = indexed.get(&(foreign_table, cons.as_str(), KeyDep::FKDepRef)).unwrap_or(&empty);

        for vw_tbl in view_table_rels {
            for kdc in expand_key_dep_cols(&vw_tbl.cols) {
                let cols = kdc.iter().zip(rel_cols).map(|((_, vcol), (_, fcol))| (vcol.clone(), fcol.clone()));
                extra.push(Relationship::Relationship {
                    table: vw_tbl.view.clone(),
                    foreign_table: foreign_table.clone(),
                    is_self: false,
                    cardinality: build(cols.collect()),
                    table_is_view: true,
                    ftable_is_view: false,
                });
            }
        }
        for tbl_vw in table_view_rels {
            for kdc in expand_key_dep_cols(&tbl_vw.cols) {
                let cols = rel_cols.iter().zip(&kdc).map(|((tcol, _), (_, vcol))| (tcol.clone(), vcol.clone()));
                extra.push(Relationship::Relationship {
                    table: table.clone(),
                    foreign_table: tbl_vw.view.clone(),
                    is_self: false,
                    cardinality: build(cols.collect()),
                    table_is_view: false,
                    ftable_is_view: true,
                });
            }
        }
        for vw_tbl in view_table_rels {
            for kdc1 in expand_key_dep_cols(&vw_tbl.cols) {
                for tbl_vw in table_view_rels {
                    for kdc2 in expand_key_dep_cols(&tbl_vw.cols) {
                        let cols = kdc1.iter().zip(&kdc2).map(|((_, v1), (_, v2))| (v1.clone(), v2.clone()));
                        extra.push(Relationship::Relationship {
                            table: vw_tbl.view.clone(),
                            foreign_table: tbl_vw.view.clone(),
                            is_self: vw_tbl.view == tbl_vw.view,
                            cardinality: build(cols.collect()),
                            table_is_view: true,
                            ftable_is_view: true,
                        });
                    }
                }
            }
        }
    }
    let mut out = rels;
    out.extend(extra);
    out
}

/// `addInverseRels`: each M2O gets its O2M, each O2O its counterpart with `is_parent` flipped.
pub fn add_inverse_rels(rels: Vec<Relationship>) -> Vec<Relationship> {
    let swap = |cols: &ColumnPairs| cols.iter().map(|(a, b)| (b.clone(), a.clone())).collect::<ColumnPairs>();
    let mut inverse_m2o = Vec::new();
    let mut inverse_o2o = Vec::new();
    for rel in &rels {
        if let Relationship::Relationship { table, foreign_table, is_self, cardinality, table_is_view, ftable_is_view } = rel {
            let inv = |cardinality| Relationship::Relationship {
                table: foreign_table.clone(),
                foreign_table: table.clone(),
                is_self: *is_self,
                cardinality,
                table_is_view: *ftable_is_view,
                ftable_is_view: *table_is_view,
            };
            match cardinality {
                Cardinality::M2O { cons, columns } => {
                    inverse_m2o.push(inv(Cardinality::O2M { cons: cons.clone(), columns: swap(columns) }))
                }
                Cardinality::O2O { cons, columns, is_parent } => {
                    inverse_o2o.push(inv(Cardinality::O2O { cons: cons.clone(), columns: swap(columns), is_parent: !is_parent }))
                }
                _ => {}
            }
        }
    }
    let mut out = rels;
    out.extend(inverse_m2o);
    out.extend(inverse_o2o);
    out
}

/// `addM2MRels`: a table with M2O relationships to two tables (two different constraints)
/// whose FK columns are all part of its primary key is a junction between them.
pub fn add_m2m_rels(tables: &BTreeMap<QualifiedIdentifier, Table>, rels: Vec<Relationship>) -> Vec<Relationship> {
    let mut indexed: HashMap<&QualifiedIdentifier, Vec<&Relationship>> = HashMap::new();
    for rel in &rels {
        indexed.entry(rel.table()).or_default().push(rel);
    }
    let mut m2m = Vec::new();
    for rel1 in &rels {
        let Relationship::Relationship {
            table: jt1,
            foreign_table: t,
            cardinality: Cardinality::M2O { cons: cons1, columns: cols },
            ftable_is_view: tbl_is_view,
            ..
        } = rel1
        else {
            continue;
        };
        let pk_cols: HashSet<&str> = tables.get(jt1).map(|tb| tb.pk_cols.iter().map(String::as_str).collect()).unwrap_or_default();
        for rel2 in indexed.get(jt1).map(Vec::as_slice).unwrap_or(&[]) {
            let Relationship::Relationship {
                foreign_table: ft,
                cardinality: Cardinality::M2O { cons: cons2, columns: fcols },
                ftable_is_view: ftbl_is_view,
                ..
            } = rel2
            else {
                continue;
            };
            if cons1 == cons2 {
                continue;
            }
            let jt_cols_in_pk = cols.iter().chain(fcols.iter()).all(|(jcol, _)| pk_cols.contains(jcol.as_str()));
            if jt_cols_in_pk {
                let swap = |cs: &ColumnPairs| cs.iter().map(|(a, b)| (b.clone(), a.clone())).collect();
                m2m.push(Relationship::Relationship {
                    table: t.clone(),
                    foreign_table: ft.clone(),
                    is_self: t == ft,
                    cardinality: Cardinality::M2M(Junction {
                        table: jt1.clone(),
                        constraint1: cons1.clone(),
                        constraint2: cons2.clone(),
                        cols_source: swap(cols),
                        cols_target: swap(fcols),
                    }),
                    table_is_view: *tbl_is_view,
                    ftable_is_view: *ftbl_is_view,
                });
            }
        }
    }
    let mut out = rels;
    out.extend(m2m);
    out
}

/// `getOverrideRelationshipsMap`: a computed relationship named like a foreign table
/// replaces the FK relationships from the same table to it; then everything is keyed by
/// (table, schema of the foreign table -- or of the function for computed ones) and sorted.
/// The key is "deformed" to a schema (instead of the foreign table) because a relationship
/// can also be looked up by FK column name ("column as target").
pub fn override_relationships_map(rels: Vec<Relationship>, computed: Vec<Relationship>) -> RelationshipsMap {
    let mut patched: HashMap<(QualifiedIdentifier, QualifiedIdentifier), Vec<Relationship>> = HashMap::new();
    for rel in rels {
        patched.entry((rel.table().clone(), rel.foreign_table().clone())).or_default().push(rel);
    }
    // HM.fromList: one computed relationship per (table, function), the last one wins;
    // HM.union: it replaces whatever was found for (table, same-named foreign table).
    let mut computed_map: HashMap<(QualifiedIdentifier, QualifiedIdentifier), Relationship> = HashMap::new();
    for rel in computed {
        if let Relationship::ComputedRelationship { table, function, .. } = &rel {
            computed_map.insert((table.clone(), function.clone()), rel);
        }
    }
    for (key, rel) in computed_map {
        patched.insert(key, vec![rel]);
    }
    let mut deformed: RelationshipsMap = HashMap::new();
    for ((table, target), rels) in patched {
        deformed.entry((table, target.schema)).or_default().extend(rels);
    }
    for rels in deformed.values_mut() {
        rels.sort();
    }
    deformed
}

/// `removeInternal` (relationships part): keep what starts in an exposed schema, points to an
/// exposed schema and has no junction in a non-exposed schema. Tables and routines are only
/// read from the exposed schemas in the first place.
pub fn remove_internal_relationships(rels: RelationshipsMap, schemas: &[String]) -> RelationshipsMap {
    let exposed = |s: &str| schemas.iter().any(|x| x == s);
    rels.into_iter()
        .filter(|((table, _), _)| exposed(&table.schema))
        .map(|(key, rels)| {
            let kept = rels
                .into_iter()
                .filter(|r| {
                    let internal_junction = matches!(
                        r.cardinality(),
                        Some(Cardinality::M2M(Junction { table, .. })) if !exposed(&table.schema)
                    );
                    exposed(&r.foreign_table().schema) && !internal_junction
                })
                .collect();
            (key, kept)
        })
        .collect()
}
