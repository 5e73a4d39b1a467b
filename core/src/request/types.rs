//! The typed form of a request's URL language, as PostgREST's `ApiRequest/Types.hs` has it.
//!
//! The parser (`query_params.rs`, from the grammar in `core/query.pest`) produces these values;
//! the planner (`plan/`) resolves them against the schema cache. Nothing here knows about SQL.

/// A column name or other identifier as written in the URL (unquoted, case kept).
pub type FieldName = String;
/// `col->a->>b`: a field with an optional JSON path.
pub type Field = (FieldName, JsonPath);
pub type JsonPath = Vec<JsonOperation>;
pub type Cast = String;
pub type Alias = String;
/// A relationship hint: a foreign-key name, a column, or the junction of an m2m.
pub type Hint = String;
/// Path of embedded levels: `clients.projects.name=eq.x` has the path `["clients", "projects"]`.
pub type EmbedPath = Vec<String>;
pub type Language = String;

/// `->` or `->>` followed by a key or an index.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum JsonOperation {
    Arrow(JsonOperand),
    DoubleArrow(JsonOperand),
}

/// A key (`->'key'`) or an index (`->1`). The index stays text: SQL casts it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum JsonOperand {
    Key(String),
    Idx(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregateFunction {
    Sum,
    Avg,
    Max,
    Min,
    Count,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinType {
    Inner,
    Left,
}

/// One item of `select=`.
#[derive(Debug, Clone, PartialEq)]
pub enum SelectItem {
    /// `alias:field->path.aggregate()::aggcast::cast`
    Field { field: Field, aggregate: Option<AggregateFunction>, aggregate_cast: Option<Cast>, cast: Option<Cast>, alias: Option<Alias> },
    /// `alias:relation!hint!inner(...)`; the children are the nested select list.
    Relation { relation: FieldName, alias: Option<Alias>, hint: Option<Hint>, join_type: Option<JoinType>, children: Vec<SelectItem> },
    /// `...relation!hint!inner(...)`
    Spread { relation: FieldName, hint: Option<Hint>, join_type: Option<JoinType>, children: Vec<SelectItem> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderDirection {
    Asc,
    Desc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderNulls {
    First,
    Last,
}

/// One term of `order=`.
#[derive(Debug, Clone, PartialEq)]
pub enum OrderTerm {
    /// `col->path.desc.nullslast`
    Field { field: Field, direction: Option<OrderDirection>, nulls: Option<OrderNulls> },
    /// `relation(col).desc`: order by a column of a to-one embedded relation.
    Relation { relation: FieldName, field: Field, direction: Option<OrderDirection>, nulls: Option<OrderNulls> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogicOperator {
    And,
    Or,
}

/// `and(name.eq.N,or(id.eq.1,id.eq.2))`
#[derive(Debug, Clone, PartialEq)]
pub enum LogicTree {
    /// negated?, operator, children
    Expr(bool, LogicOperator, Vec<LogicTree>),
    Stmnt(Filter),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub field: Field,
    pub op_expr: OpExpr,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OpExpr {
    /// negated?, operation
    Op(bool, Operation),
    /// A value that is not an operator expression: only meaningful as an RPC argument
    /// (`/rpc/f?arg=value`). The planner rejects it for tables.
    NoOp(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpQuantifier {
    Any,
    All,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Operation {
    Simple(SimpleOperator, String),
    Quant(QuantOperator, Option<OpQuantifier>, String),
    In(Vec<String>),
    Is(IsVal),
    IsDistinctFrom(String),
    Fts(FtsOperator, Option<Language>, String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsVal {
    Null,
    NotNull,
    True,
    False,
    Unknown,
}

/// Operators that take the `(any)` / `(all)` modifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuantOperator {
    Equal,
    GreaterThanEqual,
    GreaterThan,
    LessThanEqual,
    LessThan,
    Like,
    ILike,
    Match,
    IMatch,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimpleOperator {
    NotEqual,
    Contains,
    Contained,
    Overlap,
    StrictlyLeft,
    StrictlyRight,
    NotExtendsRight,
    NotExtendsLeft,
    Adjacent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FtsOperator {
    Fts,
    Plain,
    Phrase,
    Websearch,
}
