//! The pest parser for `core/query.pest` and one builder per grammar rule.
//!
//! Each builder takes the pair of its rule and returns the typed value of `request::types`;
//! the grammar guarantees the shape of the pairs, so the builders `expect` the children the
//! grammar always produces. Parse failures become PGRST100 errors worded like PostgREST's
//! (`errors.rs`). The recursive builders (select forests, logic trees) carry a depth and stop
//! at `MAX_DEPTH`, so no input can overflow the stack.

use pest::iterators::Pair;
use pest::Parser;
use pest_derive::Parser;

use super::errors::{pest_error, too_deep_error};
use crate::error::Error;
use crate::request::types::*;

#[derive(Parser)]
#[grammar = "../query.pest"]
pub(super) struct QueryGrammar;

/// Deepest nesting of parentheses accepted in `select=` and logic trees.
pub const MAX_DEPTH: usize = 100;

/// Runs one entry rule of the grammar over `input`. `source_name` is the "failed to parse ..."
/// text PostgREST names the parser with; it becomes the error message.
pub(super) fn parse_entry<'i>(rule: Rule, input: &'i str, source_name: &str) -> Result<Pair<'i, Rule>, Error> {
    QueryGrammar::parse(rule, input)
        .map_err(|err| pest_error(source_name, input, &err))?
        .next()
        .ok_or_else(|| Error::query_param(quoted_source(source_name), "unknown parse error"))
}

/// Parsec's `show` of a source position with line and column, for an error found before parsing.
pub(super) fn quoted_source(source_name: &str) -> String {
    format!("\"{source_name}\" (line 1, column 1)")
}

// Helpers over pest pairs -------------------------------------------------------------------

/// The next child, which the grammar guarantees to exist.
fn required<'i>(pairs: &mut impl Iterator<Item = Pair<'i, Rule>>, what: &str) -> Pair<'i, Rule> {
    pairs.next().unwrap_or_else(|| panic!("grammar guarantees {what}"))
}

/// Parses again the text an atomic rule matched, with the non-atomic `rule` that it wraps, to
/// get the pairs the atomic rule does not produce. The text matched before, so it matches again.
fn reparse(rule: Rule, text: &str) -> Pair<'_, Rule> {
    QueryGrammar::parse(rule, text)
        .ok()
        .and_then(|mut pairs| pairs.next())
        .expect("grammar: the text of an atomic rule matches the rule it wraps")
}

/// The first child with the given rule, if any.
fn child<'i>(pair: &Pair<'i, Rule>, rule: Rule) -> Option<Pair<'i, Rule>> {
    pair.clone().into_inner().find(|p| p.as_rule() == rule)
}

/// PostgREST's `T.strip`: trims Haskell's `isSpace` characters at both ends.
fn haskell_strip(s: &str) -> &str {
    s.trim_matches(is_haskell_space)
}

/// `Data.Char.isSpace`: the Latin-1 spaces and the Unicode `Space_Separator` category.
fn is_haskell_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0B' | '\x0C' | '\u{A0}')
        || (c as u32 > 0xFF && matches!(c, '\u{1680}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}'))
}

// Lexical rules -------------------------------------------------------------------------------

/// `quoted_value`: drops the quotes and resolves `\x` to `x`.
pub(super) fn quoted_value(pair: Pair<Rule>) -> String {
    let text = pair.as_str();
    let body = &text[1..text.len() - 1];
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            // The grammar only accepts a backslash followed by a character.
            out.extend(chars.next());
        } else {
            out.push(c);
        }
    }
    out
}

/// `identifier`: the run of identifier characters, trimmed of spaces (`pIdentifier`).
fn identifier(pair: Pair<Rule>) -> String {
    haskell_strip(pair.as_str()).to_string()
}

