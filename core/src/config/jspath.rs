//! `jwt-role-claim-key`: where in the claims the role is (PostgREST's `Config/JSPath.hs` and
//! `Config/DeprecatedJSPath.hs`), parsed by the grammar `role_claim.pest`.
//!
//! PostgREST reads the key as an RFC 9535 JSONPath query (`$.realm_access.roles[0]`,
//! `$["https://x.com/role"]`, `$.roles[?@ == "admin"]`) and takes the first node it selects.
//! A key that is not a query is read in the *legacy* syntax of PostgREST v14 and before
//! (`.role`, `."https://x.com/role"`, `.roles[0]`, one final `[?(@ ^== "pre")]` filter):
//! PostgREST deprecated it but still accepts it, so that configurations written for older
//! versions keep working.
//!
//! One function per grammar rule builds the typed value. Each returns `None` for what the
//! grammar accepts but has no value (an integer beyond `i64`, a number beyond `f64`), which
//! fails the parse like a syntax error.

use pest::iterators::Pair;
use pest::Parser;
use pest_derive::Parser;
use serde_json::Value;

#[derive(Parser)]
#[grammar = "config/role_claim.pest"]
struct RoleClaimGrammar;

/// Deepest nesting of brackets and parentheses accepted: filters and their rules recurse.
pub const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone, PartialEq)]
pub enum RoleClaimKey {
    Query(Vec<Segment>),
    Legacy(Vec<LegacyStep>),
}

impl RoleClaimKey {
    pub fn parse(key: &str) -> Result<RoleClaimKey, String> {
        let error = || format!("postgrest.jwt_role_claim_key: failed to parse role-claim-key value ({key})");
        if nesting_depth(key) > MAX_DEPTH {
            return Err(format!("{}: brackets and parentheses nest deeper than {MAX_DEPTH} levels", error()));
        }
        let pair = RoleClaimGrammar::parse(Rule::role_claim_key, key).ok().and_then(|mut pairs| pairs.next()).ok_or_else(error)?;
        role_claim_key(pair).ok_or_else(error)
    }

    /// The first value the key selects in `claims`.
    pub fn evaluate(&self, claims: &Value) -> Option<Value> {
        match self {
            RoleClaimKey::Query(segments) => select(segments, claims, claims).first().map(|v| (*v).clone()),
            RoleClaimKey::Legacy(steps) => evaluate_legacy(steps, claims).cloned(),
        }
    }
}

/// The deepest nesting of `(` and `[` outside quotes, counted before the recursive rules run.
fn nesting_depth(key: &str) -> usize {
    let (mut depth, mut deepest, mut quote, mut escaped) = (0usize, 0, None, false);
    for c in key.chars() {
        match (quote, c) {
            (Some(_), _) if escaped => escaped = false,
            (Some(_), '\\') => escaped = true,
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '(' | '[') => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            (None, ')' | ']') => depth = depth.saturating_sub(1),
            (None, _) => {}
        }
    }
    deepest
}

// ---- RFC 9535

