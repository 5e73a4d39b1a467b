//! The call statement (PostgREST's `callPlanToQuery` and `mainCall`): the function call as the
//! `pgrst_source` CTE, the read plan of its rows on top, and the body aggregated for the
//! negotiated media type, in one row `(total_result_set, page_total, body, response_headers,
//! response_status)`.
//!
//! Arguments are `$n` parameters cast to the parameter's type (`character`/`bit` widened so a
//! long value is not silently cut); a JSON body goes through `json_to_record` with the
//! parameters' types, as PostgREST's `fromJsonBodyF` does.

use super::fragment::{self as frag, Params};
use super::handler::handler_f;
use super::read::{count_query, read_plan_query};
use super::Statement;
use crate::plan::call_plan::{CallArgs, CallParams, CallPlan, RpcParamValue};
use crate::plan::read_plan::ReadPlan;
use crate::request::range;
use crate::schema_cache::{MediaHandler, Routine, RoutineParam};
use crate::text::Text;

/// `SELECT ... FROM "schema"."function"(...) pgrst_call` (PostgREST's `callPlanToQuery`).
pub fn call_plan_query(plan: &CallPlan, p: &mut Params) -> String {
    let columns = if plan.scalar || plan.set_of_scalar { "pgrst_call.pgrst_scalar".to_string() } else { returned_columns(plan) };
    let from = match (&plan.params, &plan.args) {
        (CallParams::OnePos(prm), args) => format!("FROM {}", call_it(plan, &single_parameter(args, prm, p))),
        (CallParams::Key(prms), _) if prms.is_empty() => format!("FROM {}", call_it(plan, "")),
        (CallParams::Key(prms), CallArgs::Direct(args)) => {
            let args: Vec<String> = prms
                .iter()
                .map(|prm| {
                    let value = match args.get(&prm.name) {
                        Some(RpcParamValue::Variadic(vs)) => p.push(frag::array_literal(vs)),
                        Some(RpcParamValue::Fixed(v)) => p.push(v.clone()),
                        None => "NULL".to_string(),
                    };
                    format!("{}{} := {value}::{}", variadic(prm), frag::ident(&prm.name), prm.type_max_length)
                })
                .collect();
            format!("FROM {}", call_it(plan, &args.join(", ")))
        }
        (CallParams::Key(prms), CallArgs::Json(body)) => {
            let args: Vec<String> = prms
                .iter()
                .map(|prm| format!("{}{} := pgrst_body.{}", variadic(prm), frag::ident(&prm.name), frag::ident(&prm.name)))
                .collect();
            format!("{}, LATERAL {}", from_json_body(body.as_ref(), prms, p), call_it(plan, &args.join(", ")))
        }
    };
    format!("SELECT {columns} {from}")
}

fn variadic(prm: &RoutineParam) -> &'static str {
    if prm.variadic {
        "VARIADIC "
    } else {
        ""
    }
}

fn call_it(plan: &CallPlan, args: &str) -> String {
    if plan.scalar || plan.set_of_scalar {
        format!("(SELECT {}({args}) pgrst_scalar) pgrst_call", frag::qi(&plan.qi))
    } else {
        format!("{}({args}) pgrst_call", frag::qi(&plan.qi))
    }
}

/// The argument of a single unnamed parameter: the raw body, or the query string arguments
/// as a JSON object (PostgREST's `singleParameter`).
fn single_parameter(args: &CallArgs, prm: &RoutineParam, p: &mut Params) -> String {
    let body: Option<Text> = match args {
        CallArgs::Json(body) => body.clone(),
        CallArgs::Direct(map) => {
            let obj: serde_json::Map<String, serde_json::Value> = map
                .iter()
                .map(|(k, v)| {
                    let v = match v {
                        RpcParamValue::Fixed(s) => serde_json::Value::String(s.clone()),
                        RpcParamValue::Variadic(vs) => vs.iter().cloned().map(serde_json::Value::String).collect(),
                    };
                    (k.clone(), v)
                })
                .collect();
            Some(Text::from(serde_json::Value::Object(obj).to_string()))
        }
    };
    let placeholder = match body {
        None => push_null(p),
        // bytes travel as bytea's hex text form, so any byte (NUL included) gets through
        Some(b) if prm.type_name == "bytea" => p.push(format!("\\x{}", hex(b.as_bytes()))),
        Some(b) => p.push(b.into_utf8_lossy()),
    };
    format!("{placeholder}::{}", prm.type_name)
}

