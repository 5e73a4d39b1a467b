//! The JSON document `catalog.sql` returns, row for row, and its conversion into the
//! schema cache's types (what PostgREST's hasql decoders `decodeTables`, `decodeRels`,
//! `decodeFuncs`, ... do). Nothing is derived here; see `derive` and `view_deps`.

use std::sync::Arc;

use serde::Deserialize;

use super::identifiers::{QualifiedIdentifier, RelIdentifier};
use super::relationship::{Cardinality, Name, Relationship};
use super::routine::{FuncVolatility, IsolationLevel, MediaHandler, PgType, RetType, Routine, RoutineParam};
use super::table::Table;
use super::view_deps::{ExposedView, TableKey};

#[derive(Debug, Deserialize)]
pub(crate) struct CatalogDoc {
    pub schemas: Vec<String>,
    /// a read of some relations only (`rows`)
    #[serde(default)]
    pub partial: bool,
    /// whether the functions, types, representations and media handlers were read; see
    /// [`CatalogDoc::read_functions`]
    #[serde(default)]
    functions: Option<bool>,
    /// whether `tables` was read: a full read may come in two halves (see [`CatalogDoc::merge`])
    #[serde(default)]
    tables_read: Option<bool>,
    /// whether the rows relationships are derived from (`internal_pks`, `m2o_rels`, `views`,
    /// `view_keys`) were read
    #[serde(default)]
    relationships_read: Option<bool>,
    pub tables: Vec<Table>,
    /// primary keys of tables in non-exposed schemas (junctions of many-to-many)
    #[serde(default)]
    pub internal_pks: Vec<InternalPk>,
    pub m2o_rels: Vec<RawRel>,
    /// the views of the exposed schemas (for `view_deps`)
    pub views: Vec<ExposedView>,
    /// the keys of the tables the views depend on (for `view_deps`)
    pub view_keys: Vec<TableKey>,
    pub routines: Vec<RawRoutine>,
    pub computed_rels: Vec<RawComputedRel>,
    #[serde(default)]
    pub representations: Vec<super::routine::DataRepresentation>,
    #[serde(default)]
    pub media_handlers: Vec<RawMediaHandler>,
}

impl CatalogDoc {
    /// The functions, types, representations and media handlers were read: as catalog.sql says,
    /// else (documents saved before it said) by a full read and not by a partial one.
    pub fn read_functions(&self) -> bool {
        self.functions.unwrap_or(!self.partial)
    }

    /// Whether this is a whole full read: every part, of every relation.
    pub fn is_whole(&self) -> bool {
        !self.partial && self.read_functions() && self.read_tables() && self.read_relationships()
    }

    fn read_tables(&self) -> bool {
        self.tables_read.unwrap_or(true)
    }

    fn read_relationships(&self) -> bool {
        self.relationships_read.unwrap_or(true)
    }