/// `field_name`: a quoted name, or trimmed identifiers joined by `-` (`pFieldName`).
pub(super) fn field_name(pair: Pair<Rule>) -> FieldName {
    let mut parts = pair.into_inner().peekable();
    if let Some(first) = parts.peek() {
        if first.as_rule() == Rule::quoted_value {
            return quoted_value(required(&mut parts, "a quoted name"));
        }
    }
    parts.filter(|p| p.as_rule() == Rule::identifier).map(identifier).collect::<Vec<_>>().join("-")
}

// Fields and JSON paths ------------------------------------------------------------------------

/// `field`: a name and its JSON path (`pField`).
fn field(pair: Pair<Rule>) -> Field {
    let mut inner = pair.into_inner();
    let name = field_name(required(&mut inner, "a field name"));
    let path = json_path(required(&mut inner, "a json path"));
    (name, path)
}

/// `json_path`: the arrows and their operands (`pJsonPath`).
fn json_path(pair: Pair<Rule>) -> JsonPath {
    pair.into_inner().map(json_operation).collect()
}

/// `json_operation`: `->` or `->>` and an operand.
fn json_operation(pair: Pair<Rule>) -> JsonOperation {
    let mut inner = pair.into_inner();
    let arrow = required(&mut inner, "an arrow");
    let operand = json_operand(required(&mut inner, "a json operand"));
    match arrow.as_rule() {
        Rule::double_arrow => JsonOperation::DoubleArrow(operand),
        _ => JsonOperation::Arrow(operand),
    }
}

/// `json_operand`: an index or a key (`pJsonOperand`).
fn json_operand(pair: Pair<Rule>) -> JsonOperand {
    let operand = required(&mut pair.into_inner(), "an index or a key");
    match operand.as_rule() {
        Rule::json_idx => JsonOperand::Idx(json_idx(operand)),
        _ => JsonOperand::Key(json_key(operand)),
    }
}

/// `json_idx`: the index with an explicit sign, `+1` or `-1`, as PostgREST keeps it (`pJIdx`).
fn json_idx(pair: Pair<Rule>) -> String {
    let text = pair.as_str();
    if text.starts_with('-') {
        text.to_string()
    } else {
        format!("+{text}")
    }
}

/// `json_key`: a quoted key, or trimmed key identifiers joined by `-` (`pJsonKeyName`).
fn json_key(pair: Pair<Rule>) -> String {
    let mut parts = pair.into_inner().peekable();
    if let Some(first) = parts.peek() {
        if first.as_rule() == Rule::quoted_value {
            return quoted_value(required(&mut parts, "a quoted key"));
        }
    }
    parts.filter(|p| p.as_rule() == Rule::json_key_identifier).map(|p| haskell_strip(p.as_str()).to_string()).collect::<Vec<_>>().join("-")
}

// select= ---------------------------------------------------------------------------------------

/// `select_param`: the select list.
pub(super) fn select_param(pair: Pair<Rule>, source_name: &str, input: &str) -> Result<Vec<SelectItem>, Error> {
    let forest = required(&mut pair.into_inner(), "a field forest");
    field_forest(forest, 0, source_name, input)
}

/// `field_forest`: the items of one level (`pFieldForest`).
fn field_forest(pair: Pair<Rule>, depth: usize, source_name: &str, input: &str) -> Result<Vec<SelectItem>, Error> {
    if depth > MAX_DEPTH {
        return Err(too_deep_error(source_name, input, pair.as_span().start()));
    }
    pair.into_inner().filter(|p| p.as_rule() == Rule::field_tree).map(|tree| field_tree(tree, depth, source_name, input)).collect()
}

/// `field_tree`: an embedding with its children, or a field (`pFieldTree`).
fn field_tree(pair: Pair<Rule>, depth: usize, source_name: &str, input: &str) -> Result<SelectItem, Error> {
    let item = required(&mut pair.into_inner(), "a select item");
    match item.as_rule() {
        Rule::spread_relation | Rule::relation => {
            let spread = item.as_rule() == Rule::spread_relation;
            let mut inner = item.into_inner();
            let head = relation_head(required(&mut inner, "a relation head"));
            let children = field_forest(required(&mut inner, "children"), depth + 1, source_name, input)?;
            Ok(if spread {
                SelectItem::Spread { relation: head.relation, hint: head.hint, join_type: head.join_type, children }
            } else {
                SelectItem::Relation { relation: head.relation, alias: head.alias, hint: head.hint, join_type: head.join_type, children }
            })
        }
        _ => Ok(field_select(item)),
    }
}