#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// `..`: the selectors apply to the node and all its descendants
    descendant: bool,
    selectors: Vec<Selector>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Selector {
    Name(String),
    Wildcard,
    Index(i64),
    Slice(Option<i64>, Option<i64>, Option<i64>),
    Filter(Logical),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Logical {
    Or(Vec<Logical>),
    And(Vec<Logical>),
    Not(Box<Logical>),
    /// a query in a filter: true when it selects something
    Exists(FilterQuery),
    Compare(Comparable, CmpOp, Comparable),
}

#[derive(Debug, Clone, PartialEq)]
pub struct FilterQuery {
    /// `@` (the current node) rather than `$` (the root)
    relative: bool,
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Comparable {
    Literal(Value),
    Query(FilterQuery),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// `role_claim_key`: a query, else a legacy key.
fn role_claim_key(pair: Pair<Rule>) -> Option<RoleClaimKey> {
    let key = pair.into_inner().next()?;
    match key.as_rule() {
        Rule::jsonpath_query => jsonpath_query(key).map(RoleClaimKey::Query),
        _ => legacy_path(key).map(RoleClaimKey::Legacy),
    }
}

/// `jsonpath_query` (and `rel_query`): the segments after `$` (`@`).
fn jsonpath_query(pair: Pair<Rule>) -> Option<Vec<Segment>> {
    pair.into_inner().map(segment).collect()
}

/// `child_segment` and `descendant_segment`: the selectors in brackets, or the one after the dot.
fn segment(pair: Pair<Rule>) -> Option<Segment> {
    let descendant = pair.as_rule() == Rule::descendant_segment;
    Some(Segment { descendant, selectors: pair.into_inner().map(selector).collect::<Option<_>>()? })
}

/// `selector`, of any kind (`member_name_shorthand` is a name selector).
fn selector(pair: Pair<Rule>) -> Option<Selector> {
    Some(match pair.as_rule() {
        Rule::member_name_shorthand => Selector::Name(pair.as_str().to_string()),
        Rule::name_selector => Selector::Name(string_literal(pair)?),
        Rule::wildcard_selector => Selector::Wildcard,
        Rule::index_selector => Selector::Index(int(pair)?),
        Rule::slice_selector => slice_selector(pair)?,
        _ => Selector::Filter(logical_or_expr(pair.into_inner().next()?)?),
    })
}

/// `slice_selector`: its start, end and step, where given.
fn slice_selector(pair: Pair<Rule>) -> Option<Selector> {
    let (mut start, mut end, mut step) = (None, None, None);
    for part in pair.into_inner() {
        let place = match part.as_rule() {
            Rule::slice_start => &mut start,
            Rule::slice_end => &mut end,
            _ => &mut step,
        };
        *place = Some(int(part)?);
    }
    Some(Selector::Slice(start, end, step))
}

/// `int` (and the selectors that are one): `None` beyond `i64`.
fn int(pair: Pair<Rule>) -> Option<i64> {
    pair.as_str().parse().ok()
}

/// `logical_or_expr`: its `&&` operands.
fn logical_or_expr(pair: Pair<Rule>) -> Option<Logical> {
    pair.into_inner().map(logical_and_expr).collect::<Option<_>>().map(Logical::Or)
}

/// `logical_and_expr`: its basic expressions.
fn logical_and_expr(pair: Pair<Rule>) -> Option<Logical> {
    pair.into_inner().map(basic_expr).collect::<Option<_>>().map(Logical::And)
}

/// `basic_expr`: `paren_expr`, `test_expr` (negated) or `comparison_expr` (a test without operator).
fn basic_expr(pair: Pair<Rule>) -> Option<Logical> {
    let rule = pair.as_rule();
    let mut inner = pair.into_inner().peekable();
    let negated = inner.next_if(|p| p.as_rule() == Rule::logical_not_op).is_some();
    let expr = match rule {
        Rule::paren_expr => logical_or_expr(inner.next()?)?,
        Rule::test_expr => Logical::Exists(filter_query(inner.next()?)?),
        _ => {
            let left = inner.next()?;
            match inner.next() {
                Some(op) => Logical::Compare(comparable(left)?, comparison_op(op)?, comparable(inner.next()?)?),
                None => Logical::Exists(filter_query(left)?),
            }
        }
    };
    Some(if negated { Logical::Not(Box::new(expr)) } else { expr })
}

/// `filter_query`: `rel_query` from the current node, or `jsonpath_query` from the root.
fn filter_query(pair: Pair<Rule>) -> Option<FilterQuery> {
    Some(FilterQuery { relative: pair.as_rule() == Rule::rel_query, segments: jsonpath_query(pair)? })
}

/// `comparison_op`.
fn comparison_op(pair: Pair<Rule>) -> Option<CmpOp> {
    let ops = [("==", CmpOp::Eq), ("!=", CmpOp::Ne), ("<", CmpOp::Lt), ("<=", CmpOp::Le), (">", CmpOp::Gt), (">=", CmpOp::Ge)];
    ops.into_iter().find_map(|(text, op)| (text == pair.as_str()).then_some(op))
}

/// `comparable`: a literal or a filter query.
fn comparable(pair: Pair<Rule>) -> Option<Comparable> {
    match pair.as_rule() {
        Rule::literal => literal(pair).map(Comparable::Literal),
        _ => filter_query(pair).map(Comparable::Query),
    }
}

/// `literal`: a string, or a number, `true`, `false` or `null` in JSON's syntax.
fn literal(pair: Pair<Rule>) -> Option<Value> {
    match pair.clone().into_inner().next() {
        Some(s) if s.as_rule() == Rule::string_literal => string_literal(s).map(Value::String),
        _ => serde_json::from_str(pair.as_str()).ok(),
    }
}

/// `string_literal` (and `name_selector`): the text, escapes resolved. They are JSON's, and `\'`
/// in single quotes, so serde_json decodes the string once it is rewritten in double quotes.
fn string_literal(pair: Pair<Rule>) -> Option<String> {
    let text = pair.as_str();
    let Some(body) = text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')) else {
        return serde_json::from_str(text).ok();
    };
    let mut json = String::from("\"");
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                '\'' => json.push('\''),
                e => json.extend(['\\', e]),
            },
            '"' => json.push_str("\\\""),
            c => json.push(c),
        }
    }
    json.push('"');
    serde_json::from_str(&json).ok()
}

