//! The read statement: the ReadPlan query inside PostgREST's `mainRead` wrapper, which returns
//! one row `(total_result_set, page_total, body, response_headers, response_status)`.

use super::fragment::{self as frag, Params};
use super::Statement;
use crate::plan::read_plan::ReadPlan;

/// How the body column is aggregated (PostgREST's media handlers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyHandler {
    JsonArray { nulls_stripped: bool },
    /// vnd.pgrst.object+json: the first row (the count check happens on page_total)
    JsonObject { nulls_stripped: bool },
    Csv,
}

/// `SELECT ... FROM ... WHERE ... GROUP BY ... ORDER BY ... LIMIT ... OFFSET ...`
pub fn read_plan_query(plan: &ReadPlan, p: &mut Params) -> String {
    let table = plan.qi();
    let selects: Vec<String> = if plan.select.is_empty() {
        vec![frag::column(&table, "*")]
    } else {
        plan.select.iter().map(|s| frag::select_item(&table, s, p)).collect()
    };
    let mut sql = format!("SELECT {} FROM {}", selects.join(", "), frag::qi(&plan.from));
    if let Some(alias) = &plan.from_alias {
        sql.push_str(&format!(" AS {}", frag::ident(alias)));
    }
    let conds: Vec<String> = plan.where_.iter().map(|t| frag::logic_tree(&table, t, p)).collect();
    if !conds.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conds.join(" AND "));
    }
    if plan.has_aggregates() {
        let groups: Vec<String> = plan
            .select
            .iter()
            .filter(|s| s.aggregate.is_none())
            .map(|s| match &s.alias {
                Some(a) => frag::ident(a),
                None => frag::field(&table, &s.field, p),
            })
            .collect();
        if !groups.is_empty() {
            sql.push_str(" GROUP BY ");
            sql.push_str(&groups.join(", "));
        }
    }
    if !plan.order.is_empty() {
        let terms: Vec<String> = plan.order.iter().map(|t| frag::order_term(&table, t, p)).collect();
        sql.push_str(" ORDER BY ");
        sql.push_str(&terms.join(", "));
    }
    sql.push_str(&limit_offset(plan, p));
    sql
}

/// The count query: the same FROM and WHERE, no select list, order or range.
fn count_query(plan: &ReadPlan, p: &mut Params) -> String {
    let table = plan.qi();
    let mut sql = format!("SELECT 1 FROM {}", frag::qi(&plan.from));
    let conds: Vec<String> = plan.where_.iter().map(|t| frag::logic_tree(&table, t, p)).collect();
    if !conds.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conds.join(" AND "));
    }
    sql
}

fn limit_offset(plan: &ReadPlan, p: &mut Params) -> String {
    let mut out = String::new();
    if let Some(limit) = plan.range.limit() {
        out.push_str(&format!(" LIMIT {}", p.push(limit.max(0).to_string())));
    }
    if plan.range.offset != 0 {
        out.push_str(&format!(" OFFSET {}", p.push(plan.range.offset.to_string())));
    }
    out
}

fn body(handler: BodyHandler) -> &'static str {
    match handler {
        BodyHandler::JsonArray { nulls_stripped: false } => "coalesce(json_agg(_postgrest_t), '[]')",
        BodyHandler::JsonArray { nulls_stripped: true } => {
            "coalesce(json_agg(json_strip_nulls(row_to_json(_postgrest_t))), '[]')"
        }
        BodyHandler::JsonObject { nulls_stripped: false } => "coalesce((json_agg(_postgrest_t)->0)::text, 'null')",
        BodyHandler::JsonObject { nulls_stripped: true } => {
            "coalesce((json_agg(json_strip_nulls(row_to_json(_postgrest_t)))->0)::text, 'null')"
        }
        BodyHandler::Csv => concat!(
            "(SELECT coalesce(string_agg(a.k, ','), '') FROM (SELECT json_object_keys(r)::text as k FROM ",
            "(SELECT row_to_json(hh) as r from pgrst_source as hh limit 1) s) a) || '\n' || ",
            "coalesce(string_agg(substring(_postgrest_t::text, 2, length(_postgrest_t::text) - 2), '\n'), '')"
        ),
    }
}

/// PostgREST's `mainRead`; `count` adds the exact total of the filtered relation.
pub fn main_read(plan: &ReadPlan, count: bool, handler: BodyHandler) -> Statement {
    let mut p = Params::default();
    let source = read_plan_query(plan, &mut p);
    let (count_cte, total) = if count {
        (format!(", pgrst_source_count AS ({})", count_query(plan, &mut p)),
         "(SELECT pg_catalog.count(*) FROM pgrst_source_count)")
    } else {
        (String::new(), "null::bigint")
    };
    let sql = format!(
        "WITH pgrst_source AS ( {source} ){count_cte} SELECT {total} AS total_result_set, \
         pg_catalog.count(_postgrest_t) AS page_total, {}::text AS body, \
         nullif(current_setting('response.headers', true), '') AS response_headers, \
         nullif(current_setting('response.status', true), '') AS response_status \
         FROM ( SELECT * FROM pgrst_source ) _postgrest_t",
        body(handler)
    );
    Statement { sql, params: p.0 }
}