/// The head of an embedding: what precedes its `(`.
struct RelationHead {
    relation: FieldName,
    alias: Option<Alias>,
    hint: Option<Hint>,
    join_type: Option<JoinType>,
}

/// `relation_select` and `spread_relation_select` (`pRelationSelect`, `pSpreadRelationSelect`).
fn relation_head(pair: Pair<Rule>) -> RelationHead {
    let head_rule = match pair.as_rule() {
        Rule::spread_relation_select => Rule::spread_relation_head,
        _ => Rule::relation_head,
    };
    let mut head = RelationHead { relation: String::new(), alias: None, hint: None, join_type: None };
    for part in reparse(head_rule, pair.as_str()).into_inner() {
        match part.as_rule() {
            Rule::alias => head.alias = Some(alias(part)),
            Rule::field_name => head.relation = field_name(part),
            Rule::embed_params => (head.hint, head.join_type) = embed_params(part),
            _ => {}
        }
    }
    head
}

/// `embed_params`: the first hint and the first join type among up to two `!` params.
fn embed_params(pair: Pair<Rule>) -> (Option<Hint>, Option<JoinType>) {
    let mut hint = None;
    let mut join_type = None;
    for param in pair.into_inner() {
        let value = required(&mut param.into_inner(), "an embed param");
        match value.as_rule() {
            Rule::join_left => {
                join_type.get_or_insert(JoinType::Left);
            }
            Rule::join_inner => {
                join_type.get_or_insert(JoinType::Inner);
            }
            _ => {
                hint.get_or_insert_with(|| field_name(required(&mut value.into_inner(), "a hint name")));
            }
        }
    }
    (hint, join_type)
}

/// `alias`: the name before `:`.
fn alias(pair: Pair<Rule>) -> Alias {
    field_name(required(&mut pair.into_inner(), "an alias name"))
}

/// `field_select`: `*`, `count()` or a column with its cast and aggregate (`pFieldSelect`).
/// `*` and `count()` select the field `*`.
fn field_select(pair: Pair<Rule>) -> SelectItem {
    let item = required(&mut pair.into_inner(), "a field select");
    let mut field_ = ("*".to_string(), vec![]);
    let mut aggregate = (item.as_rule() == Rule::count_select).then_some(AggregateFunction::Count);
    let (mut aggregate_cast, mut cast_, mut alias_) = (None, None, None);
    for part in item.into_inner() {
        match part.as_rule() {
            Rule::alias => alias_ = Some(alias(part)),
            Rule::field => field_ = field(part),
            Rule::cast => cast_ = Some(cast(part)),
            Rule::aggregation => aggregate = Some(aggregation(part)),
            Rule::aggregate_cast => aggregate_cast = Some(cast(part)),
            _ => {}
        }
    }
    SelectItem::Field { field: field_, aggregate, aggregate_cast, cast: cast_, alias: alias_ }
}

/// `cast` and `aggregate_cast`: the type name after `::`.
fn cast(pair: Pair<Rule>) -> Cast {
    identifier(required(&mut pair.into_inner(), "a type name"))
}

/// `aggregation`: `.sum()` and the like (`pAggregation`).
fn aggregation(pair: Pair<Rule>) -> AggregateFunction {
    match required(&mut pair.into_inner(), "an aggregate name").as_str() {
        "sum" => AggregateFunction::Sum,
        "avg" => AggregateFunction::Avg,
        "max" => AggregateFunction::Max,
        "min" => AggregateFunction::Min,
        _ => AggregateFunction::Count,
    }
}

