//! Relationships between relations (port of `PostgREST.SchemaCache.Relationship`): what
//! resource embedding resolves `?select=*,other(*)` against. Foreign keys give M2O/O2O
//! relationships; `derive` adds the inverse (O2M), many-to-many (through a junction
//! table) and view-based ones; computed relationships come from functions.
//!
//! Field and variant order matter: the derived `Ord` equals Haskell's derived `Ord`, and
//! PostgREST sorts every relationship list with it (that order shows up in the
//! "more than one relationship was found" error details).
//!
//! A big schema has tens of thousands of relationships made from a few hundred names
//! (apflora: 35,604, through its views), so they share their identifiers and names
//! (`Arc`): a copy is a reference count, not an allocation (issue #19).

use std::sync::Arc;

use super::identifiers::QualifiedIdentifier;

/// A column or constraint name, shared by the relationships that mention it.
pub type Name = Arc<str>;

/// A relation's or function's identifier, shared by the relationships that mention it.
pub type SharedIdentifier = Arc<QualifiedIdentifier>;

/// PostgREST's `FieldName` pairs: (column on this side, column on the other side).
pub type ColumnPairs = Vec<(Name, Name)>;

/// A relationship between two relations.
#[allow(clippy::enum_variant_names)] // the names are PostgREST's constructors
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Relationship {
    /// Based on a foreign key (possibly followed through views).
    Relationship {
        table: SharedIdentifier,
        foreign_table: SharedIdentifier,
        is_self: bool,
        cardinality: Cardinality,
        table_is_view: bool,
        ftable_is_view: bool,
    },
    /// A function `f(table) returns [setof] foreign_table` used as a relationship named `f`.
    ComputedRelationship {
        function: SharedIdentifier,
        table: SharedIdentifier,
        foreign_table: SharedIdentifier,
        /// Filled in by the planner (PostgREST sets it to an empty identifier here).
        table_alias: SharedIdentifier,
        to_one: bool,
        is_self: bool,
    },
}

impl Relationship {
    /// PostgREST's `relTable`.
    pub fn table(&self) -> &QualifiedIdentifier {
        match self {
            Relationship::Relationship { table, .. } | Relationship::ComputedRelationship { table, .. } => table,
        }
    }

    /// PostgREST's `relForeignTable`.
    pub fn foreign_table(&self) -> &QualifiedIdentifier {
        match self {
            Relationship::Relationship { foreign_table, .. } | Relationship::ComputedRelationship { foreign_table, .. } => foreign_table,
        }
    }

    /// PostgREST's `relIsSelf`.
    pub fn is_self(&self) -> bool {
        match self {
            Relationship::Relationship { is_self, .. } | Relationship::ComputedRelationship { is_self, .. } => *is_self,
        }
    }

    /// The cardinality, `None` for computed relationships.
    pub fn cardinality(&self) -> Option<&Cardinality> {
        match self {
            Relationship::Relationship { cardinality, .. } => Some(cardinality),
            Relationship::ComputedRelationship { .. } => None,
        }
    }

    /// PostgREST's `relIsToOne`: M2O, O2O, or a computed relationship returning one row.
    pub fn is_to_one(&self) -> bool {
        match self {
            Relationship::Relationship { cardinality, .. } => {
                matches!(cardinality, Cardinality::M2O { .. } | Cardinality::O2O { .. })
            }
            Relationship::ComputedRelationship { to_one, .. } => *to_one,
        }
    }
}

/// The relationship cardinality, https://en.wikipedia.org/wiki/Cardinality_(data_modeling)
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cardinality {
    /// one-to-many
    O2M { cons: Name, columns: ColumnPairs },
    /// many-to-one
    M2O { cons: Name, columns: ColumnPairs },
    /// one-to-one, a refinement of M2O (the FK columns are also a PK/unique key). Operating on
    /// it is the same as M2O when `is_parent` is false; the inverse side has `is_parent` true.
    O2O { cons: Name, columns: ColumnPairs, is_parent: bool },
    /// many-to-many (boxed: the other variants, most of a big schema's, are half its size)
    M2M(Box<Junction>),
}

impl Cardinality {
    /// PostgREST's `relCons`; a M2M has two constraints, see `Junction`.
    pub fn constraint(&self) -> Option<&str> {
        match self {
            Cardinality::O2M { cons, .. } | Cardinality::M2O { cons, .. } | Cardinality::O2O { cons, .. } => Some(cons),
            Cardinality::M2M(_) => None,
        }
    }

    /// PostgREST's `relColumns`.
    pub fn columns(&self) -> Option<&ColumnPairs> {
        match self {
            Cardinality::O2M { columns, .. } | Cardinality::M2O { columns, .. } | Cardinality::O2O { columns, .. } => Some(columns),
            Cardinality::M2M(_) => None,
        }
    }
}

/// Junction table of a M2M relationship: `table` has FKs `constraint1` to the source and
/// `constraint2` to the target, both within its primary key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Junction {
    pub table: SharedIdentifier,
    pub constraint1: Name,
    pub constraint2: Name,
    /// (source column, junction column)
    pub cols_source: ColumnPairs,
    /// (target column, junction column)
    pub cols_target: ColumnPairs,
}