/// The nodes `segments` select from `node` (`root` for `$` inside filters).
fn select<'a>(segments: &[Segment], root: &'a Value, node: &'a Value) -> Vec<&'a Value> {
    segments.iter().fold(vec![node], |nodes, segment| {
        let mut next = vec![];
        for n in nodes {
            if segment.descendant {
                descend(&segment.selectors, root, n, &mut next)
            } else {
                apply(&segment.selectors, root, n, &mut next)
            }
        }
        next
    })
}

fn descend<'a>(sels: &[Selector], root: &'a Value, node: &'a Value, out: &mut Vec<&'a Value>) {
    apply(sels, root, node, out);
    match node {
        Value::Array(items) => items.iter().for_each(|c| descend(sels, root, c, out)),
        Value::Object(map) => map.values().for_each(|c| descend(sels, root, c, out)),
        _ => {}
    }
}

fn apply<'a>(sels: &[Selector], root: &'a Value, node: &'a Value, out: &mut Vec<&'a Value>) {
    for sel in sels {
        match (sel, node) {
            (Selector::Name(n), Value::Object(map)) => out.extend(map.get(n)),
            (Selector::Wildcard, Value::Object(map)) => out.extend(map.values()),
            (Selector::Wildcard, Value::Array(items)) => out.extend(items.iter()),
            (Selector::Index(i), Value::Array(items)) => {
                let i = if *i < 0 { items.len() as i64 + i } else { *i };
                out.extend(usize::try_from(i).ok().and_then(|i| items.get(i)))
            }
            (Selector::Slice(start, end, step), Value::Array(items)) => {
                out.extend(slice(items.len() as i64, *start, *end, step.unwrap_or(1)).into_iter().filter_map(|i| items.get(i)))
            }
            (Selector::Filter(f), Value::Array(items)) => out.extend(items.iter().filter(|c| test(f, root, c))),
            (Selector::Filter(f), Value::Object(map)) => out.extend(map.values().filter(|c| test(f, root, c))),
            _ => {}
        }
    }
}

/// The indexes of an RFC 9535 slice of `len` elements.
fn slice(len: i64, start: Option<i64>, end: Option<i64>, step: i64) -> Vec<usize> {
    let norm = |i: i64| if i >= 0 { i } else { len + i };
    let (mut i, bound) = if step >= 0 {
        (norm(start.unwrap_or(0)).clamp(0, len), norm(end.unwrap_or(len)).clamp(0, len))
    } else {
        (norm(start.unwrap_or(len - 1)).clamp(-1, len - 1), end.map_or(-1, |e| norm(e).clamp(-1, len - 1)))
    };
    let mut out = vec![];
    while (step > 0 && i < bound) || (step < 0 && i > bound) {
        out.push(i as usize);
        i = i.saturating_add(step);
    }
    out
}

