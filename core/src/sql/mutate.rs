//! The write statement (PostgREST's `mutatePlanToQuery`, `fromJsonBodyF` and `mainWrite`):
//! the INSERT/UPDATE/DELETE as the `pgrst_source` CTE, the read of the returned rows on it,
//! and one result row `(total_result_set, page_total, body, response_headers,
//! response_status, location, response_inserted)`.
//!
//! The body is one text parameter cast to json (jsonb when defaults are merged in) and
//! expanded with `json_to_recordset` into typed columns. Column types and default
//! expressions are SQL text from the catalog; every value from the request is a parameter.

use super::fragment::{self as frag, Params};
use super::handler::handler_f;
use super::read::read_plan_query;
use super::Statement;
use crate::plan::mutate_plan::MutatePlan;
use crate::plan::read_plan::{CoercibleField, ReadPlan};
use crate::request::preferences::Resolution;
use crate::schema_cache::{MediaHandler, QualifiedIdentifier};
use crate::text::Text;

/// What `mainWrite` needs besides the two plans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOptions {
    /// the body aggregate: `NoAgg` when the response has no body
    pub handler: MediaHandler,
    /// `return=headers-only` on an insert: compute the Location of a single inserted row
    pub location: bool,
}

/// PostgREST's `mainWrite`.
pub fn main_write(read: &ReadPlan, mutate: &MutatePlan, opts: WriteOptions) -> Statement {
    let mut p = Params::default();
    let mutate_sql = mutate_plan_query(mutate, &mut p);
    // without a body, the select list may name columns the statement did not return
    let select = match opts.handler {
        MediaHandler::NoAgg => "SELECT * FROM pgrst_source".to_string(),
        _ => read_plan_query(read, &mut p),
    };
    let body = handler_f(None, &opts.handler);
    let location = match mutate {
        MutatePlan::Insert { pk_cols, .. } if opts.location => format!(
            "CASE WHEN pg_catalog.count(_postgrest_t) = 1 THEN (WITH data AS (SELECT row_to_json(_) AS row FROM pgrst_source AS _ LIMIT 1) \
             SELECT array_to_json(array_agg(json_data.key || '=' || coalesce('eq.' || json_data.value, 'is.null')))::text \
             FROM data CROSS JOIN json_each_text(data.row) AS json_data WHERE json_data.key = ANY({}::text[])) END",
            p.push(frag::array_literal(pk_cols))
        ),
        _ => "null::text".to_string(),
    };
    let inserted = if mutate.counts_inserted() { "nullif(current_setting('pgrst.inserted', true),'')::int" } else { "null::int" };
    let sql = format!(
        "WITH pgrst_source AS ({mutate_sql}) SELECT null::bigint AS total_result_set, \
         pg_catalog.count(_postgrest_t) AS page_total, {body} AS body, \
         nullif(current_setting('response.headers', true), '') AS response_headers, \
         nullif(current_setting('response.status', true), '') AS response_status, \
         {location} AS location, {inserted} AS response_inserted \
         FROM ({select}) _postgrest_t"
    );
    Statement { sql, params: p.0 }
}

