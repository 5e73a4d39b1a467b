//! Paths and shared parameters of the document: one path item per relation (GET, and
//! POST/PATCH/DELETE when PostgreSQL can write it), one per function under `/rpc/`, the root
//! itself, and the `#/parameters/...` they reference (PostgREST's `makePathItems` and
//! `makeParamDefs`).

use super::schema::{element_type, function_body_schema, swagger_format, swagger_type};
use super::{split_summary, Function};
use crate::schema_cache::{FuncVolatility, RoutineParam, Table};
use serde_json::{json, Map, Value};

fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/parameters/{name}")})
}

/// A `query`/`header` parameter of type string.
fn string_param(name: &str, description: Option<&str>, location: &str) -> Map<String, Value> {
    let mut p = Map::new();
    p.insert("name".into(), json!(name));
    if let Some(d) = description {
        p.insert("description".into(), json!(d));
    }
    p.insert("required".into(), json!(false));
    p.insert("in".into(), json!(location));
    p.insert("type".into(), json!("string"));
    p
}

/// PostgREST's `makePreferParam`: the `Prefer` header with the values of `features`.
fn prefer_param(features: &[&str]) -> Value {
    let values: Vec<&str> = features
        .iter()
        .flat_map(|f| match *f {
            "count" => &["count=none"][..],
            "return" => &["return=representation", "return=minimal", "return=none"][..],
            "resolution" => &["resolution=ignore-duplicates", "resolution=merge-duplicates"][..],
            _ => &[][..],
        })
        .copied()
        .collect();
    let mut p = string_param("Prefer", Some("Preference"), "header");
    if !values.is_empty() {
        p.insert("enum".into(), json!(values));
    }
    Value::Object(p)
}

/// PostgREST's `makeParamDefs`.
pub fn parameter_definitions(tables: &[&Table]) -> Map<String, Value> {
    let mut defs = Map::new();
    defs.insert("preferParams".into(), prefer_param(&["params"]));
    defs.insert("preferReturn".into(), prefer_param(&["return"]));
    defs.insert("preferCount".into(), prefer_param(&["count"]));
    defs.insert("preferPost".into(), prefer_param(&["return", "resolution"]));
    let query = |name: &str, description: &str| Value::Object(string_param(name, Some(description), "query"));
    defs.insert("select".into(), query("select", "Filtering Columns"));
    defs.insert("on_conflict".into(), query("on_conflict", "On Conflict"));
    defs.insert("order".into(), query("order", "Ordering"));
    defs.insert("range".into(), Value::Object(string_param("Range", Some("Limiting and Pagination"), "header")));
    let mut range_unit = string_param("Range-Unit", Some("Limiting and Pagination"), "header");
    range_unit.insert("default".into(), json!("items"));
    defs.insert("rangeUnit".into(), Value::Object(range_unit));
    defs.insert("offset".into(), query("offset", "Limiting and Pagination"));
    defs.insert("limit".into(), query("limit", "Limiting and Pagination"));
    for t in tables {
        defs.insert(
            format!("body.{}", t.name),
            json!({
                "name": t.name,
                "description": t.name,
                "required": false,
                "in": "body",
                "schema": {"$ref": format!("#/definitions/{}", t.name)},
            }),
        );
        for c in &t.columns {
            defs.insert(
                format!("rowFilter.{}.{}", t.name, c.name),
                Value::Object(string_param(&c.name, c.description.as_deref(), "query")),
            );
        }
    }
    defs
}

/// PostgREST's `makePathItems`: the root, the relations, then the functions (a later
/// overload of a name replaces an earlier one, as in its `fromList`).
pub fn path_items(tables: &[&Table], functions: &[Function]) -> Map<String, Value> {
    let mut paths = Map::new();
    paths.insert(
        "/".into(),
        json!({"get": {
            "tags": ["Introspection"],
            "summary": "OpenAPI description (this document)",
            "produces": ["application/openapi+json", "application/json"],
            "responses": {"200": {"description": "OK"}},
        }}),
    );
    for t in tables {
        paths.insert(format!("/{}", t.name), table_path_item(t));
    }
    for f in functions {
        paths.insert(format!("/rpc/{}", f.name), function_path_item(f));
    }
    paths
}

