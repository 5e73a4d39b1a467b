//! Swagger schemas: PostgreSQL types → Swagger types and formats, the definition of each
//! relation (its columns with defaults, enums, max lengths and the primary/foreign key notes
//! client generators read), and the body schema of a function's arguments.

use crate::schema_cache::{Cardinality, Column, QualifiedIdentifier, Relationship, RoutineParam, SchemaCache, Table};
use serde_json::{json, Map, Value};

/// PostgREST's `toSwaggerType`; `None` for json/jsonb (any value).
pub fn swagger_type(pg_type: &str) -> Option<&'static str> {
    match pg_type {
        "character varying" | "character" | "text" => Some("string"),
        "boolean" => Some("boolean"),
        "smallint" | "integer" | "bigint" => Some("integer"),
        "numeric" | "real" | "double precision" => Some("number"),
        "json" | "jsonb" => None,
        t if t.ends_with("[]") => Some("array"),
        _ => Some("string"),
    }
}

/// PostgREST's `toSwaggerFormat`: the PostgreSQL type, except for the sized integers.
pub fn swagger_format(pg_type: &str) -> &str {
    match pg_type {
        "smallint" | "integer" => "int32",
        "bigint" => "int64",
        t => t,
    }
}

/// PostgREST's `typeFromArray`: the element type of `t[]` (it drops two characters).
pub fn element_type(pg_type: &str) -> &str {
    let mut end = pg_type.len();
    for _ in 0..2 {
        end = pg_type[..end].char_indices().next_back().map_or(0, |(i, _)| i);
    }
    &pg_type[..end]
}

/// PostgREST's `makePropertyItems`: for arrays, a schema with the element's type.
fn property_items(pg_type: &str) -> Option<Value> {
    if swagger_type(pg_type) != Some("array") {
        return None;
    }
    let mut items = Map::new();
    if let Some(t) = swagger_type(element_type(pg_type)) {
        items.insert("type".into(), json!(t));
    }
    Some(Value::Object(items))
}

/// PostgREST's `parseDefault` + `JSON.decode`: string-typed defaults lose their cast and
/// quotes and become JSON strings; the others are kept when they are valid JSON.
fn parse_default(pg_type: &str, default: &str) -> Option<Value> {
    let text = if swagger_type(pg_type) == Some("string") {
        let inner = match default.strip_suffix(&format!("::{pg_type}")) {
            Some(d) => d.trim_matches('\''),
            None => default,
        };
        format!("\"{inner}\"")
    } else {
        default.to_string()
    };
    serde_json::from_str(&text).ok()
}

/// PostgREST's `makeTableDef`.
pub fn table_definition(cache: &SchemaCache, table: &Table) -> Value {
    let mut def = Map::new();
    if let Some(d) = &table.description {
        def.insert("description".into(), json!(d));
    }
    def.insert("type".into(), json!("object"));
    let properties: Map<String, Value> = table.columns.iter().map(|c| (c.name.clone(), property(cache, table, c))).collect();
    if !properties.is_empty() {
        def.insert("properties".into(), Value::Object(properties));
    }
    let required: Vec<&str> = table.columns.iter().filter(|c| !c.nullable).map(|c| c.name.as_str()).collect();
    if !required.is_empty() {
        def.insert("required".into(), json!(required));
    }
    Value::Object(def)
}

/// PostgREST's `makeProperty`: a column's schema, its description extended by key notes.
fn property(cache: &SchemaCache, table: &Table, col: &Column) -> Value {
    let mut notes = vec!["Note:".to_string()];
    if table.pk_cols.contains(&col.name) {
        notes.push("This is a Primary Key.<pk/>".into());
    }
    if let Some((ftable, fcol)) = foreign_key(cache, table, col) {
        notes.push(format!("This is a Foreign Key to `{ftable}.{fcol}`.<fk table='{ftable}' column='{fcol}'/>"));
    }
    let description = if notes.len() > 1 {
        let prefix = col.description.as_ref().map(|d| format!("{d}\n\n")).unwrap_or_default();
        Some(format!("{prefix}{}", notes.join("\n")))
    } else {
        col.description.clone()
    };
    let mut s = Map::new();
    if let Some(d) = col.default.as_deref().and_then(|d| parse_default(&col.data_type, d)) {
        s.insert("default".into(), d);
    }
    if let Some(d) = description {
        s.insert("description".into(), json!(d));
    }
    if !col.enum_values.is_empty() {
        s.insert("enum".into(), json!(col.enum_values));
    }
    s.insert("format".into(), json!(swagger_format(&col.data_type)));
    if let Some(n) = col.max_len {
        s.insert("maxLength".into(), json!(n));
    }
    if let Some(t) = swagger_type(&col.data_type) {
        s.insert("type".into(), json!(t));
    }
    if let Some(items) = property_items(&col.data_type) {
        s.insert("items".into(), items);
    }
    Value::Object(s)
}

/// The (table, column) a single-column many-to-one (or child one-to-one) foreign key of
/// `col` points to; relationships to tables win over those to views.
fn foreign_key(cache: &SchemaCache, table: &Table, col: &Column) -> Option<(String, String)> {
    let qi = QualifiedIdentifier::new(table.schema.clone(), table.name.clone());
    let mut rels: Vec<&Relationship> =
        cache.relationships(&qi, &table.schema).iter().filter(|r| matches!(r, Relationship::Relationship { .. })).collect();
    // stable, like Haskell's sortOn
    rels.sort_by_key(|r| matches!(r, Relationship::Relationship { ftable_is_view: true, .. }));
    rels.into_iter().find_map(|r| {
        let columns = match r.cardinality()? {
            Cardinality::M2O { columns, .. } | Cardinality::O2O { columns, is_parent: false, .. } => columns,
            _ => return None,
        };
        match columns.as_slice() {
            [(c, fcol)] if **c == *col.name => Some((r.foreign_table().name.clone(), fcol.to_string())),
            _ => None,
        }
    })
}

/// PostgREST's `makeProcSchema`: the body of a POST to `/rpc/<function>`.
pub fn function_body_schema(description: Option<&str>, params: &[RoutineParam]) -> Value {
    let mut s = Map::new();
    if let Some(d) = description {
        s.insert("description".into(), json!(d));
    }
    s.insert("type".into(), json!("object"));
    let properties: Map<String, Value> = params
        .iter()
        .map(|p| {
            let mut prop = Map::new();
            if let Some(t) = swagger_type(&p.type_name) {
                prop.insert("type".into(), json!(t));
            }
            if let Some(items) = property_items(&p.type_name) {
                prop.insert("items".into(), items);
            }
            prop.insert("format".into(), json!(swagger_format(&p.type_name)));
            (p.name.clone(), Value::Object(prop))
        })
        .collect();
    if !properties.is_empty() {
        s.insert("properties".into(), Value::Object(properties));
    }
    let required: Vec<&str> = params.iter().filter(|p| p.required).map(|p| p.name.as_str()).collect();
    if !required.is_empty() {
        s.insert("required".into(), json!(required));
    }
    Value::Object(s)
}