fn push_null(p: &mut Params) -> String {
    p.0.push(None);
    format!("${}", p.0.len())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `FROM (SELECT $1::json AS json_data) pgrst_payload, LATERAL (SELECT "a", "b" FROM
/// json_to_record(pgrst_payload.json_data) AS _("a" integer, "b" text) LIMIT 1) pgrst_body`
/// (PostgREST's `fromJsonBodyF` for a call): only the first object of an array counts.
fn from_json_body(body: Option<&Text>, prms: &[RoutineParam], p: &mut Params) -> String {
    let placeholder = match body {
        Some(b) => p.push(b.clone().into_utf8_lossy()),
        None => push_null(p),
    };
    let is_object = frag::is_json_object(body.map(Text::as_bytes).unwrap_or_default());
    let to_record = if is_object { "json_to_record" } else { "json_to_recordset" };
    let names: Vec<String> = prms.iter().map(|prm| frag::ident(&prm.name)).collect();
    let typed: Vec<String> = prms.iter().map(|prm| format!("{} {}", frag::ident(&prm.name), prm.type_max_length)).collect();
    format!(
        "FROM (SELECT {placeholder}::json AS json_data) pgrst_payload, LATERAL (SELECT {} FROM {to_record}(pgrst_payload.json_data) AS _({}) LIMIT 1) pgrst_body ",
        names.join(", "),
        typed.join(", ")
    )
}

/// The columns of the call the read needs, plus those its filters use.
fn returned_columns(plan: &CallPlan) -> String {
    let call = crate::schema_cache::QualifiedIdentifier::new("", "pgrst_call");
    if plan.returning.is_empty() {
        return "*".into();
    }
    if plan.returning.len() == 1 && plan.returning.contains("*") {
        return frag::column(&call, "*");
    }
    let cols: std::collections::BTreeSet<&String> = plan.returning.iter().chain(&plan.filter_fields).collect();
    cols.into_iter().map(|c| frag::column(&call, c)).collect::<Vec<_>>().join(", ")
}

/// PostgREST's `mainCall`. With `count`, the total of the filtered rows: a separate count
/// when a limit, offset or db-max-rows applies, else the page count itself.
pub fn main_call(
    routine: &Routine,
    call: &CallPlan,
    read: &ReadPlan,
    count: bool,
    max_rows: Option<i64>,
    handler: &MediaHandler,
) -> Statement {
    let mut p = Params::default();
    let call_sql = call_plan_query(call, &mut p);
    let page_count = if routine.returns_single() { "1" } else { "pg_catalog.count(_postgrest_t)" };
    let (count_cte, total) = if !count {
        (String::new(), "null::bigint".to_string())
    } else if max_rows.is_some() || read.range != range::ALL {
        (
            format!(", pgrst_source_count AS ({})", count_query(read, &mut p)),
            "(SELECT pg_catalog.count(*) FROM pgrst_source_count)".to_string(),
        )
    } else {
        (String::new(), page_count.to_string())
    };
    let select = read_plan_query(read, &mut p);
    let sql = format!(
        "WITH pgrst_source AS ({call_sql}) {count_cte} SELECT {total} AS total_result_set, {page_count} AS page_total, \
         {} AS body, nullif(current_setting('response.headers', true), '') AS response_headers, \
         nullif(current_setting('response.status', true), '') AS response_status \
         FROM ({select}) _postgrest_t",
        handler_f(Some(routine), handler)
    );
    Statement { sql, params: p.0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema_cache::QualifiedIdentifier;
    use std::collections::{BTreeMap, BTreeSet};

    fn prm(name: &str, ty: &str) -> RoutineParam {
        RoutineParam { name: name.into(), type_name: ty.into(), type_max_length: ty.into(), required: true, variadic: false }
    }

    fn plan(params: CallParams, args: CallArgs, scalar: bool) -> CallPlan {
        CallPlan {
            qi: QualifiedIdentifier::new("test", "f"),
            params,
            args,
            scalar,
            set_of_scalar: false,
            filter_fields: BTreeSet::new(),
            returning: BTreeSet::from(["*".to_string()]),
        }
    }

    #[test]
    fn query_string_arguments_are_parameters() {
        let args = BTreeMap::from([("a".to_string(), RpcParamValue::Fixed("1".into()))]);
        let mut p = Params::default();
        let sql =
            call_plan_query(&plan(CallParams::Key(vec![prm("a", "integer"), prm("b", "text")]), CallArgs::Direct(args), true), &mut p);
        assert_eq!(
            sql,
            "SELECT pgrst_call.pgrst_scalar FROM (SELECT \"test\".\"f\"(\"a\" := $1::integer, \"b\" := NULL::text) pgrst_scalar) pgrst_call"
        );
        assert_eq!(p.0, vec![Some(Text::from("1"))]);
    }

    #[test]
    fn json_body_goes_through_json_to_record() {
        let mut p = Params::default();
        let body = Text::from(r#"{"a": 1}"#);
        let sql = call_plan_query(&plan(CallParams::Key(vec![prm("a", "integer")]), CallArgs::Json(Some(body)), false), &mut p);
        assert_eq!(
            sql,
            "SELECT \"pgrst_call\".* FROM (SELECT $1::json AS json_data) pgrst_payload, LATERAL (SELECT \"a\" FROM \
             json_to_record(pgrst_payload.json_data) AS _(\"a\" integer) LIMIT 1) pgrst_body , LATERAL \"test\".\"f\"(\"a\" := pgrst_body.\"a\") pgrst_call"
        );
    }

    #[test]
    fn bytea_body_is_hex() {
        let mut p = Params::default();
        let sql =
            call_plan_query(&plan(CallParams::OnePos(prm("", "bytea")), CallArgs::Json(Some(Text::from(vec![0, 255]))), true), &mut p);
        assert!(sql.contains("\"test\".\"f\"($1::bytea)"));
        assert_eq!(p.0, vec![Some(Text::from("\\x00ff"))]);
    }
}