fn test<'a>(f: &'a Logical, root: &'a Value, node: &'a Value) -> bool {
    match f {
        Logical::Or(items) => items.iter().any(|l| test(l, root, node)),
        Logical::And(items) => items.iter().all(|l| test(l, root, node)),
        Logical::Not(l) => !test(l, root, node),
        Logical::Exists(q) => !run(q, root, node).is_empty(),
        Logical::Compare(a, op, b) => {
            // a query compares by its node, and as "nothing" when it selects none or several
            let value = |c: &'a Comparable| match c {
                Comparable::Literal(v) => Some(v),
                Comparable::Query(q) => match run(q, root, node).as_slice() {
                    [v] => Some(*v),
                    _ => None,
                },
            };
            compare(value(a), *op, value(b))
        }
    }
}

fn run<'a>(q: &FilterQuery, root: &'a Value, node: &'a Value) -> Vec<&'a Value> {
    select(&q.segments, root, if q.relative { node } else { root })
}

/// RFC 9535 comparison: "nothing" equals only "nothing"; `<` is defined on numbers and strings.
fn compare(a: Option<&Value>, op: CmpOp, b: Option<&Value>) -> bool {
    let eq = match (a, b) {
        (Some(Value::Number(x)), Some(Value::Number(y))) => x.as_f64() == y.as_f64(),
        _ => a == b,
    };
    let lt = |a: Option<&Value>, b: Option<&Value>| match (a, b) {
        (Some(Value::Number(x)), Some(Value::Number(y))) => x.as_f64() < y.as_f64(),
        (Some(Value::String(x)), Some(Value::String(y))) => x < y,
        _ => false,
    };
    match op {
        CmpOp::Eq => eq,
        CmpOp::Ne => !eq,
        CmpOp::Lt => lt(a, b),
        CmpOp::Le => lt(a, b) || eq,
        CmpOp::Gt => lt(b, a),
        CmpOp::Ge => lt(b, a) || eq,
    }
}

// ---- Legacy syntax

