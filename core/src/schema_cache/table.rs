//! Tables and their columns (port of `PostgREST.SchemaCache.Table`). "Table" covers every
//! relation PostgREST exposes: tables, views, materialized views, foreign and partitioned
//! tables. The flags say which HTTP verbs the relation supports as PostgreSQL sees it
//! (`pg_relation_is_updatable`), not what the current role is granted.

use serde::Deserialize;

/// A relation in an exposed schema.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Table {
    /// the relation's oid
    pub oid: u32,
    pub schema: String,
    pub name: String,
    pub description: Option<String>,
    /// Views and materialized views (PostgREST's `tableIsView`).
    pub is_view: bool,
    pub insertable: bool,
    pub updatable: bool,
    pub deletable: bool,
    /// Primary key columns: sorted by name for tables; for views, the view columns the base
    /// table's primary key is exposed as (see `derive::add_view_primary_keys`).
    pub pk_cols: Vec<String>,
    /// In column order (attnum), like PostgREST's insertion-ordered `ColumnMap`.
    pub columns: Vec<Column>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn column_names(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(|c| c.name.as_str())
    }
}

/// A column of a relation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
pub struct Column {
    pub name: String,
    pub description: Option<String>,
    pub nullable: bool,
    /// PostgREST's `colType`: for domains over pg_catalog types the base type, otherwise
    /// `format_type` without typmod for pg_catalog types and with it (schema-qualified)
    /// for the others.
    pub data_type: String,
    /// PostgREST's `colNominalType`: `format_type(atttypid, atttypmod)`, e.g.
    /// `character varying(10)` or `test.my_domain`; used when a value must be cast to the column.
    pub nominal_type: String,
    pub max_len: Option<i32>,
    /// The default expression as SQL text (schema-qualified), `nextval(..)` for identity columns.
    pub default: Option<String>,
    /// Labels of the column's enum type (or the enum under its domain), in sort order.
    pub enum_values: Vec<String>,
}
