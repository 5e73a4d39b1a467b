//! Identifiers of database objects (port of `PostgREST.SchemaCache.Identifiers`): the
//! schema-qualified name every map of the schema cache is keyed by, plus PostgREST's
//! quoting helpers for turning one into SQL text.

use std::fmt;

/// A pg identifier with its schema, "schema.name". When `schema` is empty the schema
/// is decided by the search_path. Used for tables, views, functions and types alike.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct QualifiedIdentifier {
    pub schema: String,
    pub name: String,
}

impl QualifiedIdentifier {
    pub fn new(schema: impl Into<String>, name: impl Into<String>) -> Self {
        QualifiedIdentifier { schema: schema.into(), name: name.into() }
    }

    /// `pg_catalog.anyelement`, the argument type of media handlers that apply to any relation.
    pub fn is_any_element(&self) -> bool {
        self.schema == "pg_catalog" && self.name == "anyelement"
    }
}

impl fmt::Display for QualifiedIdentifier {
    /// Unquoted `schema.name` (just `name` without a schema), as PostgREST shows it in messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.schema.is_empty() {
            write!(f, "{}", self.name)
        } else {
            write!(f, "{}.{}", self.schema, self.name)
        }
    }
}

/// What a media handler applies to: one relation, or any (`anyelement` aggregates).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RelIdentifier {
    RelId(QualifiedIdentifier),
    RelAnyElement,
}

/// PostgREST's `toQi`: splits at the first `.`; no dot means no schema.
pub fn to_qi(txt: &str) -> QualifiedIdentifier {
    match txt.split_once('.') {
        Some((s, i)) => QualifiedIdentifier::new(s, i),
        None => QualifiedIdentifier::new("", txt),
    }
}