// columns=, on_conflict=, keys -------------------------------------------------------------

/// `columns_param`: the names of `columns=` or `on_conflict=` (`pColumns`).
pub(super) fn columns_param(pair: Pair<Rule>) -> Vec<FieldName> {
    pair.into_inner().filter(|p| p.as_rule() == Rule::field_name).map(field_name).collect()
}

/// `tree_path_param`: the embed path and the field of a key (`pTreePath`).
pub(super) fn tree_path_param(pair: Pair<Rule>) -> (EmbedPath, Field) {
    let mut names = Vec::new();
    let mut path = Vec::new();
    for part in pair.into_inner() {
        match part.as_rule() {
            Rule::field_name => names.push(field_name(part)),
            Rule::json_path => path = json_path(part),
            _ => {}
        }
    }
    let last = names.pop().expect("grammar guarantees one name");
    (names, (last, path))
}

/// `logic_path_param`: the embed path of a logic key and its operator, `not.` prepended when
/// the path holds a `not` (`pLogicPath`).
pub(super) fn logic_path_param(pair: Pair<Rule>) -> (EmbedPath, String) {
    let mut names: Vec<String> = pair.into_inner().filter(|p| p.as_rule() == Rule::field_name).map(field_name).collect();
    let op = names.pop().expect("grammar guarantees one name");
    let negated = op == "not" || names.iter().any(|n| n == "not");
    let path = names.into_iter().filter(|n| n != "not").collect();
    (path, if negated { format!("not.{op}") } else { op })
}

// Filters ---------------------------------------------------------------------------------------

/// `filter_param`: a filter's operator expression.
pub(super) fn filter_param(pair: Pair<Rule>) -> OpExpr {
    op_expr(required(&mut pair.into_inner(), "an operator expression"))
}

/// `op_expr` and `logic_op_expr`: negation, operator and value (`pOpExpr`).
fn op_expr(pair: Pair<Rule>) -> OpExpr {
    let mut negated = false;
    let mut operator = None;
    let mut operation = None;
    for part in pair.into_inner() {
        match part.as_rule() {
            Rule::negation => negated = true,
            Rule::in_operation => operation = Some(Operation::In(list_val(last_child(part)))),
            Rule::is_operation => operation = Some(Operation::Is(is_val(last_child(part)))),
            Rule::value_operator => operator = Some(part),
            Rule::single_val => operation = operator.take().map(|op| value_operation(op, part.as_str().to_string())),
            Rule::logic_single_val => operation = operator.take().map(|op| value_operation(op, logic_single_val(part))),
            _ => {}
        }
    }
    OpExpr::Op(negated, operation.expect("grammar guarantees an operation"))
}

/// The last child of a pair, which the grammar guarantees.
fn last_child(pair: Pair<Rule>) -> Pair<Rule> {
    pair.into_inner().last().expect("grammar guarantees a value")
}

/// `value_operator` applied to its value: isdistinct, fts, simple and quantified operators.
/// `*` in like/ilike values means `%` (PostgREST maps it when building SQL; doing it here too is
/// harmless since the mapping is idempotent).
fn value_operation(pair: Pair<Rule>, value: String) -> Operation {
    let operator = required(&mut pair.into_inner(), "an operator");
    match operator.as_rule() {
        Rule::isdistinct_operator => Operation::IsDistinctFrom(value),
        Rule::fts_operator => {
            let name = child(&operator, Rule::fts_name).expect("grammar guarantees an fts name");
            let language = child(&operator, Rule::fts_language).map(|lang| identifier(required(&mut lang.into_inner(), "a language")));
            Operation::Fts(fts_name(name), language, value)
        }
        Rule::simple_operator => {
            let name = child(&operator, Rule::simple_operator_name).expect("grammar guarantees a name");
            Operation::Simple(simple_operator_name(name), value)
        }
        _ => {
            let name = child(&operator, Rule::quant_operator_name).expect("grammar guarantees a name");
            let quantifier = child(&operator, Rule::quantifier).map(quantifier);
            quant_operation(quant_operator_name(name), quantifier, value)
        }
    }
}

