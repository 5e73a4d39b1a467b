//! The read statement (PostgREST's `readPlanToQuery`, `readPlanToCountQuery` and `mainRead`):
//! the ReadPlan tree as one SELECT with LATERAL joins for embedded resources, wrapped so it
//! returns one row `(total_result_set, page_total, body, response_headers, response_status)`.

use super::fragment::{self as frag, Params};
use super::handler::handler_f;
use super::Statement;
use crate::plan::read_plan::*;
use crate::request::range;
use crate::request::types::JoinType;
use crate::schema_cache::{Cardinality, MediaHandler, QualifiedIdentifier, Relationship};

/// `SELECT ... FROM ... JOIN LATERAL ... WHERE ... GROUP BY ... ORDER BY ... LIMIT ... OFFSET ...`
pub fn read_plan_query(plan: &ReadPlan, p: &mut Params) -> String {
    let qi = plan.qi();
    let mut selects: Vec<String> = if plan.select.is_empty() && plan.children.is_empty() {
        vec![frag::column(&qi, "*")]
    } else {
        plan.select.iter().map(|s| frag::select_item(&qi, s, p)).collect()
    };
    if let Some(SpreadType::ToMany { extra_select, .. }) = &plan.rel_spread {
        for (rel, s) in extra_select {
            let table = match rel {
                Some(r) => QualifiedIdentifier { schema: String::new(), name: r.clone() },
                None => qi.clone(),
            };
            selects.push(frag::select_item(&table, s, p));
        }
    }
    selects.extend(join_selects(plan));
    let mut sql = format!("SELECT {}{}", selects.join(", "), from_clause(plan));
    for rel_sel in &plan.rel_select {
        if let Some(child) = plan.children.iter().find(|c| c.rel_agg_alias == rel_sel.agg_alias()) {
            sql.push_str(&join(rel_sel, child, p));
        }
    }
    let mut conds: Vec<String> = plan.where_.iter().map(|t| frag::logic_tree(&qi, t, p)).collect();
    conds.extend(plan.rel_join_conds.iter().map(join_condition));
    if !conds.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conds.join(" AND "));
    }
    sql.push_str(&group_by(&qi, plan, p));
    if !plan.order.is_empty() {
        let terms: Vec<String> = plan.order.iter().map(|t| frag::order_term(&qi, t, p)).collect();
        sql.push_str(" ORDER BY ");
        sql.push_str(&terms.join(", "));
    }
    sql.push_str(&limit_offset(&plan.range, p));
    sql
}

/// ` FROM "schema"."table" AS "alias"`, the function of a computed relationship, or the
/// junction of a many-to-many.
fn from_clause(plan: &ReadPlan) -> String {
    let source = match &plan.rel_to_parent {
        Some(Relationship::ComputedRelationship { function, table_alias, table, .. }) => {
            format!("{}({}::{})", frag::qi(function), frag::ident(&table_alias.name), frag::qi(table))
        }
        _ => frag::qi(&plan.from),
    };
    let alias = plan.from_alias.as_ref().map(|a| format!(" AS {}", frag::ident(a))).unwrap_or_default();
    let junction = match &plan.rel_to_parent {
        Some(Relationship::Relationship { cardinality: Cardinality::M2M(j), .. }) => format!(", {}", frag::qi(&j.table)),
        _ => String::new(),
    };
    format!(" FROM {source}{alias}{junction}")
}

fn join_condition(j: &JoinCondition) -> String {
    format!("{} = {}", frag::column(&j.left.0, &j.left.1), frag::column(&j.right.0, &j.right.1))
}

/// The parent's select items for its children (PostgREST's `getJoinSelects`).
fn join_selects(plan: &ReadPlan) -> Vec<String> {
    let mut out = vec![];
    for r in &plan.rel_select {
        match r {
            RelSelectField::JsonEmbed { empty_embed: true, .. } => {}
            RelSelectField::JsonEmbed { sel_name, agg_alias, mode: RelJsonEmbedMode::JsonObject, .. } => {
                out.push(format!("row_to_json({}.*)::jsonb AS {}", frag::ident(agg_alias), frag::ident(sel_name)))
            }
            RelSelectField::JsonEmbed { sel_name, agg_alias, mode: RelJsonEmbedMode::JsonArray, .. } => {
                out.push(format!("COALESCE( {}.{}, '[]') AS {}", frag::ident(agg_alias), frag::ident(agg_alias), frag::ident(sel_name)))
            }
            RelSelectField::Spread { spread_sel, agg_alias } => {
                out.extend(spread_sel.iter().map(|s| frag::spread_select_item(agg_alias, s)))
            }
        }
    }
    out
}