    /// Add the parts `other` read, another part of the same full read (catalog.sql's
    /// "tables", "relationships" and "functions" say which parts a read has). Each part is
    /// read once.
    pub fn merge(&mut self, other: CatalogDoc) -> Result<(), String> {
        if self.partial || other.partial {
            return Err("a partial read is no part of a full one".into());
        }
        let twice = (self.read_tables() && other.read_tables())
            || (self.read_relationships() && other.read_relationships())
            || (self.read_functions() && other.read_functions());
        if twice {
            return Err("a part of the catalogs was read twice".into());
        }
        let (tables, relationships, functions) = (other.read_tables(), other.read_relationships(), other.read_functions());
        if tables {
            self.tables_read = Some(true);
            self.tables = other.tables;
        }
        if relationships {
            self.relationships_read = Some(true);
            self.internal_pks = other.internal_pks;
            self.m2o_rels = other.m2o_rels;
            self.views = other.views;
            self.view_keys = other.view_keys;
        }
        if functions {
            self.functions = Some(true);
            self.routines = other.routines;
            self.computed_rels = other.computed_rels;
            self.representations = other.representations;
            self.media_handlers = other.media_handlers;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct InternalPk {
    pub relid: u32,
    pub schema: String,
    pub name: String,
    pub pk_cols: Vec<String>,
}

/// A row of `allM2OandO2ORels`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct RawRel {
    /// the constraint, its table and the referenced one
    pub oid: u32,
    pub conrelid: u32,
    pub confrelid: u32,
    table_schema: String,
    table_name: String,
    foreign_table_schema: String,
    foreign_table_name: String,
    is_self: bool,
    pub constraint_name: String,
    cols_and_fcols: Vec<(String, String)>,
    one_to_one: bool,
}

impl RawRel {
    /// `decodeRels`: an FK is O2O when its columns are also a PK/unique key, else M2O.
    pub fn to_relationship(&self) -> Relationship {
        let cons = Name::from(self.constraint_name.as_str());
        let columns = self.cols_and_fcols.iter().map(|(col, fcol)| (Name::from(col.as_str()), Name::from(fcol.as_str()))).collect();
        let cardinality =
            if self.one_to_one { Cardinality::O2O { cons, columns, is_parent: false } } else { Cardinality::M2O { cons, columns } };
        Relationship::Relationship {
            table: Arc::new(QualifiedIdentifier::new(self.table_schema.clone(), self.table_name.clone())),
            foreign_table: Arc::new(QualifiedIdentifier::new(self.foreign_table_schema.clone(), self.foreign_table_name.clone())),
            is_self: self.is_self,
            cardinality,
            table_is_view: false,
            ftable_is_view: false,
        }
    }
}

/// A row of `funcsSqlQuery`.
#[derive(Debug, Deserialize)]
pub(crate) struct RawRoutine {
    schema: String,
    name: String,
    description: Option<String>,
    params: Vec<RoutineParam>,
    rettype_schema: String,
    rettype_name: String,
    rettype_is_setof: bool,
    rettype_is_composite: bool,
    rettype_is_composite_alias: bool,
    volatility: String,
    has_variadic: bool,
    isolation_level: Option<String>,
    settings: Vec<(String, String)>,
}

impl RawRoutine {
    /// `decodeFuncs` row decoder (`parseRetType`, `parseVolatility`, `toIsolationLevel`).
    pub fn into_routine(self) -> Routine {
        let qi = QualifiedIdentifier::new(self.rettype_schema, self.rettype_name);
        let pg_type = if self.rettype_is_composite { PgType::Composite(qi, self.rettype_is_composite_alias) } else { PgType::Scalar(qi) };
        let return_type = if self.rettype_is_setof { RetType::SetOf(pg_type) } else { RetType::Single(pg_type) };
        let volatility = FuncVolatility::from_code(&self.volatility);
        Routine {
            schema: self.schema,
            name: self.name,
            description: self.description,
            params: self.params,
            return_type,
            volatility,
            has_variadic: self.has_variadic,
            isolation_level: self.isolation_level.as_deref().map(IsolationLevel::parse),
            settings: self.settings,
        }
    }
}

/// A row of `allComputedRels`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct RawComputedRel {
    function_schema: String,
    function_name: String,
    table_schema: String,
    table_name: String,
    foreign_table_schema: String,
    foreign_table_name: String,
    single_row: bool,
    is_self: bool,
}

impl RawComputedRel {
    pub fn to_relationship(&self) -> Relationship {
        Relationship::ComputedRelationship {
            function: Arc::new(QualifiedIdentifier::new(self.function_schema.clone(), self.function_name.clone())),
            table: Arc::new(QualifiedIdentifier::new(self.table_schema.clone(), self.table_name.clone())),
            foreign_table: Arc::new(QualifiedIdentifier::new(self.foreign_table_schema.clone(), self.foreign_table_name.clone())),
            table_alias: Arc::default(),
            to_one: self.single_row,
            is_self: self.is_self,
        }
    }
}

/// A row of `mediaHandlers`.
#[derive(Debug, Deserialize)]
pub(crate) struct RawMediaHandler {
    handler_schema: String,
    handler_name: String,
    target_schema: String,
    target_name: String,
    media_type: String,
    resolved_media_type: String,
}

impl RawMediaHandler {
    /// `decodeMediaHandlers`: ((target, media type), (handler, resolved media type)).
    pub fn into_entry(self) -> ((RelIdentifier, String), (MediaHandler, String)) {
        let target = QualifiedIdentifier::new(self.target_schema, self.target_name);
        let rel = if target.is_any_element() { RelIdentifier::RelAnyElement } else { RelIdentifier::RelId(target) };
        let handler = QualifiedIdentifier::new(self.handler_schema, self.handler_name);
        ((rel.clone(), self.media_type.to_lowercase()), (MediaHandler::CustomFunc(handler, rel), self.resolved_media_type.to_lowercase()))
    }
}