fn fts_name(pair: Pair<Rule>) -> FtsOperator {
    match pair.as_str() {
        "plfts" => FtsOperator::Plain,
        "phfts" => FtsOperator::Phrase,
        "wfts" => FtsOperator::Websearch,
        _ => FtsOperator::Fts,
    }
}

fn simple_operator_name(pair: Pair<Rule>) -> SimpleOperator {
    simple_operator(pair.as_str()).expect("grammar guarantees a simple operator's name")
}

fn quant_operator_name(pair: Pair<Rule>) -> QuantOperator {
    quant_operator(pair.as_str()).expect("grammar guarantees a quantifiable operator's name")
}

/// The operators of `simple_operator_name`, by name.
fn simple_operator(name: &str) -> Option<SimpleOperator> {
    Some(match name {
        "neq" => SimpleOperator::NotEqual,
        "cs" => SimpleOperator::Contains,
        "cd" => SimpleOperator::Contained,
        "ov" => SimpleOperator::Overlap,
        "sl" => SimpleOperator::StrictlyLeft,
        "sr" => SimpleOperator::StrictlyRight,
        "nxr" => SimpleOperator::NotExtendsRight,
        "nxl" => SimpleOperator::NotExtendsLeft,
        "adj" => SimpleOperator::Adjacent,
        _ => return None,
    })
}

/// The operators of `quant_operator_name`, by name.
fn quant_operator(name: &str) -> Option<QuantOperator> {
    Some(match name {
        "eq" => QuantOperator::Equal,
        "gte" => QuantOperator::GreaterThanEqual,
        "gt" => QuantOperator::GreaterThan,
        "lte" => QuantOperator::LessThanEqual,
        "lt" => QuantOperator::LessThan,
        "like" => QuantOperator::Like,
        "ilike" => QuantOperator::ILike,
        "match" => QuantOperator::Match,
        "imatch" => QuantOperator::IMatch,
        _ => return None,
    })
}

/// A quantifiable operation; `like` patterns take `*` for `%`.
fn quant_operation(op: QuantOperator, quantifier: Option<OpQuantifier>, value: String) -> Operation {
    let value = match op {
        QuantOperator::Like | QuantOperator::ILike => value.replace('*', "%"),
        _ => value,
    };
    Operation::Quant(op, quantifier, value)
}

// Shortcuts for the common forms -----------------------------------------------------------------
//
// Most keys are a column's name, most values `eq.1`, most selects a list of names and most
// orders a column: pest took 8% of the front's CPU on the first two under `pk`. These give what
// the grammar gives for those forms (tests.rs compares the two) and `None` for anything else,
// which the grammar then parses.

/// `tree_path_param` of a key made only of ASCII letters, digits, `_` and `$`: one
/// identifier, so no embed path, no JSON path, and nothing to trim.
pub(super) fn plain_tree_path(key: &str) -> Option<(EmbedPath, Field)> {
    let plain = !key.is_empty() && key.bytes().all(is_plain_byte);
    plain.then(|| (vec![], (key.to_string(), vec![])))
}

/// A byte of a plain name: one identifier with nothing to trim.
fn is_plain_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$'
}

/// `select_param` whose items are all `*`, a plain column name, or a plain relation name (not
/// `count`, which is no relation) with such items in parentheses: `*,categories(*)` took pest
/// 14% of the front's CPU under `embed`. No alias, hint, cast, JSON path, spread or space.
pub(super) fn plain_select(value: &str) -> Option<Vec<SelectItem>> {
    match plain_forest(value, 0)? {
        (items, "") => Some(items),
        _ => None,
    }
}

