//! The OpenAPI 2.0 (Swagger) document served at `GET /` (port of PostgREST's
//! `Response/OpenAPI.hs` and of the queries in `MainTx.hs` that feed it).
//!
//! What the document lists depends on `openapi-mode`: with follow-privileges only the
//! relations and functions the request's role can use, which only the database knows, so a
//! statement ([`statement`], run as the request role) returns them with the schema's comment;
//! with ignore-privileges everything the schema cache holds for the schema, and the statement
//! only fetches the comment. [`document`] then builds the JSON from the schema cache, the
//! config and that result. Keys come out sorted, as aeson writes them, so the bytes match
//! PostgREST's.

mod paths;
mod schema;
#[cfg(test)]
mod tests;

pub use crate::config::proxy::ProxyUri;

use crate::config::{Config, OpenApiMode};
use crate::schema_cache::{FuncVolatility, RoutineParam, SchemaCache, Table};
use crate::sql::Statement;
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// PostgREST's `prettyVersion` and `docsVersion` of the release this project follows
/// (the conformance suite's commit: version 17, a pre-release, whose docs are "latest").
pub const POSTGREST_VERSION: &str = "17 (pre-release)";
pub const DOCS_VERSION: &str = "latest";

const ACCESS_QUERY: &str = include_str!("access.sql");
const DESCRIPTION_QUERY: &str = "SELECT json_build_object('description', \
     (SELECT pg_catalog.obj_description(oid, 'pg_namespace') FROM pg_catalog.pg_namespace WHERE nspname = $1))::text";

/// A function as the document describes it: the parts of PostgREST's `Routine` it uses.
#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    pub name: String,
    pub description: Option<String>,
    pub params: Vec<RoutineParam>,
    pub volatility: FuncVolatility,
}

/// What the statement found: accessible relation and function names (follow-privileges
/// only) and the schema's comment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Access {
    pub tables: Option<Vec<String>>,
    pub functions: Option<Vec<Function>>,
    pub description: Option<String>,
}

/// The statement for `schema`: accessible objects and comment, or the comment alone.
pub fn statement(mode: OpenApiMode, schema: &str) -> Statement {
    let sql = if mode == OpenApiMode::FollowPrivileges { ACCESS_QUERY } else { DESCRIPTION_QUERY };
    Statement { sql: sql.to_string(), params: vec![Some(schema.into())] }
}

#[derive(Deserialize)]
struct AccessDoc {
    tables: Option<Vec<String>>,
    functions: Option<Vec<FunctionDoc>>,
    description: Option<String>,
}

#[derive(Deserialize)]
struct FunctionDoc {
    name: String,
    description: Option<String>,
    params: Vec<RoutineParam>,
    volatility: String,
}

/// Decode the statement's result (the JSON text of its one column).
pub fn parse_access(text: &str) -> Result<Access, String> {
    let doc: AccessDoc = serde_json::from_str(text).map_err(|e| format!("invalid OpenAPI access document: {e}"))?;
    let functions = doc.functions.map(|fs| {
        fs.into_iter()
            .map(|f| Function {
                name: f.name,
                description: f.description,
                params: f.params,
                volatility: FuncVolatility::from_code(&f.volatility),
            })
            .collect()
    });
    Ok(Access { tables: doc.tables, functions, description: doc.description })
}

/// The document for `schema`. Relations come from the schema cache (restricted to
/// `access.tables` when given); functions from `access.functions` when given, else from the
/// schema cache.
pub fn document(config: &Config, cache: &SchemaCache, schema: &str, access: &Access) -> Value {
    let tables: Vec<&Table> = cache
        .tables
        .values()
        .map(|t| &**t)
        .filter(|t| t.schema == schema)
        .filter(|t| access.tables.as_ref().is_none_or(|names| names.contains(&t.name)))
        .collect();
    let functions: Vec<Function> = match &access.functions {
        Some(fs) => fs.clone(),
        None => cached_functions(cache, schema),
    };
    build(config, cache, &tables, &functions, access.description.as_deref())
}

/// The schema's functions from the cache, overloads fewest parameters first.
fn cached_functions(cache: &SchemaCache, schema: &str) -> Vec<Function> {
    let mut qis: Vec<_> = cache.routines.keys().filter(|qi| qi.schema == schema).collect();
    qis.sort();
    qis.into_iter()
        .flat_map(|qi| cache.routines(qi))
        .map(|r| Function { name: r.name.clone(), description: r.description.clone(), params: r.params.clone(), volatility: r.volatility })
        .collect()
}

/// PostgREST's `postgrestSpec`.
fn build(config: &Config, cache: &SchemaCache, tables: &[&Table], functions: &[Function], description: Option<&str>) -> Value {
    let proxy = ProxyUri::of_config(config);
    let (title, desc) = match description.map(split_summary) {
        Some((t, d)) => (t, d),
        None => ("PostgREST API".to_string(), "This is a dynamic API generated by PostgREST".to_string()),
    };
    let mimes =
        json!(["application/json", "application/vnd.pgrst.object+json;nulls=stripped", "application/vnd.pgrst.object+json", "text/csv"]);
    let mut doc = Map::new();
    doc.insert("swagger".into(), json!("2.0"));
    doc.insert("basePath".into(), json!(proxy.path));
    doc.insert("schemes".into(), json!([if proxy.scheme == "http" { "http" } else { "https" }]));
    doc.insert("info".into(), json!({"version": POSTGREST_VERSION, "title": title, "description": desc}));
    doc.insert(
        "externalDocs".into(),
        json!({
            "description": "PostgREST Documentation",
            "url": format!("https://postgrest.org/en/{DOCS_VERSION}/references/api.html"),
        }),
    );
    doc.insert("host".into(), json!(format!("{}:{}", proxy.host, proxy.port)));
    let definitions: Map<String, Value> = tables.iter().map(|t| (t.name.clone(), schema::table_definition(cache, t))).collect();
    if !definitions.is_empty() {
        doc.insert("definitions".into(), Value::Object(definitions));
    }
    doc.insert("parameters".into(), Value::Object(paths::parameter_definitions(tables)));
    doc.insert("paths".into(), Value::Object(paths::path_items(tables, functions)));
    doc.insert("produces".into(), mimes.clone());
    doc.insert("consumes".into(), mimes);
    if config.openapi_security_active {
        doc.insert(
            "securityDefinitions".into(),
            json!({"JWT": {
                "type": "apiKey",
                "name": "Authorization",
                "in": "header",
                "description": "Add the token prepending \"Bearer \" (without quotes) to it",
            }}),
        );
        doc.insert("security".into(), json!([{"JWT": []}]));
    }
    Value::Object(doc)
}

/// PostgREST's summary/description split of a comment: the first line, and the rest
/// without the newlines that separate it (so a blank line may follow the summary).
fn split_summary(text: &str) -> (String, String) {
    match text.split_once('\n') {
        Some((first, rest)) => (first.to_string(), rest.trim_start_matches('\n').to_string()),
        None => (text.to_string(), String::new()),
    }
}

/// The document as bytes, escaped as aeson escapes strings (serde_json writes `\b` and `\f`
/// where aeson writes `\u0008` and `\u000c`).
pub fn encode(doc: &Value) -> Vec<u8> {
    let text = doc.to_string();
    if !text.contains("\\b") && !text.contains("\\f") {
        return text.into_bytes();
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('b') => out.push_str("\\u0008"),
            Some('f') => out.push_str("\\u000c"),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out.into_bytes()
}
