//! The plan of a write (PostgREST's `Plan/MutatePlan.hs` and `mutatePlan` in `Plan.hs`):
//! which columns the body fills, which rows the filters touch, what the statement returns
//! so that the read of the written rows (select, embeddings, Location) can run on it.
//!
//! Body columns must exist (PGRST204); filter columns are not checked, PostgreSQL reports
//! those. PUT is an insert with a merge on the primary key, allowed only when the filters are
//! exactly `pk=eq.value` for every primary key column (PGRST105).

use super::read::Resolver;
use super::read_plan::{CoercibleField, CoercibleFilter, CoercibleLogicTree, ReadPlan};
use crate::error::Error;
use crate::request::preferences::{Missing, Representation, Resolution};
use crate::request::types::{Filter, LogicTree, OpExpr, Operation, QuantOperator};
use crate::request::ApiRequest;
use crate::schema_cache::{Cardinality, QualifiedIdentifier, Relationship, SchemaCache, Table};
use crate::text::Text;
use std::collections::BTreeSet;

/// The four writes on a relation (PostgREST's `Mutation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutation {
    /// POST
    Create,
    /// PATCH
    Update,
    /// PUT
    SingleUpsert,
    /// DELETE
    Delete,
}

#[derive(Debug, Clone, PartialEq)]
pub enum MutatePlan {
    Insert {
        into: QualifiedIdentifier,
        columns: Vec<CoercibleField>,
        /// the JSON text of the body
        body: Text,
        /// `resolution=` with the conflict columns (`on_conflict=` or the primary key)
        on_conflict: Option<(Resolution, Vec<String>)>,
        /// PUT only: the URL's primary key filters, checked against the body's row
        where_: Vec<CoercibleLogicTree>,
        returning: Vec<String>,
        pk_cols: Vec<String>,
        apply_defaults: bool,
    },
    Update {
        table: QualifiedIdentifier,
        columns: Vec<CoercibleField>,
        body: Text,
        where_: Vec<CoercibleLogicTree>,
        returning: Vec<String>,
        apply_defaults: bool,
    },
    Delete {
        table: QualifiedIdentifier,
        where_: Vec<CoercibleLogicTree>,
        returning: Vec<String>,
    },
}

impl MutatePlan {
    /// An insert that must tell inserted from updated rows (upserts merging duplicates, PUT).
    pub fn counts_inserted(&self) -> bool {
        match self {
            MutatePlan::Insert { where_, on_conflict, .. } => {
                !where_.is_empty() || matches!(on_conflict, Some((Resolution::MergeDuplicates, _)))
            }
            _ => false,
        }
    }
}

/// PostgREST's `mutatePlan`: `read` is the plan of the returned rows.
pub fn mutate_plan(mutation: Mutation, table: &Table, api: &ApiRequest, cache: &SchemaCache, read: &ReadPlan) -> Result<MutatePlan, Error> {
    let qi = QualifiedIdentifier { schema: table.schema.clone(), name: table.name.clone() };
    let q = &api.query;
    let prefs = &api.preferences;
    let pk_cols = table.pk_cols.clone();
    let returning = match prefs.representation {
        None | Some(Representation::None) => vec![],
        Some(_) => infer_cols_embed_needs(read, &pk_cols),
    };
    let resolver = Resolver { cache, qi: qi.clone() };
    // root filters first, in order, then the root logic trees (PostgREST's `combinedLogic`)
    let mut where_: Vec<CoercibleLogicTree> = q.filters_root.iter().map(|f| CoercibleLogicTree::Stmnt(filter(&resolver, f))).collect();
    where_.extend(q.logic.iter().filter(|(path, _)| path.is_empty()).map(|(_, t)| logic(&resolver, t)));
    let apply_defaults = prefs.missing == Some(Missing::ApplyDefaults);
    let body = || api.payload.as_ref().map(|p| p.json_text()).unwrap_or_else(|| Text::from("[]"));
    let columns = || -> Result<Vec<CoercibleField>, Error> { api.columns.iter().map(|c| input_field(cache, table, c)).collect() };
    match mutation {
        Mutation::Create => {
            let conflict_cols = q.on_conflict.clone().unwrap_or_else(|| pk_cols.clone());
            Ok(MutatePlan::Insert {
                into: qi,
                columns: columns()?,
                body: body(),
                on_conflict: prefs.resolution.map(|r| (r, conflict_cols)),
                where_: vec![],
                returning,
                pk_cols,
                apply_defaults,
            })
        }
        Mutation::Update => Ok(MutatePlan::Update { table: qi, columns: columns()?, body: body(), where_, returning, apply_defaults }),
        Mutation::SingleUpsert => {
            let pk_set: BTreeSet<String> = pk_cols.iter().cloned().collect();
            let only_pk_eq = q.logic.is_empty()
                && q.filter_fields == pk_set
                && !pk_set.is_empty()
                && q.filters_root.iter().all(|f| matches!(f.op_expr, OpExpr::Op(false, Operation::Quant(QuantOperator::Equal, None, _))));
            if !only_pk_eq {
                return Err(Error::InvalidFilters);
            }
            Ok(MutatePlan::Insert {
                into: qi,
                columns: columns()?,
                body: body(),
                on_conflict: Some((Resolution::MergeDuplicates, pk_cols.clone())),
                where_,
                returning,
                pk_cols: vec![],
                apply_defaults: false,
            })
        }
        Mutation::Delete => Ok(MutatePlan::Delete { table: qi, where_, returning }),
    }
}