/// The plain items of one level and what follows them.
fn plain_forest(input: &str, depth: usize) -> Option<(Vec<SelectItem>, &str)> {
    if depth > MAX_DEPTH {
        return None;
    }
    let mut items = vec![];
    let mut rest = input;
    loop {
        let (item, after) = if let Some(after) = rest.strip_prefix('*') {
            (plain_field("*"), after)
        } else {
            let (name, after) = rest.split_at(rest.bytes().take_while(|b| is_plain_byte(*b)).count());
            match after.strip_prefix('(') {
                None if !name.is_empty() => (plain_field(name), after),
                Some(inner) if !name.is_empty() && name != "count" => {
                    let (children, after) = plain_forest(inner, depth + 1)?;
                    let relation = SelectItem::Relation { relation: name.to_string(), alias: None, hint: None, join_type: None, children };
                    (relation, after.strip_prefix(')')?)
                }
                _ => return None,
            }
        };
        items.push(item);
        match after.strip_prefix(',') {
            Some(next) => rest = next,
            // the caller checks what follows: the end, or a `)`
            None => return Some((items, after)),
        }
    }
}

/// `order_param` whose terms are all a plain column name with an optional `.asc` or `.desc`
/// and an optional `.nullsfirst` or `.nullslast` (pest took 8% of the front under `page`).
pub(super) fn plain_order(value: &str) -> Option<Vec<OrderTerm>> {
    value.split(',').map(plain_order_term).collect()
}

fn plain_order_term(term: &str) -> Option<OrderTerm> {
    let mut parts = term.split('.').peekable();
    let name = parts.next().filter(|n| !n.is_empty() && n.bytes().all(is_plain_byte))?;
    let direction = parts.next_if(|p| matches!(*p, "asc" | "desc")).map(|p| match p {
        "desc" => OrderDirection::Desc,
        _ => OrderDirection::Asc,
    });
    let nulls = match parts.next() {
        None => None,
        Some("nullsfirst") => Some(OrderNulls::First),
        Some("nullslast") => Some(OrderNulls::Last),
        Some(_) => return None,
    };
    parts.next().is_none().then(|| OrderTerm::Field { field: (name.to_string(), vec![]), direction, nulls })
}

fn plain_field(name: &str) -> SelectItem {
    SelectItem::Field { field: (name.to_string(), vec![]), aggregate: None, aggregate_cast: None, cast: None, alias: None }
}

/// `filter_param` of `op.value` where `op` is a simple or quantifiable operator's name with
/// no quantifier and no `not.`: no other alternative of `op_expr` starts with such a name
/// followed by `.`, and `single_val` takes the rest whatever it is.
pub(super) fn plain_filter(value: &str) -> Option<OpExpr> {
    let (name, rest) = value.split_once('.')?;
    let operation = match (simple_operator(name), quant_operator(name)) {
        (Some(op), _) => Operation::Simple(op, rest.to_string()),
        (None, Some(op)) => quant_operation(op, None, rest.to_string()),
        (None, None) => return None,
    };
    Some(OpExpr::Op(false, operation))
}

/// `quantifier`: `(any)` or `(all)`.
fn quantifier(pair: Pair<Rule>) -> OpQuantifier {
    match required(&mut pair.into_inner(), "any or all").as_rule() {
        Rule::quantifier_all => OpQuantifier::All,
        _ => OpQuantifier::Any,
    }
}

/// `is_val`, case-insensitive (`pIsVal`).
fn is_val(pair: Pair<Rule>) -> IsVal {
    match pair.as_str().to_ascii_lowercase().as_str() {
        "null" => IsVal::Null,
        "not_null" => IsVal::NotNull,
        "true" => IsVal::True,
        "false" => IsVal::False,
        _ => IsVal::Unknown,
    }
}

/// `list_val`: the elements of `(a,"b,c")` (`pListVal`).
fn list_val(pair: Pair<Rule>) -> Vec<String> {
    pair.into_inner().map(list_element).collect()
}

