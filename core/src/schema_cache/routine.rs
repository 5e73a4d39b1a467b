//! Functions callable through `/rpc` (port of `PostgREST.SchemaCache.Routine`), plus the
//! media-type handlers (aggregates/functions returning a media-type domain) and the data
//! representations (implicit casts to/from domains, port of `SchemaCache.Representations`).

use std::cmp::Ordering;

use super::identifiers::{QualifiedIdentifier, RelIdentifier};

/// A type as a function returns it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PgType {
    Scalar(QualifiedIdentifier),
    /// The bool is true when the composite is reached through a domain (PostgREST works
    /// around a pg 11/12 bug with it).
    Composite(QualifiedIdentifier, bool),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RetType {
    Single(PgType),
    SetOf(PgType),
}

/// Variant order is PostgREST's (it takes part in `Ord`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FuncVolatility {
    Volatile,
    Stable,
    Immutable,
}

impl FuncVolatility {
    /// `pg_proc.provolatile`: 'i', 's' or 'v'.
    pub fn from_code(code: &str) -> FuncVolatility {
        match code {
            "i" => FuncVolatility::Immutable,
            "s" => FuncVolatility::Stable,
            _ => FuncVolatility::Volatile,
        }
    }
}

/// `default_transaction_isolation` set on a function (hasql's `IsolationLevel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IsolationLevel {
    ReadCommitted,
    RepeatableRead,
    Serializable,
}

impl IsolationLevel {
    /// PostgREST's `toIsolationLevel`: anything unknown is read committed.
    pub fn parse(s: &str) -> IsolationLevel {
        match s.to_lowercase().as_str() {
            "repeatable read" => IsolationLevel::RepeatableRead,
            "serializable" => IsolationLevel::Serializable,
            _ => IsolationLevel::ReadCommitted,
        }
    }
}

/// PostgREST's `Function` (procedures are not exposed: the query keeps `prokind = 'f'`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Routine {
    pub schema: String,
    pub name: String,
    pub description: Option<String>,
    /// Input parameters in declaration order.
    pub params: Vec<RoutineParam>,
    pub return_type: RetType,
    pub volatility: FuncVolatility,
    pub has_variadic: bool,
    pub isolation_level: Option<IsolationLevel>,
    /// `proconfig` entries matching the hoisted-tx-settings patterns, as (name, value).
    pub settings: Vec<(String, String)>,
}

/// Deserialized as the catalog queries write a parameter (`type` for `type_name`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Deserialize)]
pub struct RoutineParam {
    /// Empty for an unnamed parameter (only allowed as the single json/jsonb/text/xml/bytea one).
    pub name: String,
    /// `regtype::text`, schema-qualified when not in pg_catalog, e.g. `test.enum_menagerie_type`.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Like `type_name` but `character`/`bit` become `character varying`/`bit varying`, so that
    /// casting an argument does not truncate it to length 1.
    pub type_max_length: String,
    pub required: bool,
    pub variadic: bool,
}

impl Routine {
    pub fn qi(&self) -> QualifiedIdentifier {
        QualifiedIdentifier::new(self.schema.clone(), self.name.clone())
    }

    pub fn returns_single(&self) -> bool {
        matches!(self.return_type, RetType::Single(_))
    }

    pub fn returns_scalar(&self) -> bool {
        matches!(self.return_type, RetType::Single(PgType::Scalar(_)))
    }

    pub fn returns_set_of_scalar(&self) -> bool {
        matches!(self.return_type, RetType::SetOf(PgType::Scalar(_)))
    }

    pub fn returns_single_composite(&self) -> bool {
        matches!(self.return_type, RetType::Single(PgType::Composite(..)))
    }

    pub fn returns_void(&self) -> bool {
        matches!(&self.return_type, RetType::Single(PgType::Scalar(qi)) if qi.schema == "pg_catalog" && qi.name == "void")
    }

    /// PostgREST's `funcTableName`: the relation a composite-returning function returns.
    pub fn table_name(&self) -> Option<&str> {
        match &self.return_type {
            RetType::Single(PgType::Composite(qi, _)) | RetType::SetOf(PgType::Composite(qi, _)) => Some(&qi.name),
            _ => None,
        }
    }

    /// The returned type's identifier, scalar or composite.
    pub fn return_type_qi(&self) -> &QualifiedIdentifier {
        match &self.return_type {
            RetType::Single(PgType::Scalar(qi) | PgType::Composite(qi, _))
            | RetType::SetOf(PgType::Scalar(qi) | PgType::Composite(qi, _)) => qi,
        }
    }
}

impl PartialOrd for Routine {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// PostgREST's `Ord Routine`: overloads of one function are ordered by fewest parameters
/// first; everything else compares field by field.
impl Ord for Routine {
    fn cmp(&self, other: &Self) -> Ordering {
        if self.schema == other.schema && self.name == other.name && self.params.len() != other.params.len() {
            return self.params.len().cmp(&other.params.len());
        }
        (
            &self.schema,
            &self.name,
            &self.description,
            &self.params,
            &self.return_type,
            &self.volatility,
            &self.has_variadic,
            &self.isolation_level,
            &self.settings,
        )
            .cmp(&(
                &other.schema,
                &other.name,
                &other.description,
                &other.params,
                &other.return_type,
                &other.volatility,
                &other.has_variadic,
                &other.isolation_level,
                &other.settings,
            ))
    }
}

/// How a response body of a given media type is produced.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MediaHandler {
    // non overridable builtins
    BuiltinAggSingleJson(bool),
    BuiltinAggArrayJsonStrip,
    // these builtins are overridable
    BuiltinOvAggJson,
    BuiltinOvAggGeoJson,
    BuiltinOvAggCsv,
    /// A user aggregate (over a relation or `anyelement`) or a function returning a
    /// media-type domain.
    CustomFunc(QualifiedIdentifier, RelIdentifier),
    NoAgg,
}

/// (handler, media type it produces). The media type is kept as the lowercased
/// type name (`*/*` resolved to `application/octet-stream`), e.g. `text/csv`.
pub type ResolvedHandler = (MediaHandler, String);

/// A data representation: an implicit cast between a domain and json/text, done by `function`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Deserialize)]
pub struct DataRepresentation {
    pub source_type: String,
    pub target_type: String,
    pub function: String,
}