fn filter(r: &Resolver, f: &Filter) -> CoercibleFilter {
    CoercibleFilter::Filter { field: r.query_input_field(&f.field, &f.op_expr), op_expr: f.op_expr.clone() }
}

fn logic(r: &Resolver, t: &LogicTree) -> CoercibleLogicTree {
    match t {
        LogicTree::Stmnt(f) => CoercibleLogicTree::Stmnt(filter(r, f)),
        LogicTree::Expr(negated, op, children) => CoercibleLogicTree::Expr(*negated, *op, children.iter().map(|c| logic(r, c)).collect()),
    }
}

/// A column the body fills (PostgREST's `resolveOrError` + `withJsonParse`): PGRST204 when the
/// relation has no such column; a data representation from json is applied when defined.
fn input_field(cache: &SchemaCache, table: &Table, name: &str) -> Result<CoercibleField, Error> {
    let col = table.column(name).ok_or_else(|| Error::ColumnNotFound(table.name.clone(), name.to_string()))?;
    let mut cf = CoercibleField {
        name: name.to_string(),
        ir_type: col.nominal_type.clone(),
        base_type: col.data_type.clone(),
        default: col.default.clone(),
        ..Default::default()
    };
    if let Some(rep) = cache.representation("json", &cf.ir_type) {
        cf.ir_type = "json".into();
        cf.transform = Some(rep.function.clone());
    }
    Ok(cf)
}

/// The columns a write must return for the read of its rows to work (PostgREST's
/// `inferColsEmbedNeeds`): the selected ones, the join columns of the embeddings and the
/// primary key (for Location); only `*` when `*` is selected or a computed relationship is
/// embedded. Sorted, as PostgREST's set.
pub fn infer_cols_embed_needs(read: &ReadPlan, pk_cols: &[String]) -> Vec<String> {
    let fields: BTreeSet<String> = read.select.iter().map(|s| s.field.name.clone()).collect();
    if fields.contains("*") {
        return vec!["*".into()];
    }
    let mut out = fields;
    for child in &read.children {
        match &child.rel_to_parent {
            Some(Relationship::ComputedRelationship { .. }) => return vec!["*".into()],
            Some(Relationship::Relationship { cardinality, .. }) => {
                let cols = match cardinality {
                    Cardinality::M2M(j) => &j.cols_source,
                    Cardinality::O2M { columns, .. } | Cardinality::M2O { columns, .. } | Cardinality::O2O { columns, .. } => columns,
                };
                out.extend(cols.iter().map(|(c, _)| c.to_string()));
            }
            None => {}
        }
    }
    out.extend(pk_cols.iter().cloned());
    out.into_iter().collect()
}