/// PostgREST's `mutatePlanToQuery`.
pub fn mutate_plan_query(plan: &MutatePlan, p: &mut Params) -> String {
    match plan {
        MutatePlan::Insert { into, columns, body, on_conflict, where_, returning, apply_defaults, .. } => {
            let body_qi = QualifiedIdentifier { schema: String::new(), name: "pgrst_body".into() };
            let mut sql = format!("INSERT INTO {}", frag::qi(into));
            if columns.is_empty() {
                sql.push(' ');
            } else {
                sql.push_str(&format!("({}) ", names(columns)));
            }
            sql.push_str(&from_json_body(body, columns, true, *apply_defaults, p));
            let merge = matches!(on_conflict, Some((Resolution::MergeDuplicates, _)));
            if !where_.is_empty() {
                // PUT: insert the row only if it matches the URL; count it as inserted
                let conds: Vec<String> = where_.iter().map(|t| frag::logic_tree(&body_qi, t, p)).collect();
                sql.push_str(&format!("WHERE {} AND {}", inserted_counter(true), conds.join(" AND ")));
            } else if merge {
                sql.push_str(&format!("WHERE {}", inserted_counter(true)));
            }
            if let Some((resolution, cols)) = on_conflict.as_ref().filter(|(_, cols)| !cols.is_empty()) {
                let conflict: Vec<String> = cols.iter().map(|c| frag::ident(c)).collect();
                sql.push_str(&format!(" ON CONFLICT({}) ", conflict.join(", ")));
                match resolution {
                    Resolution::IgnoreDuplicates => sql.push_str("DO NOTHING"),
                    Resolution::MergeDuplicates if columns.is_empty() => sql.push_str("DO NOTHING"),
                    Resolution::MergeDuplicates => {
                        let sets: Vec<String> = columns.iter().map(|c| format!("{0} = EXCLUDED.{0}", frag::ident(&c.name))).collect();
                        sql.push_str(&format!("DO UPDATE SET {}", sets.join(", ")));
                        // an updated row was counted as inserted by the WHERE above: take it back
                        sql.push_str(&format!(" WHERE {}", inserted_counter(false)));
                    }
                }
            }
            sql.push(' ');
            sql.push_str(&returning_clause(into, returning));
            sql
        }
        MutatePlan::Update { table, columns, body, where_, returning, apply_defaults } => {
            if columns.is_empty() {
                // `UPDATE t SET` with nothing to set is invalid: select no row of the table, so
                // the read of the (empty) result still knows the columns
                let alias = QualifiedIdentifier { schema: String::new(), name: table.name.clone() };
                let cols = if returning.is_empty() {
                    "NULL".to_string()
                } else {
                    returning.iter().map(|c| frag::column(&alias, c)).collect::<Vec<_>>().join(", ")
                };
                return format!("SELECT {cols} FROM {} WHERE false", frag::qi(table));
            }
            let body_qi = QualifiedIdentifier { schema: String::new(), name: "pgrst_body".into() };
            let sets: Vec<String> =
                columns.iter().map(|c| format!("{} = {}", frag::ident(&c.name), frag::column(&body_qi, &c.name))).collect();
            let mut sql = format!("UPDATE {} SET {} ", frag::qi(table), sets.join(", "));
            sql.push_str(&from_json_body(body, columns, false, *apply_defaults, p));
            sql.push_str(&where_clause(table, where_, p));
            sql.push(' ');
            sql.push_str(&returning_clause(table, returning));
            sql
        }
        MutatePlan::Delete { table, where_, returning } => {
            format!("DELETE FROM {} {} {}", frag::qi(table), where_clause(table, where_, p), returning_clause(table, returning))
        }
    }
}

fn names(columns: &[CoercibleField]) -> String {
    columns.iter().map(|c| frag::ident(&c.name)).collect::<Vec<_>>().join(", ")
}

fn where_clause(table: &QualifiedIdentifier, where_: &[crate::plan::read_plan::CoercibleLogicTree], p: &mut Params) -> String {
    if where_.is_empty() {
        return String::new();
    }
    let conds: Vec<String> = where_.iter().map(|t| frag::logic_tree(table, t, p)).collect();
    format!(" WHERE {}", conds.join(" AND "))
}

/// `RETURNING 1` when nothing is read back: the count of rows is still needed.
fn returning_clause(table: &QualifiedIdentifier, returning: &[String]) -> String {
    if returning.is_empty() {
        "RETURNING 1".into()
    } else {
        format!("RETURNING {}", returning.iter().map(|c| frag::column(table, c)).collect::<Vec<_>>().join(", "))
    }
}

/// Counts rows in the `pgrst.inserted` setting as a side effect of a WHERE that is always
/// true: +1 for each row offered to the insert, -1 for each conflict turned into an update.
fn inserted_counter(add: bool) -> String {
    let (symbol, num) = if add { ("+", "0") } else { ("-", "-1") };
    format!(
        "set_config('pgrst.inserted', (coalesce(nullif(current_setting('pgrst.inserted', true), '')::int, 0) {symbol} 1)::text, true) <> '{num}'"
    )
}

