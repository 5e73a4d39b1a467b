//! SQL fragments (PostgREST's `Query/SqlFragment.hs`): the one identifier-quoting function,
//! the operator table, and every value as a `$n` parameter pushed through `Params`.
//!
//! Values are never inlined and identifiers are always quoted, so a request gives the same SQL
//! text whatever its values, and the kept plan is reused.

use crate::plan::read_plan::*;
use crate::request::types::{
    AggregateFunction, FtsOperator, IsVal, JsonOperand, JsonOperation, LogicOperator, OpExpr, OpQuantifier, Operation, OrderDirection,
    OrderNulls, QuantOperator, SimpleOperator,
};
use crate::schema_cache::QualifiedIdentifier;
use crate::text::Text;

/// The parameters of one statement; `push` returns the placeholder.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Params(pub Vec<Option<Text>>);

impl Params {
    pub fn push(&mut self, value: impl Into<Text>) -> String {
        self.0.push(Some(value.into()));
        format!("${}", self.0.len())
    }
}

/// Does the JSON text hold an object (rather than an array of them)? Only the first byte past
/// whitespace is looked at: PostgreSQL validates the rest.
pub fn is_json_object(json: &[u8]) -> bool {
    json.iter().find(|b| !b" \t\r\n".contains(b)) == Some(&b'{')
}

/// The one identifier quoting (PostgREST's `escapeIdent`): `"ident"` with `"` doubled. Text
/// from a NUL on is dropped, as PostgREST's `trimNullChars` does: PostgreSQL identifiers
/// cannot hold one.
pub fn ident(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    push_ident(&mut out, name);
    out
}

/// [`ident`], appended to `out`.
fn push_ident(out: &mut String, name: &str) {
    let name = name.split('\0').next().unwrap_or("");
    out.push('"');
    for (i, part) in name.split('"').enumerate() {
        if i > 0 {
            out.push_str("\"\"");
        }
        out.push_str(part);
    }
    out.push('"');
}

/// `"schema"."name"`, or just `"name"` for an alias (empty schema).
pub fn qi(q: &QualifiedIdentifier) -> String {
    let mut out = String::with_capacity(q.schema.len() + q.name.len() + 5);
    if !q.schema.is_empty() {
        push_ident(&mut out, &q.schema);
        out.push('.');
    }
    push_ident(&mut out, &q.name);
    out
}

pub fn column(table: &QualifiedIdentifier, name: &str) -> String {
    if name == "*" {
        format!("{}.*", qi(table))
    } else {
        format!("{}.{}", qi(table), ident(name))
    }
}

/// A PostgreSQL array literal `{"a","b"}` for `= ANY($n)`.
pub fn array_literal(values: &[String]) -> String {
    let elems: Vec<String> = values.iter().map(|v| format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))).collect();
    format!("{{{}}}", elems.join(","))
}

fn simple_operator(op: SimpleOperator) -> &'static str {
    match op {
        SimpleOperator::NotEqual => "<>",
        SimpleOperator::Contains => "@>",
        SimpleOperator::Contained => "<@",
        SimpleOperator::Overlap => "&&",
        SimpleOperator::StrictlyLeft => "<<",
        SimpleOperator::StrictlyRight => ">>",
        SimpleOperator::NotExtendsRight => "&<",
        SimpleOperator::NotExtendsLeft => "&>",
        SimpleOperator::Adjacent => "-|-",
    }
}

fn quant_operator(op: QuantOperator) -> &'static str {
    match op {
        QuantOperator::Equal => "=",
        QuantOperator::GreaterThanEqual => ">=",
        QuantOperator::GreaterThan => ">",
        QuantOperator::LessThanEqual => "<=",
        QuantOperator::LessThan => "<",
        QuantOperator::Like => "like",
        QuantOperator::ILike => "ilike",
        QuantOperator::Match => "~",
        QuantOperator::IMatch => "~*",
    }
}

fn fts_function(op: FtsOperator) -> &'static str {
    match op {
        FtsOperator::Fts => "to_tsquery",
        FtsOperator::Plain => "plainto_tsquery",
        FtsOperator::Phrase => "phraseto_tsquery",
        FtsOperator::Websearch => "websearch_to_tsquery",
    }
}