/// The LATERAL join of one child (PostgREST's `getJoin`).
fn join(rel_sel: &RelSelectField, child: &ReadPlan, p: &mut Params) -> String {
    let join_type = if child.rel_join_type == Some(JoinType::Inner) { "INNER" } else { "LEFT" };
    let correlated =
        |sub: String, alias: &str, cond: &str| format!(" {join_type} JOIN LATERAL ( {sub} ) AS {} ON {cond}", frag::ident(alias));
    let agg_alias = frag::ident(rel_sel.agg_alias());
    let array_cond = if child.rel_join_type == Some(JoinType::Inner) { format!("{agg_alias} IS NOT NULL") } else { "TRUE".into() };
    match rel_sel {
        RelSelectField::JsonEmbed { mode: RelJsonEmbedMode::JsonObject, .. } => {
            correlated(read_plan_query(child, p), rel_sel.agg_alias(), "TRUE")
        }
        RelSelectField::Spread { spread_sel, .. } => match &child.rel_spread {
            Some(SpreadType::ToMany { order, .. }) => {
                let sub = read_plan_query(child, p);
                let alias_qi = QualifiedIdentifier { schema: String::new(), name: rel_sel.agg_alias().to_string() };
                let mut sel = format!("SELECT json_agg({agg_alias})::jsonb AS {agg_alias}");
                for s in spread_sel {
                    let ord: Vec<String> = order.iter().map(|o| frag::order_term(&alias_qi, o, p)).collect();
                    let ord = if ord.is_empty() { String::new() } else { format!(" ORDER BY {}", ord.join(", ")) };
                    sel.push_str(&format!(
                        ", COALESCE(json_agg({}{ord}),'[]')::jsonb AS {}",
                        frag::full_sel_name(rel_sel.agg_alias(), &s.sel_name),
                        frag::ident(s.alias.as_deref().unwrap_or(&s.sel_name))
                    ));
                }
                correlated(format!("{sel} FROM ({sub} ) AS {agg_alias}"), rel_sel.agg_alias(), &array_cond)
            }
            _ => correlated(read_plan_query(child, p), rel_sel.agg_alias(), "TRUE"),
        },
        RelSelectField::JsonEmbed { mode: RelJsonEmbedMode::JsonArray, .. } => {
            let sub = read_plan_query(child, p);
            correlated(
                format!("SELECT json_agg({agg_alias})::jsonb AS {agg_alias} FROM ({sub} ) AS {agg_alias}"),
                rel_sel.agg_alias(),
                &array_cond,
            )
        }
    }
}

/// GROUP BY the non-aggregated items when any item is an aggregate (PostgREST's `groupF`).
fn group_by(qi: &QualifiedIdentifier, plan: &ReadPlan, p: &mut Params) -> String {
    let rel_aggregated = plan
        .rel_select
        .iter()
        .any(|r| matches!(r, RelSelectField::Spread { spread_sel, .. } if spread_sel.iter().any(|s| s.aggregate.is_some())));
    if !plan.has_aggregates() && !rel_aggregated {
        return String::new();
    }
    let mut terms: Vec<String> = plan
        .select
        .iter()
        .filter(|s| s.aggregate.is_none())
        .map(|s| match &s.alias {
            Some(a) => frag::ident(a),
            None => frag::field(qi, &s.field, p),
        })
        .collect();
    for r in &plan.rel_select {
        match r {
            RelSelectField::JsonEmbed { sel_name, .. } => terms.push(frag::ident(sel_name)),
            RelSelectField::Spread { spread_sel, agg_alias } => {
                let fields: Vec<String> = spread_sel
                    .iter()
                    .filter(|s| s.aggregate.is_none())
                    .map(|s| format!("{}.{}", frag::ident(agg_alias), frag::ident(s.alias.as_deref().unwrap_or(&s.sel_name))))
                    .collect();
                if !fields.is_empty() {
                    terms.push(fields.join(", "));
                }
            }
        }
    }
    if terms.is_empty() {
        String::new()
    } else {
        format!(" GROUP BY {}", terms.join(", "))
    }
}

/// PostgREST's `limitOffsetF`. A limit that fits a bigint is written as a number: an integer
/// we parsed, which its formatting cannot turn into anything else. With a parameter there,
/// PostgreSQL's generic plan guesses a tenth of the rows, costs more than a custom plan, and
/// every execution is planned again (a third of an executor's CPU on a page of 20 rows). For
/// the same reason an offset of 0 is left out. Other numbers stay parameters whose type
/// PostgreSQL infers (bigint), as PostgREST's `unknownEncoder` sends them: a nonzero offset
/// (it changes with each page, and each number would be one more kept plan), and one too big
/// for a bigint, which fails in bigint's input function with PostgREST's error,
/// `value "…" is out of range for type bigint`.
fn limit_offset(r: &range::NonnegRange, p: &mut Params) -> String {
    if *r == range::ALL {
        return String::new();
    }
    let limit = match r.limit().map(|l| l.max(0)) {
        Some(l) => match i64::try_from(l) {
            Ok(l) => l.to_string(),
            Err(_) => p.push(l.to_string()),
        },
        None => "ALL".to_string(),
    };
    match r.lower() {
        0 => format!(" LIMIT {limit}"),
        lower => format!(" LIMIT {limit} OFFSET {}", p.push(lower.to_string())),
    }
}