/// Summary (first line) and description (the rest, when not empty) of an operation.
fn operation(tags: Value, comment: Option<&str>) -> Map<String, Value> {
    let mut op = Map::new();
    op.insert("tags".into(), tags);
    if let Some((summary, description)) = comment.map(split_summary) {
        op.insert("summary".into(), json!(summary));
        if !description.is_empty() {
            op.insert("description".into(), json!(description));
        }
    }
    op
}

/// PostgREST's `makePathItem`.
fn table_path_item(t: &Table) -> Value {
    let tn = &t.name;
    let base = operation(json!([tn]), t.description.as_deref());
    let row_filters: Vec<Value> = t.columns.iter().map(|c| reference(&format!("rowFilter.{tn}.{}", c.name))).collect();
    let with = |op: &Map<String, Value>, params: Vec<Value>, responses: Value| {
        let mut op = op.clone();
        op.insert("parameters".into(), Value::Array(params));
        op.insert("responses".into(), responses);
        Value::Object(op)
    };
    let refs = |names: &[&str]| names.iter().map(|n| reference(n)).collect::<Vec<_>>();
    let body = format!("body.{tn}");

    let mut item = Map::new();
    let mut get_params = row_filters.clone();
    get_params.extend(refs(&["select", "order", "range", "rangeUnit", "offset", "limit", "preferCount"]));
    item.insert(
        "get".into(),
        with(
            &base,
            get_params,
            json!({
                "200": {
                    "description": "OK",
                    "schema": {"type": "array", "items": {"$ref": format!("#/definitions/{tn}")}},
                },
                "206": {"description": "Partial Content"},
            }),
        ),
    );
    if t.insertable || t.updatable || t.deletable {
        item.insert("post".into(), with(&base, refs(&[&body, "select", "preferPost"]), json!({"201": {"description": "Created"}})));
        let mut patch_params = row_filters.clone();
        patch_params.extend(refs(&[&body, "preferReturn"]));
        item.insert("patch".into(), with(&base, patch_params, json!({"204": {"description": "No Content"}})));
        let mut delete_params = row_filters;
        delete_params.extend(refs(&["preferReturn"]));
        item.insert("delete".into(), with(&base, delete_params, json!({"204": {"description": "No Content"}})));
    }
    Value::Object(item)
}

/// PostgREST's `makeProcPathItem`: POST always, GET too unless the function is volatile.
fn function_path_item(f: &Function) -> Value {
    let mut base = operation(json!([format!("(rpc) {}", f.name)]), f.description.as_deref());
    base.insert(
        "produces".into(),
        json!(["application/json", "application/vnd.pgrst.object+json;nulls=stripped", "application/vnd.pgrst.object+json"]),
    );
    base.insert("responses".into(), json!({"200": {"description": "OK"}}));

    let mut post = base.clone();
    post.insert(
        "parameters".into(),
        json!([
            {
                "name": "args",
                "required": true,
                "in": "body",
                "schema": function_body_schema(f.description.as_deref(), &f.params),
            },
            reference("preferParams"),
        ]),
    );
    let mut item = Map::new();
    item.insert("post".into(), Value::Object(post));
    if f.volatility != FuncVolatility::Volatile {
        let mut get = base;
        let params: Vec<Value> = f.params.iter().map(get_param).collect();
        if !params.is_empty() {
            get.insert("parameters".into(), Value::Array(params));
        }
        item.insert("get".into(), Value::Object(get));
    }
    Value::Object(item)
}

/// PostgREST's `makeProcGetParam`: a query parameter; arrays and json are written as
/// strings, except a VARIADIC parameter, which may repeat (`collectionFormat: multi`).
fn get_param(p: &RoutineParam) -> Value {
    let t = p.type_name.as_str();
    let mut param = Map::new();
    param.insert("name".into(), json!(p.name));
    param.insert("required".into(), json!(p.required));
    param.insert("in".into(), json!("query"));
    if p.variadic {
        param.insert("type".into(), json!(swagger_type(t).unwrap_or("string")));
        let element = element_type(t);
        let mut items = Map::new();
        if let Some(et) = swagger_type(element) {
            items.insert("type".into(), json!(et));
        }
        items.insert("format".into(), json!(swagger_format(element)));
        param.insert("collectionFormat".into(), json!("multi"));
        param.insert("items".into(), Value::Object(items));
    } else {
        param.insert("format".into(), json!(swagger_format(t)));
        let ty = match swagger_type(t) {
            Some("array") | None => "string",
            Some(other) => other,
        };
        param.insert("type".into(), json!(ty));
    }
    Value::Object(param)
}