pub fn json_path(path: &[JsonOperation], p: &mut Params) -> String {
    path.iter()
        .map(|op| {
            let (arrow, operand) = match op {
                JsonOperation::Arrow(o) => ("->", o),
                JsonOperation::DoubleArrow(o) => ("->>", o),
            };
            match operand {
                JsonOperand::Key(k) => format!("{arrow}{}", p.push(k.clone())),
                JsonOperand::Idx(i) => format!("{arrow}{}::int", p.push(i.clone())),
            }
        })
        .collect()
}

pub fn field(table: &QualifiedIdentifier, f: &CoercibleField, p: &mut Params) -> String {
    let base = if f.full_row {
        ident(&table.name)
    } else if f.json_path.is_empty() {
        column(table, &f.name)
    } else if f.to_json {
        format!("to_jsonb({}){}", column(table, &f.name), json_path(&f.json_path, p))
    } else {
        format!("{}{}", column(table, &f.name), json_path(&f.json_path, p))
    };
    match &f.to_tsvector {
        Some(lang) => format!("to_tsvector({}{base})", fts_lang(lang, p)),
        None => base,
    }
}

fn fts_lang(lang: &Option<String>, p: &mut Params) -> String {
    lang.as_ref().map(|l| format!("{}::regconfig, ", p.push(l.clone()))).unwrap_or_default()
}

fn cast(cast: &Option<String>, expr: String) -> String {
    // Casts are not quoted ("bigint" quoted is no type); the grammar only lets names through.
    match cast {
        Some(c) => format!("CAST( {expr} AS {c} )"),
        None => expr,
    }
}

fn alias(a: &Option<String>) -> String {
    a.as_ref().map(|a| format!(" AS {}", ident(a))).unwrap_or_default()
}

/// A data representation function applied to `expr` (its name is SQL from the catalog).
fn transform(f: &CoercibleField, expr: String) -> String {
    match &f.transform {
        Some(func) => format!("{func}({expr})"),
        None => expr,
    }
}

pub fn aggregate(agg: Option<AggregateFunction>, agg_cast: &Option<String>, expr: String) -> String {
    match agg {
        Some(agg) => cast(agg_cast, format!("{}({expr})", format!("{agg:?}").to_uppercase())),
        None => expr,
    }
}

pub fn select_item(table: &QualifiedIdentifier, s: &CoercibleSelectField, p: &mut Params) -> String {
    let expr = cast(&s.cast, transform(&s.field, field(table, &s.field, p)));
    format!("{}{}", aggregate(s.aggregate, &s.aggregate_cast, expr), alias(&s.alias))
}

/// A spread child's column as its parent selects it: `"agg_alias"."name"`.
pub fn spread_select_item(agg_alias: &str, s: &SpreadSelectField) -> String {
    format!("{}{}", aggregate(s.aggregate, &s.aggregate_cast, full_sel_name(agg_alias, &s.sel_name)), alias(&s.alias))
}

pub fn full_sel_name(agg_alias: &str, name: &str) -> String {
    if name == "*" {
        format!("{}.*", ident(agg_alias))
    } else {
        format!("{}.{}", ident(agg_alias), ident(name))
    }
}