/// The count query: FROM and WHERE of the root, with inner-joined children as EXISTS
/// (PostgREST's `readPlanToCountQuery`).
pub fn count_query(plan: &ReadPlan, p: &mut Params) -> String {
    let qi = plan.qi();
    let mut conds: Vec<String> = plan.where_.iter().map(|t| count_logic_tree(plan, &qi, t, p)).collect();
    conds.extend(plan.rel_join_conds.iter().map(join_condition));
    for child in &plan.children {
        if child.rel_join_type == Some(JoinType::Inner) {
            conds.push(format!("EXISTS ({} )", count_query(child, p)));
        }
    }
    let mut sql = format!("SELECT 1{}", from_clause(plan));
    if !conds.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conds.join(" AND "));
    }
    sql
}

fn count_logic_tree(plan: &ReadPlan, qi: &QualifiedIdentifier, t: &CoercibleLogicTree, p: &mut Params) -> String {
    match t {
        CoercibleLogicTree::Expr(negated, op, children) => {
            let sep = match op {
                crate::request::types::LogicOperator::And => " AND ",
                crate::request::types::LogicOperator::Or => " OR ",
            };
            let inner: Vec<String> = children.iter().map(|c| count_logic_tree(plan, qi, c, p)).collect();
            format!("{}({})", if *negated { "NOT " } else { "" }, inner.join(sep))
        }
        CoercibleLogicTree::Stmnt(CoercibleFilter::NullEmbed { negated, name }) => {
            match plan.children.iter().find(|c| &c.rel_agg_alias == name) {
                Some(child) => format!("{}EXISTS ({})", if *negated { "" } else { "NOT " }, count_query(child, p)),
                None => "TRUE".into(),
            }
        }
        CoercibleLogicTree::Stmnt(f) => frag::filter(qi, f, p),
    }
}

/// The count query of `Prefer: count=estimated` stops after db-max-rows + 1 rows: more than
/// that and the planner's estimate is used.
fn limited(query: String, limit: Option<i64>, p: &mut Params) -> String {
    match limit {
        Some(l) => format!("{query} LIMIT {}", p.push(l.to_string())),
        None => query,
    }
}

/// `EXPLAIN (FORMAT JSON)` of the count query: its "Plan Rows" is `Prefer: count=planned`
/// (PostgREST's `postExplain`).
pub fn explain_count(plan: &ReadPlan) -> Statement {
    let mut p = Params::default();
    let sql = format!("EXPLAIN (FORMAT JSON) {}", count_query(plan, &mut p));
    Statement { sql, params: p.0 }
}

/// PostgREST's `mainRead`. With `count`, the total of the filtered relation: a separate
/// count when a limit, offset or db-max-rows applies, else the page count itself.
/// `count_limit` caps the separate count (estimated counts).
pub fn main_read(plan: &ReadPlan, count: bool, count_limit: Option<i64>, max_rows: Option<i64>, handler: &MediaHandler) -> Statement {
    let mut p = Params::default();
    let source = read_plan_query(plan, &mut p);
    let page_count = "pg_catalog.count(_postgrest_t)";
    let (count_cte, total) = if !count {
        (String::new(), "null::bigint".to_string())
    } else if max_rows.is_some() || plan.range != range::ALL {
        let q = count_query(plan, &mut p);
        let q = limited(q, count_limit, &mut p);
        (format!(", pgrst_source_count AS ({q})"), "(SELECT pg_catalog.count(*) FROM pgrst_source_count)".into())
    } else {
        (String::new(), page_count.to_string())
    };
    let sql = format!(
        "WITH pgrst_source AS ( {source} ){count_cte} SELECT {total} AS total_result_set, \
         {page_count} AS page_total, {} AS body, \
         nullif(current_setting('response.headers', true), '') AS response_headers, \
         nullif(current_setting('response.status', true), '') AS response_status \
         FROM ( SELECT * FROM pgrst_source ) _postgrest_t",
        handler_f(None, handler)
    );
    Statement { sql, params: p.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_is_a_number_and_an_offset_a_parameter_of_any_size() {
        let sql = |r: range::NonnegRange| {
            let mut p = Params::default();
            (limit_offset(&r, &mut p), p.0)
        };
        assert_eq!(sql(range::ALL), (String::new(), vec![]));
        let some = |s: &str| Some(crate::text::Text::from(s));
        assert_eq!(sql(range::NonnegRange::from_limit_offset(5, Some(10))), (" LIMIT 10 OFFSET $1".into(), vec![some("5")]));
        assert_eq!(sql(range::NonnegRange::from_limit_offset(0, Some(20))), (" LIMIT 20".into(), vec![]));
        // past bigint: the numbers as PostgREST's Integer renders them, for PostgreSQL to refuse
        let huge = range::parse_header("0-99999999999999999999999");
        assert_eq!(sql(huge), (" LIMIT $1".into(), vec![some("100000000000000000000000")]));
        let far = range::NonnegRange::from_limit_offset(99999999999999999999999i128, None::<i128>);
        assert_eq!(sql(far), (" LIMIT ALL OFFSET $1".into(), vec![some("99999999999999999999999")]));
    }
}