/// `list_element` and `logic_single_val`: a quoted value unquoted, anything else as written.
fn list_element(pair: Pair<Rule>) -> String {
    let value = required(&mut pair.into_inner(), "an element");
    match value.as_rule() {
        Rule::quoted_value => quoted_value(value),
        _ => value.as_str().to_string(),
    }
}

/// `logic_single_val` (`pLogicSingleVal`).
fn logic_single_val(pair: Pair<Rule>) -> String {
    list_element(pair)
}

// Logic trees -----------------------------------------------------------------------------------

/// `logic_tree_param`: the tree of an `and`/`or` parameter.
pub(super) fn logic_tree_param(pair: Pair<Rule>, source_name: &str, input: &str) -> Result<LogicTree, Error> {
    logic_tree(required(&mut pair.into_inner(), "a logic tree"), 0, source_name, input)
}

/// `logic_tree`: a filter or a nested expression (`pLogicTree`).
fn logic_tree(pair: Pair<Rule>, depth: usize, source_name: &str, input: &str) -> Result<LogicTree, Error> {
    if depth > MAX_DEPTH {
        return Err(too_deep_error(source_name, input, pair.as_span().start()));
    }
    let node = required(&mut pair.into_inner(), "a filter or an expression");
    if node.as_rule() == Rule::logic_filter {
        let mut inner = node.into_inner();
        let field = field(required(&mut inner, "a field"));
        let op_expr = op_expr(inner.find(|p| p.as_rule() == Rule::logic_op_expr).expect("grammar guarantees an operator"));
        return Ok(LogicTree::Stmnt(Filter { field, op_expr }));
    }
    let mut negated = false;
    let mut operator = LogicOperator::And;
    let mut children = Vec::new();
    for part in node.into_inner() {
        match part.as_rule() {
            Rule::logic_negation => negated = true,
            Rule::logic_operator => operator = if part.as_str() == "or" { LogicOperator::Or } else { LogicOperator::And },
            Rule::logic_tree => children.push(logic_tree(part, depth + 1, source_name, input)?),
            _ => {}
        }
    }
    Ok(LogicTree::Expr(negated, operator, children))
}

// order= ----------------------------------------------------------------------------------------

/// `order_param`: the terms of `order=` (`pOrder`).
pub(super) fn order_param(pair: Pair<Rule>) -> Vec<OrderTerm> {
    pair.into_inner().filter(|p| p.as_rule() == Rule::order_term).map(order_term).collect()
}

/// `order_term`: a field term or a relation term.
fn order_term(pair: Pair<Rule>) -> OrderTerm {
    let mut term = required(&mut pair.into_inner(), "an order term");
    let is_relation = term.as_rule() == Rule::order_relation_term;
    if is_relation {
        term = reparse(Rule::order_relation_term_body, term.as_str());
    }
    let mut relation = None;
    let mut fld = None;
    let mut direction = None;
    let mut nulls = None;
    for part in term.into_inner() {
        match part.as_rule() {
            Rule::field_name => relation = Some(field_name(part)),
            Rule::field => fld = Some(field(part)),
            Rule::order_direction => direction = Some(order_direction(part)),
            Rule::order_nulls => nulls = Some(order_nulls(part)),
            _ => {}
        }
    }
    let field = fld.expect("grammar guarantees a field");
    match relation {
        Some(relation) if is_relation => OrderTerm::Relation { relation, field, direction, nulls },
        _ => OrderTerm::Field { field, direction, nulls },
    }
}

/// `order_direction`: `.asc` or `.desc` (`pOrdDir`).
fn order_direction(pair: Pair<Rule>) -> OrderDirection {
    match child(&pair, Rule::order_desc) {
        Some(_) => OrderDirection::Desc,
        None => OrderDirection::Asc,
    }
}

/// `order_nulls`: `.nullsfirst` or `.nullslast` (`pNulls`).
fn order_nulls(pair: Pair<Rule>) -> OrderNulls {
    match child(&pair, Rule::nulls_last) {
        Some(_) => OrderNulls::Last,
        None => OrderNulls::First,
    }
}