pub fn filter(table: &QualifiedIdentifier, f: &CoercibleFilter, p: &mut Params) -> String {
    let (field_ref, op_expr) = match f {
        CoercibleFilter::NullEmbed { negated, name } => {
            return format!("{} IS {}DISTINCT FROM NULL", ident(name), if *negated { "" } else { "NOT " });
        }
        CoercibleFilter::Filter { field: fr, op_expr } => (fr, op_expr),
    };
    let (negated, op) = match op_expr {
        OpExpr::Op(n, op) => (*n, op),
        // a bare value is an RPC argument, never a table filter (the planner keeps it out)
        OpExpr::NoOp(_) => return "TRUE".into(),
    };
    let lhs = field(table, field_ref, p);
    let rhs = match op {
        Operation::Simple(op, v) => format!("{} {}", simple_operator(*op), transform(field_ref, p.push(v.clone()))),
        Operation::Quant(op, quant, v) => {
            let ph = match op {
                QuantOperator::Like | QuantOperator::ILike => p.push(v.replace('*', "%")),
                _ => transform(field_ref, p.push(v.clone())),
            };
            let rhs = match quant {
                Some(OpQuantifier::Any) => format!("ANY({ph})"),
                Some(OpQuantifier::All) => format!("ALL({ph})"),
                None => ph,
            };
            format!("{} {rhs}", quant_operator(*op))
        }
        Operation::Is(v) => format!(
            "IS {}",
            match v {
                IsVal::Null => "NULL",
                IsVal::NotNull => "NOT NULL",
                IsVal::True => "TRUE",
                IsVal::False => "FALSE",
                IsVal::Unknown => "UNKNOWN",
            }
        ),
        Operation::IsDistinctFrom(v) => format!("IS DISTINCT FROM {}", p.push(v.clone())),
        // = ANY instead of IN: an empty list is valid and the SQL text does not vary with the count
        Operation::In(vals) if vals.len() == 1 && vals[0].is_empty() => "= ANY('{}')".to_string(),
        Operation::In(vals) => match &field_ref.transform {
            // the representation parses each element: map it over the unnested array
            Some(func) => format!("= ANY ((SELECT {func}(unnest({}::text[]))))", p.push(array_literal(vals))),
            None => format!("= ANY ({})", p.push(array_literal(vals))),
        },
        Operation::Fts(op, lang, v) => {
            format!("@@ {}({}{})", fts_function(*op), fts_lang(lang, p), p.push(v.clone()))
        }
    };
    if negated {
        format!("NOT {lhs} {rhs}")
    } else {
        format!("{lhs} {rhs}")
    }
}

pub fn logic_tree(table: &QualifiedIdentifier, t: &CoercibleLogicTree, p: &mut Params) -> String {
    match t {
        CoercibleLogicTree::Stmnt(f) => filter(table, f, p),
        CoercibleLogicTree::Expr(negated, op, children) => {
            let sep = match op {
                LogicOperator::And => " AND ",
                LogicOperator::Or => " OR ",
            };
            let inner: Vec<String> = children.iter().map(|c| logic_tree(table, c, p)).collect();
            format!("{}({})", if *negated { "NOT " } else { "" }, inner.join(sep))
        }
    }
}

pub fn order_term(table: &QualifiedIdentifier, t: &CoercibleOrderTerm, p: &mut Params) -> String {
    let (expr, direction, nulls) = match t {
        CoercibleOrderTerm::Field { field: f, direction, nulls } => (field(table, f, p), direction, nulls),
        CoercibleOrderTerm::Relation { relation, field: (name, path), direction, nulls } => {
            let rel = QualifiedIdentifier { schema: String::new(), name: relation.clone() };
            (field(&rel, &CoercibleField::unknown(name, path), p), direction, nulls)
        }
    };
    let mut out = expr;
    match direction {
        Some(OrderDirection::Asc) => out.push_str(" ASC"),
        Some(OrderDirection::Desc) => out.push_str(" DESC"),
        None => {}
    }
    match nulls {
        Some(OrderNulls::First) => out.push_str(" NULLS FIRST"),
        Some(OrderNulls::Last) => out.push_str(" NULLS LAST"),
        None => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_objects_are_told_from_arrays_by_their_first_byte() {
        assert!(is_json_object(b" \n\t{\"a\": 1}"));
        assert!(!is_json_object(b" [{\"a\": 1}]"));
        assert!(!is_json_object(b""));
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(ident("ab\0c\"d"), "\"ab\"");
        assert_eq!(qi(&QualifiedIdentifier { schema: "test".into(), name: "items".into() }), "\"test\".\"items\"");
    }

    #[test]
    fn array_literals_escape() {
        assert_eq!(array_literal(&["a".into(), "b,c".into(), "d\"e".into()]), r#"{"a","b,c","d\"e"}"#);
    }

    #[test]
    fn values_become_parameters() {
        let t = QualifiedIdentifier { schema: "test".into(), name: "items".into() };
        let f = CoercibleFilter::Filter {
            field: CoercibleField::unknown("id", &vec![]),
            op_expr: OpExpr::Op(true, Operation::Quant(QuantOperator::Like, None, "a*".into())),
        };
        let mut p = Params::default();
        assert_eq!(filter(&t, &f, &mut p), "NOT \"test\".\"items\".\"id\" like $1");
        assert_eq!(p.0, vec![Some(Text::from("a%"))]);
    }
}
