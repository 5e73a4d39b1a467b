//! The ReadPlan tree (PostgREST's `Plan/ReadPlan.hs` and `Plan/Types.hs`).
//!
//! A read is a tree: the root reads the requested relation; each child is an embedded
//! resource joined laterally to its parent. Fields are "coercible": they carry what the SQL
//! generator needs (JSON path handling, full-text search, data representations) so it never
//! looks at the schema cache.

use crate::request::range::NonnegRange;
use crate::request::types::{
    AggregateFunction, Cast, Field, Hint, JoinType, JsonOperand, JsonOperation, JsonPath, LogicOperator, OpExpr, OrderDirection, OrderNulls,
};
use crate::schema_cache::{QualifiedIdentifier, Relationship};

/// A column reference resolved against its table.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CoercibleField {
    pub name: String,
    pub json_path: JsonPath,
    /// apply `to_jsonb(col)` before the JSON path (the column is not json/jsonb)
    pub to_json: bool,
    /// full-text filter on a non-tsvector column: `to_tsvector([lang,] col)`
    pub to_tsvector: Option<Option<String>>,
    /// the column's type as declared (PostgREST's intermediate type)
    pub ir_type: String,
    /// the base type (domains resolved)
    pub base_type: String,
    /// a data representation function applied to the value (domain → json, text → domain)
    pub transform: Option<String>,
    pub default: Option<String>,
    /// the whole row (`count(*)` in a spread)
    pub full_row: bool,
}

impl CoercibleField {
    pub fn unknown(name: &str, json_path: &JsonPath) -> CoercibleField {
        CoercibleField { name: name.to_string(), json_path: json_path.clone(), ..Default::default() }
    }

    /// `col->a->>b` shows as `b`; `data->1` shows as `data` (PostgREST's `lastJsonKey`).
    pub fn last_json_key(&self) -> Option<String> {
        let operand = |op: &JsonOperation| match op {
            JsonOperation::Arrow(o) | JsonOperation::DoubleArrow(o) => o.clone(),
        };
        match operand(self.json_path.last()?) {
            JsonOperand::Key(k) => Some(k),
            JsonOperand::Idx(_) => Some(
                self.json_path
                    .iter()
                    .rev()
                    .find_map(|op| match operand(op) {
                        JsonOperand::Key(k) => Some(k),
                        JsonOperand::Idx(_) => None,
                    })
                    .unwrap_or_else(|| self.name.clone()),
            ),
        }
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

// a few of these per request, never stored in bulk: boxing would only add allocations
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum CoercibleFilter {
    Filter {
        field: CoercibleField,
        op_expr: OpExpr,
    },
    /// `rel=is.null` / `rel=not.is.null` on an embedded resource: negated?, its aggregate alias
    NullEmbed {
        negated: bool,
        name: String,
    },
}

#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum CoercibleLogicTree {
    Expr(bool, LogicOperator, Vec<CoercibleLogicTree>),
    Stmnt(CoercibleFilter),
}

#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum CoercibleOrderTerm {
    Field {
        field: CoercibleField,
        direction: Option<OrderDirection>,
        nulls: Option<OrderNulls>,
    },
    /// order by a column of an embedded to-one resource (its aggregate alias once resolved)
    Relation {
        relation: String,
        field: Field,
        direction: Option<OrderDirection>,
        nulls: Option<OrderNulls>,
    },
}

/// `left.col = right.col` between a node and its parent.
#[derive(Debug, Clone, PartialEq)]
pub struct JoinCondition {
    pub left: (QualifiedIdentifier, String),
    pub right: (QualifiedIdentifier, String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelJsonEmbedMode {
    JsonObject,
    JsonArray,
}

/// How a child shows in its parent's select list.
#[derive(Debug, Clone, PartialEq)]
pub enum RelSelectField {
    JsonEmbed { sel_name: String, agg_alias: String, mode: RelJsonEmbedMode, empty_embed: bool },
    Spread { spread_sel: Vec<SpreadSelectField>, agg_alias: String },
}

impl RelSelectField {
    pub fn agg_alias(&self) -> &str {
        match self {
            RelSelectField::JsonEmbed { agg_alias, .. } | RelSelectField::Spread { agg_alias, .. } => agg_alias,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SpreadSelectField {
    pub sel_name: String,
    pub aggregate: Option<AggregateFunction>,
    pub aggregate_cast: Option<Cast>,
    pub alias: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SpreadType {
    ToOne,
    ToMany { extra_select: Vec<(Option<String>, CoercibleSelectField)>, order: Vec<CoercibleOrderTerm> },
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
    pub rel_to_parent: Option<Relationship>,
    pub rel_join_conds: Vec<JoinCondition>,
    pub rel_alias: Option<String>,
    pub rel_agg_alias: String,
    pub rel_hint: Option<Hint>,
    pub rel_join_type: Option<JoinType>,
    pub rel_spread: Option<SpreadType>,
    pub rel_select: Vec<RelSelectField>,
    pub depth: usize,
    pub children: Vec<ReadPlan>,
}

impl ReadPlan {
    pub fn new(from: QualifiedIdentifier, rel_name: &str, depth: usize) -> ReadPlan {
        ReadPlan {
            select: vec![],
            from,
            from_alias: None,
            where_: vec![],
            order: vec![],
            range: crate::request::range::ALL,
            rel_name: rel_name.to_string(),
            rel_to_parent: None,
            rel_join_conds: vec![],
            rel_alias: None,
            rel_agg_alias: String::new(),
            rel_hint: None,
            rel_join_type: None,
            rel_spread: None,
            rel_select: vec![],
            depth,
            children: vec![],
        }
    }

    /// The identifier the node's columns are qualified with (PostgREST's
    /// `getQualifiedIdentifier`): its alias, or the function of a computed relationship.
    pub fn qi(&self) -> QualifiedIdentifier {
        match (&self.rel_to_parent, &self.from_alias) {
            (Some(Relationship::ComputedRelationship { function, .. }), alias) => {
                QualifiedIdentifier { schema: String::new(), name: alias.clone().unwrap_or_else(|| function.name.clone()) }
            }
            (_, Some(alias)) => QualifiedIdentifier { schema: String::new(), name: alias.clone() },
            (_, None) => self.from.clone(),
        }
    }

    /// The name the node is addressed by in filters, orders and select output.
    pub fn sel_name(&self) -> &str {
        self.rel_alias.as_deref().unwrap_or(&self.rel_name)
    }

    pub fn has_aggregates(&self) -> bool {
        self.select.iter().any(|s| s.aggregate.is_some())
    }
}