/// PostgREST's `fromJsonBodyF`: the body as typed rows named `pgrst_body`, with the column
/// defaults merged under the body's keys when `missing=default`.
fn from_json_body(body: &Text, fields: &[CoercibleField], include_select: bool, include_defaults: bool, p: &mut Params) -> String {
    let is_object = frag::is_json_object(body.as_bytes());
    let cast = if include_defaults { "jsonb" } else { "json" };
    let placeholder = format!("{}::{cast}", p.push(body.clone()));
    let select = if include_select {
        let body_qi = QualifiedIdentifier { schema: String::new(), name: "pgrst_body".into() };
        format!("SELECT {} ", fields.iter().map(|f| frag::column(&body_qi, &f.name)).collect::<Vec<_>>().join(", "))
    } else {
        String::new()
    };
    let defaults = if include_defaults {
        let pairs: Vec<String> =
            fields.iter().filter_map(|f| f.default.as_ref().map(|d| format!("{}::text, {d}", p.push(f.name.clone())))).collect();
        let defs = format!("jsonb_build_object({})", pairs.join(", "));
        if is_object {
            format!("LATERAL (SELECT {defs} || pgrst_payload.json_data AS val) pgrst_json_defs, ")
        } else {
            format!("LATERAL (SELECT jsonb_agg({defs} || elem) AS val from jsonb_array_elements(pgrst_payload.json_data) elem) pgrst_json_defs, ")
        }
    } else {
        String::new()
    };
    let (source, array_elements, to_record) = match (include_defaults, is_object) {
        (true, true) => ("pgrst_json_defs.val", "jsonb_array_elements", "jsonb_to_record"),
        (true, false) => ("pgrst_json_defs.val", "jsonb_array_elements", "jsonb_to_recordset"),
        (false, true) => ("pgrst_payload.json_data", "json_array_elements", "json_to_record"),
        (false, false) => ("pgrst_payload.json_data", "json_array_elements", "json_to_recordset"),
    };
    let rows = if fields.is_empty() {
        // `{}` is one row without columns, `[{}, {}]` one per element
        if is_object {
            "(values(1)) _ ".to_string()
        } else {
            format!("{array_elements}({source}) _ ")
        }
    } else {
        let typed: Vec<String> = fields.iter().map(|f| format!("{} {}", frag::ident(&f.name), f.ir_type)).collect();
        format!("{to_record}({source}) AS _({}) ", typed.join(", "))
    };
    let parsed: Vec<String> = fields
        .iter()
        .map(|f| match &f.transform {
            Some(func) => format!("{func}({0}) AS {0}", frag::ident(&f.name)),
            None => frag::ident(&f.name),
        })
        .collect();
    format!(
        "{select}FROM (SELECT {placeholder} AS json_data) pgrst_payload, {defaults}LATERAL (SELECT {} FROM {rows}) pgrst_body ",
        parsed.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qi(name: &str) -> QualifiedIdentifier {
        QualifiedIdentifier { schema: "test".into(), name: name.into() }
    }

    fn field(name: &str, ty: &str) -> CoercibleField {
        CoercibleField { name: name.into(), ir_type: ty.into(), ..Default::default() }
    }

    #[test]
    fn insert_reads_the_body_as_one_parameter() {
        let plan = MutatePlan::Insert {
            into: qi("items"),
            columns: vec![field("id", "integer")],
            body: r#"[{"id":1}]"#.into(),
            on_conflict: None,
            where_: vec![],
            returning: vec![],
            pk_cols: vec!["id".into()],
            apply_defaults: false,
        };
        let mut p = Params::default();
        let sql = mutate_plan_query(&plan, &mut p);
        assert_eq!(
            sql,
            "INSERT INTO \"test\".\"items\"(\"id\") SELECT \"pgrst_body\".\"id\" FROM (SELECT $1::json AS json_data) pgrst_payload, \
             LATERAL (SELECT \"id\" FROM json_to_recordset(pgrst_payload.json_data) AS _(\"id\" integer) ) pgrst_body  RETURNING 1"
        );
        assert_eq!(p.0, vec![Some(Text::from(r#"[{"id":1}]"#))]);
    }

    #[test]
    fn upsert_counts_inserted_rows() {
        let plan = MutatePlan::Insert {
            into: qi("t"),
            columns: vec![field("a", "text")],
            body: r#"{"a":"x"}"#.into(),
            on_conflict: Some((Resolution::MergeDuplicates, vec!["a".into()])),
            where_: vec![],
            returning: vec!["a".into()],
            pk_cols: vec!["a".into()],
            apply_defaults: false,
        };
        let sql = mutate_plan_query(&plan, &mut Params::default());
        assert!(sql.contains("json_to_record(pgrst_payload.json_data)"), "{sql}");
        assert!(sql.contains("ON CONFLICT(\"a\") DO UPDATE SET \"a\" = EXCLUDED.\"a\" WHERE set_config"), "{sql}");
        assert!(sql.ends_with("RETURNING \"test\".\"t\".\"a\""), "{sql}");
    }

    #[test]
    fn empty_update_selects_nothing() {
        let plan = MutatePlan::Update {
            table: qi("items"),
            columns: vec![],
            body: "{}".into(),
            where_: vec![],
            returning: vec!["id".into()],
            apply_defaults: false,
        };
        assert_eq!(mutate_plan_query(&plan, &mut Params::default()), "SELECT \"items\".\"id\" FROM \"test\".\"items\" WHERE false");
    }
}
