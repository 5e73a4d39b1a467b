//! ApiRequest + SchemaCache → plans (PostgREST's `Plan.hs`): which relation, which
//! columns, filters, order and range, checked against the schema cache.

pub mod read_plan;

use crate::config::Config;
use crate::error::Error;
use crate::request::types::{Filter, LogicTree, OpExpr, OrderTerm, SelectItem};
use crate::request::ApiRequest;
use crate::schema_cache::{QualifiedIdentifier, SchemaCache, Table};
use read_plan::*;

/// Find the table or view `name` in the request's schema, or PGRST205 with a suggestion.
pub fn find_table<'a>(cache: &'a SchemaCache, schema: &str, name: &str) -> Result<&'a Table, Error> {
    cache.table(schema, name).ok_or_else(|| Error::TableNotFound {
        schema: schema.to_string(),
        table: name.to_string(),
        suggestion: crate::plan::suggest(name, cache.table_names(schema)),
    })
}

/// The closest name by a simple similarity (PostgREST uses a fuzzy set with a 0.75 minimum
/// score for tables); None when nothing is close.
pub fn suggest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    let grams = |s: &str| -> Vec<String> {
        let padded: Vec<char> = format!("-{}-", s.to_lowercase()).chars().collect();
        padded.windows(2).map(|w| w.iter().collect()).collect()
    };
    let target = grams(name);
    let score = |cand: &str| -> f64 {
        let g = grams(cand);
        let common = target.iter().filter(|t| g.contains(t)).count() as f64;
        2.0 * common / (target.len() + g.len()) as f64
    };
    candidates
        .map(|c| (score(c), c))
        .filter(|(s, _)| *s >= 0.75)
        .max_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal))
        .map(|(_, c)| c.to_string())
}

/// Build the read plan of `GET /<table>`.
pub fn read_plan(config: &Config, cache: &SchemaCache, api: &ApiRequest, table_name: &str) -> Result<ReadPlan, Error> {
    let table = find_table(cache, &api.schema, table_name)?;
    let qi = QualifiedIdentifier { schema: table.schema.clone(), name: table.name.clone() };
    let q = &api.query;

    let mut select = vec![];
    for item in &q.select {
        match item {
            SelectItem::Field { field, aggregate, aggregate_cast, cast, alias } => {
                if aggregate.is_some() && !config.db_aggregates_enabled {
                    return Err(Error::AggregatesNotAllowed);
                }
                let f = CoercibleField::resolve(Some(table), &field.0, &field.1);
                let alias = alias.clone().or_else(|| f.default_alias());
                select.push(CoercibleSelectField {
                    field: f,
                    aggregate: *aggregate,
                    aggregate_cast: aggregate_cast.clone(),
                    cast: cast.clone(),
                    alias,
                });
            }
            SelectItem::Relation { .. } | SelectItem::Spread { .. } => {
                return Err(Error::NotImplemented("resource embedding is not available yet".into()));
            }
        }
    }

    // Filters, logic trees, orders and ranges on embedded paths need the embedding.
    if let Some((path, _)) = q.filters_not_root.first() {
        return Err(Error::NotEmbedded(path.join("."), None));
    }
    if let Some((path, _)) = q.logic.iter().find(|(p, _)| !p.is_empty()) {
        return Err(Error::NotEmbedded(path.join("."), None));
    }
    if let Some((path, _)) = q.order.iter().find(|(p, _)| !p.is_empty()) {
        return Err(Error::NotEmbedded(path.join("."), None));
    }

    let mut where_: Vec<CoercibleLogicTree> =
        q.filters_root.iter().map(|f| CoercibleLogicTree::Stmnt(resolve_filter(table, f))).collect();
    for (_, tree) in q.logic.iter().filter(|(p, _)| p.is_empty()) {
        where_.push(resolve_logic(table, tree));
    }
    let order = q
        .order
        .iter()
        .filter(|(p, _)| p.is_empty())
        .flat_map(|(_, terms)| terms.iter().map(|t| resolve_order(table, t)))
        .collect();
    let range = api.top_range.restrict(config.db_max_rows);

    Ok(ReadPlan {
        select,
        from: qi.clone(),
        from_alias: None,
        where_,
        order,
        range,
        rel_name: qi.name.clone(),
        rel_alias: None,
        rel_agg_alias: String::new(),
        rel_join_type: None,
        rel_join_conds: vec![],
        depth: 0,
        children: vec![],
    })
}

fn resolve_filter(table: &Table, f: &Filter) -> CoercibleFilter {
    let mut field = CoercibleField::resolve(Some(table), &f.field.0, &f.field.1);
    if let OpExpr::Op(_, crate::request::types::Operation::Fts(_, lang, _)) = &f.op_expr {
        let is_tsvector = table.column(&f.field.0).is_some_and(|c| c.data_type == "tsvector");
        if !is_tsvector {
            field.to_tsvector = Some(lang.clone());
        }
    }
    CoercibleFilter::Filter { field, op_expr: f.op_expr.clone() }
}

fn resolve_logic(table: &Table, tree: &LogicTree) -> CoercibleLogicTree {
    match tree {
        LogicTree::Expr(neg, op, children) => {
            CoercibleLogicTree::Expr(*neg, *op, children.iter().map(|c| resolve_logic(table, c)).collect())
        }
        LogicTree::Stmnt(f) => CoercibleLogicTree::Stmnt(resolve_filter(table, f)),
    }
}

fn resolve_order(table: &Table, t: &OrderTerm) -> CoercibleOrderTerm {
    match t {
        OrderTerm::Field { field, direction, nulls } => CoercibleOrderTerm::Field {
            field: CoercibleField::resolve(Some(table), &field.0, &field.1),
            direction: *direction,
            nulls: *nulls,
        },
        OrderTerm::Relation { relation, field, direction, nulls } => CoercibleOrderTerm::Relation {
            relation: relation.clone(),
            field: CoercibleField::resolve(None, &field.0, &field.1),
            direction: *direction,
            nulls: *nulls,
        },
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn suggests_close_names_only() {
        let names = ["items", "clients", "projects"];
        assert_eq!(super::suggest("itemz", names.iter().copied()), None);
        assert_eq!(super::suggest("project", names.iter().copied()).as_deref(), Some("projects"));
        assert_eq!(super::suggest("zzz", names.iter().copied()), None);
    }
}
