//! ReadPlan: what to read, resolved against the schema cache (PostgREST's `Plan/ReadPlan.hs`
//! and the read half of `Plan.hs`).
//!
//! A read is a tree: the root reads the requested relation; children (embedded resources)
//! are joined laterally. Fields are "coercible": they know whether a JSON path needs
//! `to_jsonb(col)` first (non-json columns) so the SQL generator needs no schema lookups.

use crate::request::range::NonnegRange;
use crate::request::types::{
    AggregateFunction, Cast, JoinType, JsonOperand, JsonOperation, JsonPath, LogicOperator, OpExpr, OrderDirection,
    OrderNulls,
};
use crate::schema_cache::{QualifiedIdentifier, Table};

/// A column reference with its JSON path, resolved against the table's columns.
#[derive(Debug, Clone, PartialEq)]
pub struct CoercibleField {
    pub name: String,
    pub json_path: JsonPath,
    /// apply `to_jsonb(col)` before the JSON path (the column is not json/jsonb)
    pub to_json: bool,
    /// full-text filter on a non-tsvector column: `to_tsvector([lang,] col)`
    pub to_tsvector: Option<Option<String>>,
}

impl CoercibleField {
    /// Resolve `name` + `json_path` in `table` (unknown columns are left to PostgreSQL, which
    /// reports them as 42703, as PostgREST does).
    pub fn resolve(table: Option<&Table>, name: &str, json_path: &JsonPath) -> CoercibleField {
        let data_type = table.and_then(|t| t.column(name)).map(|c| c.data_type.as_str());
        let to_json = !json_path.is_empty() && !matches!(data_type, Some("json") | Some("jsonb"));
        CoercibleField { name: name.to_string(), json_path: json_path.clone(), to_json, to_tsvector: None }
    }

    /// `col->a->>b` shows as `b`; `data->1` shows as `data` (PostgREST's `lastJsonKey`).
    pub fn default_alias(&self) -> Option<String> {
        let last = self.json_path.last()?;
        let operand = match last {
            JsonOperation::Arrow(o) | JsonOperation::DoubleArrow(o) => o,
        };
        Some(match operand {
            JsonOperand::Key(k) => k.clone(),
            JsonOperand::Idx(_) => self
                .json_path
                .iter()
                .rev()
                .find_map(|op| match op {
                    JsonOperation::Arrow(JsonOperand::Key(k)) | JsonOperation::DoubleArrow(JsonOperand::Key(k)) => {
                        Some(k.clone())
                    }
                    _ => None,
                })
                .unwrap_or_else(|| self.name.clone()),
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CoercibleSelectField {
    pub field: CoercibleField,
    pub aggregate: Option<AggregateFunction>,
    pub aggregate_cast: Option<Cast>,
    pub cast: Option<Cast>,
    pub alias: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CoercibleFilter {
    Filter { field: CoercibleField, op_expr: OpExpr },
    /// `rel=is.null` / `rel=not.is.null` on an embedded resource
    NullEmbed { negated: bool, name: String },
}

#[derive(Debug, Clone, PartialEq)]
pub enum CoercibleLogicTree {
    Expr(bool, LogicOperator, Vec<CoercibleLogicTree>),
    Stmnt(CoercibleFilter),
}

#[derive(Debug, Clone, PartialEq)]
pub enum CoercibleOrderTerm {
    Field { field: CoercibleField, direction: Option<OrderDirection>, nulls: Option<OrderNulls> },
    Relation { relation: String, field: CoercibleField, direction: Option<OrderDirection>, nulls: Option<OrderNulls> },
}

/// `parent.col = child.col` between a node and its parent.
#[derive(Debug, Clone, PartialEq)]
pub struct JoinCondition {
    pub left: (QualifiedIdentifier, String),
    pub right: (QualifiedIdentifier, String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReadPlan {
    pub select: Vec<CoercibleSelectField>,
    pub from: QualifiedIdentifier,
    pub from_alias: Option<String>,
    pub where_: Vec<CoercibleLogicTree>,
    pub order: Vec<CoercibleOrderTerm>,
    pub range: NonnegRange,
    pub rel_name: String,
    pub rel_alias: Option<String>,
    pub rel_agg_alias: String,
    pub rel_join_type: Option<JoinType>,
    pub rel_join_conds: Vec<JoinCondition>,
    pub depth: usize,
    pub children: Vec<ReadPlan>,
}

impl ReadPlan {
    /// The identifier the node's columns are qualified with (its alias inside joins).
    pub fn qi(&self) -> QualifiedIdentifier {
        match &self.from_alias {
            Some(alias) => QualifiedIdentifier { schema: String::new(), name: alias.clone() },
            None => self.from.clone(),
        }
    }

    /// Is any select item an aggregate? (they need GROUP BY on the rest)
    pub fn has_aggregates(&self) -> bool {
        self.select.iter().any(|s| s.aggregate.is_some())
    }
}