#[derive(Debug, Clone, PartialEq)]
pub enum LegacyStep {
    Key(String),
    Index(usize),
    Filter(LegacyOp, String),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LegacyOp {
    Equals,
    NotEquals,
    StartsWith,
    EndsWith,
    Contains,
}

/// `legacy_path`: its keys, indexes and filter.
fn legacy_path(pair: Pair<Rule>) -> Option<Vec<LegacyStep>> {
    pair.into_inner().map(legacy_step).collect()
}

/// `legacy_key`, `legacy_index` or `legacy_filter`.
fn legacy_step(pair: Pair<Rule>) -> Option<LegacyStep> {
    let rule = pair.as_rule();
    let mut inner = pair.into_inner();
    let first = inner.next()?;
    Some(match rule {
        Rule::legacy_key => LegacyStep::Key(first.as_str().to_string()),
        Rule::legacy_index => LegacyStep::Index(first.as_str().parse().ok()?),
        _ => LegacyStep::Filter(legacy_op(first)?, inner.next()?.as_str().to_string()),
    })
}

/// `legacy_op`.
fn legacy_op(pair: Pair<Rule>) -> Option<LegacyOp> {
    let ops = [
        ("==", LegacyOp::Equals),
        ("!=", LegacyOp::NotEquals),
        ("^==", LegacyOp::StartsWith),
        ("==^", LegacyOp::EndsWith),
        ("*==", LegacyOp::Contains),
    ];
    ops.into_iter().find_map(|(text, op)| (text == pair.as_str()).then_some(op))
}

/// The value legacy steps select, as PostgREST's `evaluateDeprecatedJSPath`: a filter picks the
/// first string of an array that matches.
fn evaluate_legacy<'a>(steps: &[LegacyStep], value: &'a Value) -> Option<&'a Value> {
    steps.iter().try_fold(value, |v, step| match (step, v) {
        (LegacyStep::Key(k), Value::Object(map)) => map.get(k),
        (LegacyStep::Index(i), Value::Array(items)) => items.get(*i),
        (LegacyStep::Filter(op, pattern), Value::Array(items)) => items.iter().find(|item| {
            item.as_str().is_some_and(|s| match op {
                LegacyOp::Equals => s == pattern,
                LegacyOp::NotEquals => s != pattern,
                LegacyOp::StartsWith => s.starts_with(pattern.as_str()),
                LegacyOp::EndsWith => s.ends_with(pattern.as_str()),
                LegacyOp::Contains => s.contains(pattern.as_str()),
            })
        }),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims() -> Value {
        json!({
            "role": "top",
            "realm_access": {"roles": ["first", "second"], "level": 3},
            "https://x.com/role": "namespaced",
            "roles": ["pre_a", "b_post", "other"],
            "users": [{"name": "a", "level": 1, "admin": true}, {"name": "b", "level": 5}],
            "é": "accent",
            "it's": "quote",
            "😀": "emoji",
        })
    }

    /// Each key parses and selects the value (`None`: nothing) from `claims()`.
    fn selects(cases: &[(&str, Option<Value>)]) {
        for (key, expected) in cases {
            let parsed = RoleClaimKey::parse(key).unwrap_or_else(|e| panic!("{key}: {e}"));
            assert_eq!(&parsed.evaluate(&claims()), expected, "{key}");
        }
    }

    fn rejects(keys: &[&str]) {
        for key in keys {
            let error = format!("postgrest.jwt_role_claim_key: failed to parse role-claim-key value ({key})");
            assert_eq!(RoleClaimKey::parse(key), Err(error), "{key}");
        }
    }

    #[test]
    fn role_claim_key() {
        selects(&[("$.role", Some(json!("top"))), (".role", Some(json!("top")))]);
        rejects(&["", "role", "$.role ", " $.role", "$.role.", ".role ", "..", ".roles[?(@ == \"a\")].x"]);
    }

    #[test]
    fn jsonpath_query_and_segments() {
        selects(&[
            ("$.realm_access.roles[0]", Some(json!("first"))),
            ("$ .realm_access\t.roles\n[ 1 ]", Some(json!("second"))),
            ("$.missing.deeper", None),
        ]);
        assert_eq!(RoleClaimKey::parse("$").map(|k| k.evaluate(&claims())), Ok(Some(claims())));
        rejects(&["$.", "$..", "$.role.", "$[", "$[]", "$['role'"]);
    }

    #[test]
    fn child_and_descendant_segments() {
        selects(&[
            ("$['role']", Some(json!("top"))),
            ("$.roles.*", Some(json!("pre_a"))),
            ("$..roles[0]", Some(json!("pre_a"))),
            ("$..level", Some(json!(3))),
            ("$.users..*", Some(json!({"name": "a", "level": 1, "admin": true}))),
            ("$..['name']", Some(json!("a"))),
        ]);
        rejects(&["$. role", "$.. role", "$...role", "$..", "$.[0]"]);
    }

    #[test]
    fn bracketed_selection() {
        selects(&[("$.roles[2, 0]", Some(json!("other"))), ("$.roles[ 5,1 ]", Some(json!("b_post")))]);
        rejects(&["$.roles[0,]", "$.roles[,0]", "$.roles[0 1]"]);
    }

    #[test]
    fn member_name_shorthand() {
        selects(&[("$.é", Some(json!("accent"))), ("$.😀", Some(json!("emoji"))), ("$._x1", None)]);
        rejects(&["$.1a", "$.a-b", "$.$a", "$.it's"]);
    }

    #[test]
    fn name_selector_and_string_literal() {
        selects(&[
            (r#"$["https://x.com/role"]"#, Some(json!("namespaced"))),
            (r#"$['https://x.com/role']"#, Some(json!("namespaced"))),
            (r#"$["it's"]"#, Some(json!("quote"))),
            (r#"$['it\'s']"#, Some(json!("quote"))),
            (r#"$['it\u0027s']"#, Some(json!("quote"))),
            (r#"$["\u00e9"]"#, Some(json!("accent"))),
            (r#"$['\u00E9']"#, Some(json!("accent"))),
            (r#"$["\uD83D\uDE00"]"#, Some(json!("emoji"))),
            (r#"$['a"b']"#, None),
            (r#"$['\b\f\n\r\t\/\\']"#, None),
        ]);
        rejects(&[
            r#"$["it\'s"]"#,
            r#"$['a\x']"#,
            r#"$['\uD83D']"#,
            r#"$['\uDE00']"#,
            r#"$['\u00e']"#,
            r#"$['\u+0e9']"#,
            "$['a\tb']",
            "$['a]",
        ]);
    }

    #[test]
    fn index_and_slice_selectors() {
        selects(&[
            ("$.roles[-1]", Some(json!("other"))),
            ("$.roles[3]", None),
            ("$.roles[*]", Some(json!("pre_a"))),
            ("$.roles[1:]", Some(json!("b_post"))),
            ("$.roles[ 1 : 3 : 1 ]", Some(json!("b_post"))),
            ("$.roles[::-1]", Some(json!("other"))),
            ("$.roles[5:0:-2]", Some(json!("other"))),
            ("$.roles[:-3]", None),
            ("$.roles[::0]", None),
            ("$.roles[-9223372036854775808:]", Some(json!("pre_a"))),
        ]);
        rejects(&["$.roles[01]", "$.roles[-0]", "$.roles[+1]", "$.roles[1.0]", "$.roles[99999999999999999999]", "$.roles[1:2:3:4]"]);
    }

    #[test]
    fn filter_selector_and_logical_expressions() {
        selects(&[
            ("$.roles[?@ == 'other']", Some(json!("other"))),
            ("$.roles[? @=='other']", Some(json!("other"))),
            ("$.users[?@.admin].name", Some(json!("a"))),
            ("$.users[?@.level == 9 || @.name == 'b'].name", Some(json!("b"))),
            ("$.users[?@.level > 0 && !@.admin].name", Some(json!("b"))),
            ("$.users[?!(@.admin || @.level < 2)].name", Some(json!("b"))),
            ("$.users[?( @.level == 1 )].name", Some(json!("a"))),
            ("$.users[?! ( @.admin )].name", Some(json!("b"))),
            ("$.users[?(@.level == 1 || @.level == 5) && @.name == 'b'].name", Some(json!("b"))),
            ("$.users[?$.role].name", Some(json!("a"))),
            ("$.users[?$.missing].name", None),
            ("$.realm_access[?@[?@ == 'second']]", Some(json!(["first", "second"]))),
        ]);
        rejects(&[
            "$.roles[?]",
            "$.roles[?'a']",
            "$.roles[?!'a']",
            "$.roles[?@ ==]",
            "$.roles[?(@]",
            "$.roles[?!!@]",
            "$.roles[?@ = 'a']",
            "$.roles[?@ === 'a']",
        ]);
    }

    #[test]
    fn comparisons() {
        selects(&[
            ("$.users[?@.level >= 5].name", Some(json!("b"))),
            ("$.users[?5 <= @.level].name", Some(json!("b"))),
            ("$.users[?@.level<5].name", Some(json!("a"))),
            ("$.users[?@.level != 1].name", Some(json!("b"))),
            ("$.users[?@.level == 5.0].name", Some(json!("b"))),
            ("$.users[?@.level > -0.5e+3].name", Some(json!("a"))),
            ("$.roles[?@ < 'c']", Some(json!("b_post"))),
            ("$.users[?@.admin == true].name", Some(json!("a"))),
            ("$.users[?@.admin != false].name", Some(json!("a"))),
            // "nothing" (a missing member) is not null, and differs from everything else
            ("$.users[?@.admin == null].name", None),
            ("$.users[?@.admin != 'x'].name", Some(json!("a"))),
            // a query that selects several nodes compares as "nothing"
            ("$.users[?@.* == 'a'].name", None),
            ("$.users[?@.level == $.realm_access.level].name", None),
            ("$.users[?@.level < $.realm_access.level].name", Some(json!("a"))),
        ]);
        rejects(&["$[?@ == True]", "$[?@ == 01]", "$[?@ == 1.]", "$[?@ == .5]", "$[?@ == +1]", "$[?@ == 1e400]", "$[?@ == 'a' 'b']"]);
    }

    #[test]
    fn legacy_path_key_and_index() {
        selects(&[
            (".realm_access.roles[0]", Some(json!("first"))),
            (r#"."https://x.com/role""#, Some(json!("namespaced"))),
            (r#"."it's""#, Some(json!("quote"))),
            (".é", Some(json!("accent"))),
            (".users[1].level", Some(json!(5))),
            (r#".roles[?(@ == "other")]"#, Some(json!("other"))),
            // a filter alone applies to the claims, which are not an array
            (r#"[?(@ == "top")]"#, None),
            (".$a.@b", None),
            (r#"."a\""#, None),
        ]);
        rejects(&[".", ".a-b", r#"."open"#, ".roles[-1]", ".roles[ 1]", ".roles[99999999999999999999999]", "[0].", ".a b"]);
    }

    #[test]
    fn legacy_filter() {
        selects(&[
            (r#".roles[?(@ == "b_post")]"#, Some(json!("b_post"))),
            (r#".roles[?(@ != "pre_a")]"#, Some(json!("b_post"))),
            (r#".roles[?(@ ^== "pre")]"#, Some(json!("pre_a"))),
            (r#".roles[?(@==^"post")]"#, Some(json!("b_post"))),
            (".roles[?(@\u{a0}*==\t\"the\")]", Some(json!("other"))),
            (r#".users[?(@ == "a")]"#, None),
            (r#".role[?(@ == "top")]"#, None),
        ]);
        rejects(&[
            r#".roles[?(@ == "a")].x"#,
            r#".roles[?(@ == "a")][0]"#,
            r#".roles[?(@ = "a")]"#,
            r#".roles[?(@ == 'a')]"#,
            r#".roles[?( @ == "a")]"#,
            r#".roles[?(@ == "a") ]"#,
            ".roles[?(@\u{85}== \"a\")]",
        ]);
    }

    #[test]
    fn nesting_is_limited_before_parsing() {
        let nested = |n: usize| format!("$.users[?{}@.admin{}]", "(".repeat(n - 1), ")".repeat(n - 1));
        selects(&[(&nested(MAX_DEPTH), Some(json!({"name": "a", "level": 1, "admin": true})))]);
        let filters = |n: usize| format!("${}{}", "[?@".repeat(n), "]".repeat(n));
        assert!(RoleClaimKey::parse(&filters(MAX_DEPTH)).is_ok());
        for key in [nested(MAX_DEPTH + 1), filters(MAX_DEPTH + 1), "[".repeat(100_000)] {
            let error = RoleClaimKey::parse(&key).expect_err("too deep");
            assert!(error.ends_with(&format!("nest deeper than {MAX_DEPTH} levels")), "{error}");
        }
        // brackets in quotes are no nesting
        let quoted = format!("$['{}']", "([".repeat(100));
        assert_eq!(RoleClaimKey::parse(&quoted).map(|k| k.evaluate(&claims())), Ok(None));
    }

    #[test]
    fn garbage_never_panics() {
        let long = format!("${}", ".a".repeat(50_000));
        for key in ["\0", "$\0", "$['\0']", "\u{FEFF}$.role", "$[?@ == '\u{10FFFF}']", ".\"", "[?(", "$[?(@ == 1) || ", &long] {
            let _ = RoleClaimKey::parse(key).map(|k| k.evaluate(&claims()));
        }
    }
}
