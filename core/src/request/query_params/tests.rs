//! Tests of the query-string parser: PostgREST's doctests of `QueryParams.hs`, the PGRST100
//! errors its spec tests check, and edge cases of the URL language.

use super::*;
use crate::request::types::*;

// Builders of expected values ----------------------------------------------------------------

fn key(s: &str) -> JsonOperand {
    JsonOperand::Key(s.to_string())
}

fn idx(s: &str) -> JsonOperand {
    JsonOperand::Idx(s.to_string())
}

fn col(name: &str) -> SelectItem {
    SelectItem::Field { field: (name.to_string(), vec![]), aggregate: None, aggregate_cast: None, cast: None, alias: None }
}

fn json_col(name: &str, path: JsonPath) -> SelectItem {
    SelectItem::Field { field: (name.to_string(), path), aggregate: None, aggregate_cast: None, cast: None, alias: None }
}

fn rel(name: &str, children: Vec<SelectItem>) -> SelectItem {
    SelectItem::Relation { relation: name.to_string(), alias: None, hint: None, join_type: None, children }
}

fn spread(name: &str, children: Vec<SelectItem>) -> SelectItem {
    SelectItem::Spread { relation: name.to_string(), hint: None, join_type: None, children }
}

fn filter(name: &str, op: Operation) -> Filter {
    Filter { field: (name.to_string(), vec![]), op_expr: OpExpr::Op(false, op) }
}

fn eq(value: &str) -> Operation {
    Operation::Quant(QuantOperator::Equal, None, value.to_string())
}

fn order_field(name: &str, direction: Option<OrderDirection>, nulls: Option<OrderNulls>) -> OrderTerm {
    OrderTerm::Field { field: (name.to_string(), vec![]), direction, nulls }
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|s| s.to_string()).collect()
}

/// The message and details of a PGRST100 error.
fn qp_error<T: std::fmt::Debug>(result: Result<T, Error>) -> (String, String) {
    match result {
        Err(Error::QueryParam { message, details }) => (message, details),
        other => panic!("expected a PGRST100 error, got {other:?}"),
    }
}

fn select(value: &str) -> Vec<SelectItem> {
    parse_select(value).unwrap_or_else(|e| panic!("select {value:?} failed: {e:?}"))
}

fn select_error_column(value: &str) -> String {
    let (message, _) = qp_error(parse_select(value));
    let expected_prefix = format!("\"failed to parse select parameter ({value})\" (line 1, column ");
    assert!(message.starts_with(&expected_prefix), "{message}");
    message[expected_prefix.len()..message.len() - 1].to_string()
}

fn order(value: &str) -> Vec<OrderTerm> {
    parse_order("order", value).unwrap_or_else(|e| panic!("order {value:?} failed: {e:?}")).1
}

fn op_expr(value: &str) -> OpExpr {
    parse_filter("x", value, false).unwrap_or_else(|e| panic!("filter {value:?} failed: {e:?}")).1.op_expr
}

fn logic(key: &str, value: &str) -> (EmbedPath, LogicTree) {
    parse_logic_tree(key, value).unwrap_or_else(|e| panic!("logic {key}={value} failed: {e:?}"))
}

fn parsed(qs: &str) -> QueryParams {
    parse(qs).unwrap_or_else(|e| panic!("{qs:?} failed: {e:?}"))
}

// parse: doctests ---------------------------------------------------------------------------------

#[test]
fn canonical_sorts_parameters() {
    // The doctest parses as an RPC read: `a=1` is an argument, not a failed filter.
    let rpc = |qs| parse_rpc_read(qs).expect("parses").canonical;
    assert_eq!(rpc("a=1&c=3&b=2&d"), "a=1&b=2&c=3&d=");
}

#[test]
fn canonical_joins_repeated_keys_and_encodes() {
    let rpc = |qs| parse_rpc_read(qs).expect("parses").canonical;
    assert_eq!(rpc("b=2&a=x%20y&b=1&a=z"), "a=x%20y,z&b=2,1");
    assert_eq!(parsed("select=id,name&id=eq.1").canonical, "id=eq.1&select=id%2Cname");
    assert_eq!(parsed("name=eq.%C3%A9+x").canonical, "name=eq.%C3%A9%20x");
    assert_eq!(parsed("").canonical, "");
}

#[test]
fn select_is_parsed() {
    assert_eq!(parsed("select=name,location").select, vec![col("name"), col("location")]);
}

#[test]
fn select_defaults_to_star() {
    assert_eq!(parsed("").select, vec![col("*")]);
    // A `select` without `=` counts as absent.
    assert_eq!(parsed("select").select, vec![col("*")]);
}

#[test]
fn filters_have_embed_paths() {
    let qp = parsed("a.b=eq.0");
    assert_eq!(qp.filters, vec![(strings(&["a"]), filter("b", eq("0")))]);
    assert_eq!(qp.filters_not_root, qp.filters);
    assert!(qp.filters_root.is_empty());
}

#[test]
fn unknown_operator_fails() {
    let (message, details) = qp_error(parse("a.b=noop.0"));
    assert_eq!(message, "\"failed to parse filter (noop.0)\" (line 1, column 1)");
    assert_eq!(details, "unexpected \"o\" expecting \"not\" or operator (eq, gt, ...)");
}

// pRequestFilter --------------------------------------------------------------------------------

#[test]
fn request_filter() {
    assert_eq!(parse_filter("id", "eq.1", false).ok(), Some((vec![], filter("id", eq("1")))));
    let (message, details) = qp_error(parse_filter("id", "val", false));
    assert_eq!(message, "\"failed to parse filter (val)\" (line 1, column 1)");
    assert_eq!(details, "unexpected \"v\" expecting \"not\" or operator (eq, gt, ...)");
    assert_eq!(
        parse_filter("id", "val", true).ok(),
        Some((vec![], Filter { field: ("id".into(), vec![]), op_expr: OpExpr::NoOp("val".into()) }))
    );
}

#[test]
fn spec_filter_without_operator() {
    // QuerySpec: "fails if an operator is not given"
    let (message, details) = qp_error(parse("id=0"));
    assert_eq!(message, "\"failed to parse filter (0)\" (line 1, column 1)");
    assert_eq!(details, "unexpected \"0\" expecting \"not\" or operator (eq, gt, ...)");
}

#[test]
fn rpc_read_arguments() {
    let qp = parse_rpc_read("a=1&b=eq.2&c.d=x&select=id").expect("rpc read parses");
    assert_eq!(qp.params, vec![("a".to_string(), "1".to_string()), ("d".to_string(), "x".to_string())]);
    assert_eq!(qp.filters, vec![(vec![], filter("b", eq("2")))]);
    assert_eq!(qp.filters_root, vec![filter("b", eq("2"))]);
    assert_eq!(qp.filters_rpc, vec![Filter { field: ("a".into(), vec![]), op_expr: OpExpr::NoOp("1".into()) }]);
    assert_eq!(qp.filter_fields, ["a", "b", "c.d"].iter().map(|s| s.to_string()).collect());
}

#[test]
fn rpc_read_committed_operators_still_fail() {
    // Parsec has consumed `in.`/`is.`/`not.` and cannot fall back to an argument.
    for value in ["in.the house", "is.good", "not.anything"] {
        let (message, _) = qp_error(parse_rpc_read(&format!("arg={value}")));
        assert!(message.starts_with(&format!("\"failed to parse filter ({value})\"")), "{message}");
    }
    assert_eq!(parse_rpc_read("arg=isolated").expect("parses").params, vec![("arg".into(), "isolated".into())]);
}

// pFieldForest --------------------------------------------------------------------------------

#[test]
fn field_forest() {
    assert_eq!(select("id"), vec![col("id")]);
    assert_eq!(select("client(id)"), vec![rel("client", vec![col("id")])]);
    assert_eq!(select("*,client(*,nested(*))"), vec![col("*"), rel("client", vec![col("*"), rel("nested", vec![col("*")])])]);
    assert_eq!(select("*,...client(*),other(*)"), vec![col("*"), spread("client", vec![col("*")]), rel("other", vec![col("*")])]);
    assert_eq!(select(""), vec![]);
}

#[test]
fn field_forest_errors() {
    assert_eq!(select_error_column("id,clients(name[])"), "16");
    let (_, details) = qp_error(parse_select("id,clients(name[])"));
    assert_eq!(details, "unexpected '[' expecting letter, digit, \"-\", \"->>\", \"->\", \"::\", \".\", \")\", \",\" or end of input");
    let (_, details) = qp_error(parse_select("data->>-78xy"));
    assert_eq!(details, "unexpected 'x' expecting digit, \"->\", \"::\", \".\", \",\" or end of input");
    assert_eq!(select_error_column("data->>-78xy"), "11");
}

#[test]
fn spec_json_errors() {
    // JsonOperatorSpec: "gives a meaningful error on bad syntax"
    let (message, details) = qp_error(parse("select=data->>--34"));
    assert_eq!(message, "\"failed to parse select parameter (data->>--34)\" (line 1, column 9)");
    assert_eq!(details, "unexpected \"-\" expecting digit");
    // JsonOperatorSpec: "fails when there is a reserved special character in the key's name"
    let (message, details) = qp_error(parse("select=data->(!@%23$%25^%26*_d->>!@%23$%25^%26*_e::integer"));
    assert_eq!(message, "\"failed to parse select parameter (data->(!@#$%^&*_d->>!@#$%^&*_e::integer)\" (line 1, column 7)");
    assert_eq!(details, "unexpected \"(\" expecting \"-\", digit or any non reserved character different from: .,>()");
}

#[test]
fn select_trailing_and_leading_garbage_as_postgrest() {
    // `sepBy` stops before anything that is not a separator: the rest is ignored.
    assert_eq!(select("id)x"), vec![col("id")]);
    assert_eq!(select("rel(id)abc"), vec![rel("rel", vec![col("id")])]);
    // An item that fails before consuming input makes an empty list.
    assert_eq!(select("*x"), vec![]);
    assert_eq!(select("*!hint"), vec![]);
    assert_eq!(select("...rel->jsonpath(*)"), vec![]);
    assert_eq!(select("-id"), vec![]);
    // Once a separator or a name is consumed, a failure is an error.
    for bad in ["id,", "id, ", "id,;", "*,", "  ", "id;", "rel(x) ", "alias:...rel(*)", "a-", "rel(*x)"] {
        assert!(parse_select(bad).is_err(), "{bad:?} should fail");
    }
}

#[test]
fn select_spaces() {
    assert_eq!(select(" id , name "), vec![col("id"), col("name")]);
    assert_eq!(select("id, clients(id, name)"), vec![col("id"), rel("clients", vec![col("id"), col("name")])]);
    assert_eq!(select(" *"), vec![col("*")]);
}

#[test]
fn nested_embeds() {
    assert_eq!(select("a(b(c(d(e))))"), vec![rel("a", vec![rel("b", vec![rel("c", vec![rel("d", vec![col("e")])])])])]);
    assert_eq!(select("a(),b"), vec![rel("a", vec![]), col("b")]);
}

#[test]
fn too_deep_select_is_rejected() {
    let deep = format!("{}x{}", "a(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
    let (message, details) = qp_error(parse_select(&deep));
    assert!(message.starts_with("\"failed to parse select parameter (a(a("), "{message}");
    assert!(details.contains("nested deeper than 100"), "{details}");
    let ok = format!("{}x{}", "a(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    assert!(parse_select(&ok).is_ok());
    // Very deep input fails fast without overflowing the stack.
    assert!(parse_select(&"a(".repeat(100_000)).is_err());
}

// pFieldName ----------------------------------------------------------------------------------

fn name(value: &str) -> String {
    let names = parse_on_conflict(value).unwrap_or_else(|e| panic!("{value:?}: {e:?}"));
    assert_eq!(names.len(), 1);
    names[0].clone()
}

#[test]
fn field_names() {
    assert_eq!(name("identifier"), "identifier");
    assert_eq!(name("identifier with spaces"), "identifier with spaces");
    assert_eq!(name("identifier-with-dashes"), "identifier-with-dashes");
    assert_eq!(name("123"), "123");
    assert_eq!(name("_"), "_");
    assert_eq!(name("$"), "$");
    assert_eq!(name("\":\""), ":");
    assert_eq!(name(" no leading or trailing spaces "), "no leading or trailing spaces");
    assert_eq!(name("\" leading and trailing spaces \""), " leading and trailing spaces ");
    let (message, details) = qp_error(parse_on_conflict(":"));
    assert_eq!(message, "\"failed to parse on_conflict parameter (:)\" (line 1, column 1)");
    assert_eq!(details, "unexpected \":\" expecting field name (* or [a..z0..9_$])");
}

#[test]
fn unicode_and_quoted_names() {
    assert_eq!(
        select("nombre_año,名前,\"a.b\",\"with \\\"quote\\\"\""),
        vec![col("nombre_año"), col("名前"), col("a.b"), col("with \"quote\""),]
    );
    // Dash-separated pieces are trimmed one by one, as PostgREST does.
    assert_eq!(name("a - b"), "a-b");
}

#[test]
fn columns_are_a_sorted_set() {
    assert_eq!(parsed("columns=b,a,b").columns, Some(strings(&["a", "b"])));
    assert_eq!(parsed("on_conflict=b,a").on_conflict, Some(strings(&["b", "a"])));
    // InsertSpec: "disallows blank ?columns"
    let (message, details) = qp_error(parse("columns="));
    assert_eq!(message, "\"failed to parse columns parameter ()\" (line 1, column 1)");
    assert_eq!(details, "unexpected end of input expecting field name (* or [a..z0..9_$])");
    assert!(parse_columns("a,").is_err());
    assert!(parse_columns("a\t,b").is_ok());
    assert!(parse_columns("\"a\" b").is_err());
}

// pJsonPath -----------------------------------------------------------------------------------

#[test]
fn json_paths() {
    use JsonOperation::*;
    assert_eq!(select("a->text"), vec![json_col("a", vec![Arrow(key("text"))])]);
    assert_eq!(select("a->!@#$%^&*_a"), vec![json_col("a", vec![Arrow(key("!@#$%^&*_a"))])]);
    assert_eq!(select("a->1"), vec![json_col("a", vec![Arrow(idx("+1"))])]);
    assert_eq!(select("a->>text"), vec![json_col("a", vec![DoubleArrow(key("text"))])]);
    assert_eq!(select("a->>!@#$%^&*_a"), vec![json_col("a", vec![DoubleArrow(key("!@#$%^&*_a"))])]);
    assert_eq!(select("a->>1"), vec![json_col("a", vec![DoubleArrow(idx("+1"))])]);
    assert_eq!(select("a->0,other"), vec![json_col("a", vec![Arrow(idx("+0"))]), col("other")]);
    assert_eq!(select("a->-1->>x"), vec![json_col("a", vec![Arrow(idx("-1")), DoubleArrow(key("x"))])]);
    assert_eq!(
        order("a->0.desc"),
        vec![OrderTerm::Field { field: ("a".into(), vec![Arrow(idx("+0"))]), direction: Some(OrderDirection::Desc), nulls: None }]
    );
    // Before `)` an integer is a key, as in PostgREST (`pEnd` of `pJIdx` has no `)`).
    assert_eq!(select("r(a->0)"), vec![rel("r", vec![json_col("a", vec![Arrow(key("0"))])])]);
    assert_eq!(select("a->\"x,y\""), vec![json_col("a", vec![Arrow(key("x,y"))])]);
    assert_eq!(select("a->key-with-dash"), vec![json_col("a", vec![Arrow(key("key-with-dash"))])]);
    assert!(parse_select("a->>-xy-4").is_err());
    assert!(parse_select("a->").is_err());
    assert!(parse_select("a->\"unclosed").is_err());
}

#[test]
fn json_path_in_filter_keys() {
    use JsonOperation::*;
    let qp = parsed("data->a->>b=eq.1");
    let expected = Filter { field: ("data".into(), vec![Arrow(key("a")), DoubleArrow(key("b"))]), op_expr: OpExpr::Op(false, eq("1")) };
    assert_eq!(qp.filters_root, vec![expected]);
    assert!(parse("a->=eq.1").is_err());
    assert!(parse("a..b=eq.1").is_err());
}

// pRelationSelect, pSpreadRelationSelect, pFieldSelect ---------------------------------------

#[test]
fn relation_select() {
    let rel_with = |alias: Option<&str>, hint: Option<&str>, join_type| SelectItem::Relation {
        relation: "rel".into(),
        alias: alias.map(String::from),
        hint: hint.map(String::from),
        join_type,
        children: vec![col("*")],
    };
    assert_eq!(select("rel(*)"), vec![rel_with(None, None, None)]);
    assert_eq!(select("alias:rel(*)"), vec![rel_with(Some("alias"), None, None)]);
    assert_eq!(select("rel!hint(*)"), vec![rel_with(None, Some("hint"), None)]);
    assert_eq!(select("rel!inner(*)"), vec![rel_with(None, None, Some(JoinType::Inner))]);
    assert_eq!(select("rel!left(*)"), vec![rel_with(None, None, Some(JoinType::Left))]);
    assert_eq!(select("rel!hint!inner(*)"), vec![rel_with(None, Some("hint"), Some(JoinType::Inner))]);
    assert_eq!(select("alias:rel!inner!hint(*)"), vec![rel_with(Some("alias"), Some("hint"), Some(JoinType::Inner))]);
    assert_eq!(select("rel!h1!h2(*)"), vec![rel_with(None, Some("h1"), None)]);
    assert!(parse_select("rel->jsonpath(*)").is_err());
    assert!(parse_select("rel->jsonpath!hint(*)").is_err());
    // `left`/`inner` match as prefixes: `!leftover` is not a hint.
    assert!(parse_select("rel!leftover(*)").is_err());
    assert_eq!(select("rel!\"leftover\"(*)"), vec![rel_with(None, Some("leftover"), None)]);
}

#[test]
fn spread_relation_select() {
    assert_eq!(select("...rel(*)"), vec![spread("rel", vec![col("*")])]);
    assert_eq!(
        select("...rel!hint!inner(*)"),
        vec![SelectItem::Spread {
            relation: "rel".into(),
            hint: Some("hint".into()),
            join_type: Some(JoinType::Inner),
            children: vec![col("*")]
        }]
    );
}

#[test]
fn field_select() {
    use JsonOperation::*;
    let field = |name: &str, path, cast: Option<&str>, alias: Option<&str>| SelectItem::Field {
        field: (name.to_string(), path),
        aggregate: None,
        aggregate_cast: None,
        cast: cast.map(String::from),
        alias: alias.map(String::from),
    };
    assert_eq!(select("name"), vec![field("name", vec![], None, None)]);
    assert_eq!(select("name->jsonpath"), vec![field("name", vec![Arrow(key("jsonpath"))], None, None)]);
    assert_eq!(select("name::cast"), vec![field("name", vec![], Some("cast"), None)]);
    assert_eq!(select("alias:name"), vec![field("name", vec![], None, Some("alias"))]);
    assert_eq!(select("alias:name->jsonpath::cast"), vec![field("name", vec![Arrow(key("jsonpath"))], Some("cast"), Some("alias"))]);
    assert_eq!(select("alias:name->!@#$%^&*_a::cast"), vec![field("name", vec![Arrow(key("!@#$%^&*_a"))], Some("cast"), Some("alias"))]);
    assert_eq!(select("*"), vec![col("*")]);
    assert_eq!(select("ts::timestamp with time zone"), vec![field("ts", vec![], Some("timestamp with time zone"), None)]);
    assert_eq!(select_error_column("name!hint"), "5");
    let (_, details) = qp_error(parse_select("name!hint"));
    assert_eq!(details, "unexpected '!' expecting letter, digit, \"-\", \"->>\", \"->\", \"::\", \".\", \")\", \",\" or end of input");
    assert_eq!(select_error_column("name::"), "7");
    let (_, details) = qp_error(parse_select("name::"));
    assert_eq!(details, "unexpected end of input expecting letter or digit");
}

#[test]
fn aggregates() {
    let agg = |name: &str, aggregate, aggregate_cast: Option<&str>, cast: Option<&str>, alias: Option<&str>| SelectItem::Field {
        field: (name.to_string(), vec![]),
        aggregate: Some(aggregate),
        aggregate_cast: aggregate_cast.map(String::from),
        cast: cast.map(String::from),
        alias: alias.map(String::from),
    };
    use AggregateFunction::*;
    assert_eq!(select("count()"), vec![agg("*", Count, None, None, None)]);
    assert_eq!(select("total:count()::int"), vec![agg("*", Count, Some("int"), None, Some("total"))]);
    assert_eq!(select("amount.sum()"), vec![agg("amount", Sum, None, None, None)]);
    assert_eq!(select("amount.avg()::int"), vec![agg("amount", Avg, Some("int"), None, None)]);
    assert_eq!(select("amount::numeric.max()::text"), vec![agg("amount", Max, Some("text"), Some("numeric"), None)]);
    assert_eq!(select("m:amount.min()"), vec![agg("amount", Min, None, None, Some("m"))]);
    assert_eq!(select("id.count()"), vec![agg("id", Count, None, None, None)]);
    assert_eq!(select("rel(count())"), vec![rel("rel", vec![agg("*", Count, None, None, None)])]);
    // `count` is never a relation.
    assert!(parse_select("count(id)").is_err());
    assert!(parse_select("amount.median()").is_err());
}

// pOpExpr ---------------------------------------------------------------------------------------

#[test]
fn op_expr_quantifiers() {
    assert!(parse_filter("x", "fts().value", false).is_err());
    assert_eq!(
        op_expr("eq(any).value"),
        OpExpr::Op(false, Operation::Quant(QuantOperator::Equal, Some(OpQuantifier::Any), "value".into()))
    );
    assert_eq!(
        op_expr("eq(all).value"),
        OpExpr::Op(false, Operation::Quant(QuantOperator::Equal, Some(OpQuantifier::All), "value".into()))
    );
    assert_eq!(
        op_expr("not.eq(all).value"),
        OpExpr::Op(true, Operation::Quant(QuantOperator::Equal, Some(OpQuantifier::All), "value".into()))
    );
    for bad in ["eq().value", "is().value", "in().value", "neq(any).value", "eq(some).value", "not.not.eq.1"] {
        assert!(parse_filter("x", bad, false).is_err(), "{bad}");
    }
}

#[test]
fn operators() {
    use QuantOperator as Q;
    use SimpleOperator as S;
    let quant = |op, v: &str| OpExpr::Op(false, Operation::Quant(op, None, v.into()));
    let simple = |op, v: &str| OpExpr::Op(false, Operation::Simple(op, v.into()));
    assert_eq!(op_expr("gt.1"), quant(Q::GreaterThan, "1"));
    assert_eq!(op_expr("gte.1"), quant(Q::GreaterThanEqual, "1"));
    assert_eq!(op_expr("lt.1"), quant(Q::LessThan, "1"));
    assert_eq!(op_expr("lte.1"), quant(Q::LessThanEqual, "1"));
    assert_eq!(op_expr("like.*a*b"), quant(Q::Like, "%a%b"));
    assert_eq!(op_expr("ilike.a*"), quant(Q::ILike, "a%"));
    assert_eq!(op_expr("match.^a*"), quant(Q::Match, "^a*"));
    assert_eq!(op_expr("imatch.a"), quant(Q::IMatch, "a"));
    assert_eq!(op_expr("like(any).{a*,*b}"), OpExpr::Op(false, Operation::Quant(Q::Like, Some(OpQuantifier::Any), "{a%,%b}".into())));
    assert_eq!(op_expr("neq.1"), simple(S::NotEqual, "1"));
    assert_eq!(op_expr("cs.{1,2}"), simple(S::Contains, "{1,2}"));
    assert_eq!(op_expr("cd.{1}"), simple(S::Contained, "{1}"));
    assert_eq!(op_expr("ov.[1,2]"), simple(S::Overlap, "[1,2]"));
    assert_eq!(op_expr("sl.(1,2)"), simple(S::StrictlyLeft, "(1,2)"));
    assert_eq!(op_expr("sr.(1,2)"), simple(S::StrictlyRight, "(1,2)"));
    assert_eq!(op_expr("nxr.(1,2)"), simple(S::NotExtendsRight, "(1,2)"));
    assert_eq!(op_expr("nxl.(1,2)"), simple(S::NotExtendsLeft, "(1,2)"));
    assert_eq!(op_expr("adj.(1,2)"), simple(S::Adjacent, "(1,2)"));
    assert_eq!(op_expr("isdistinct.x"), OpExpr::Op(false, Operation::IsDistinctFrom("x".into())));
    assert_eq!(op_expr("not.eq.a.b,c)"), OpExpr::Op(true, eq("a.b,c)")));
    assert_eq!(op_expr("eq."), OpExpr::Op(false, eq("")));
}

#[test]
fn is_values_are_case_insensitive() {
    let is = |v| OpExpr::Op(false, Operation::Is(v));
    assert_eq!(op_expr("is.null"), is(IsVal::Null));
    assert_eq!(op_expr("is.NULL"), is(IsVal::Null));
    assert_eq!(op_expr("is.not_null"), is(IsVal::NotNull));
    assert_eq!(op_expr("is.True"), is(IsVal::True));
    assert_eq!(op_expr("is.FALSE"), is(IsVal::False));
    assert_eq!(op_expr("is.unknown"), is(IsVal::Unknown));
    assert_eq!(op_expr("not.is.null"), OpExpr::Op(true, Operation::Is(IsVal::Null)));
    assert!(parse_filter("x", "is.nil", false).is_err());
}

#[test]
fn full_text_search() {
    let fts = |op, lang: Option<&str>, v: &str| OpExpr::Op(false, Operation::Fts(op, lang.map(String::from), v.into()));
    assert_eq!(op_expr("fts.cat"), fts(FtsOperator::Fts, None, "cat"));
    assert_eq!(op_expr("plfts(english).fat cat"), fts(FtsOperator::Plain, Some("english"), "fat cat"));
    assert_eq!(op_expr("phfts(english).a"), fts(FtsOperator::Phrase, Some("english"), "a"));
    assert_eq!(op_expr("wfts.a or b"), fts(FtsOperator::Websearch, None, "a or b"));
}

#[test]
fn in_lists() {
    let list = |vals: &[&str]| OpExpr::Op(false, Operation::In(strings(vals)));
    assert_eq!(op_expr("in.(1,2,3)"), list(&["1", "2", "3"]));
    assert_eq!(op_expr("in.()"), list(&[""]));
    assert_eq!(op_expr("in.(\"a,b\",\"c)d\",e)"), list(&["a,b", "c)d", "e"]));
    assert_eq!(op_expr("in.(\"a\\\"b\",\"c\\\\d\")"), list(&["a\"b", "c\\d"]));
    // A quoted element not followed by `,` or `)` is raw text.
    assert_eq!(op_expr("in.(\"a\"b,c)"), list(&["\"a\"b", "c"]));
    assert_eq!(op_expr("in.( a , b )"), list(&["a ", " b "]));
    assert_eq!(op_expr("not.in.(1)"), OpExpr::Op(true, Operation::In(strings(&["1"]))));
    assert!(parse_filter("x", "in.1,2", false).is_err());
    assert!(parse_filter("x", "in.(1,2", false).is_err());
}

// pOrder ----------------------------------------------------------------------------------------

fn order_error(value: &str) -> (String, String) {
    let (message, details) = qp_error(parse_order("order", value));
    let prefix = format!("\"failed to parse order ({value})\" (line 1, column ");
    assert!(message.starts_with(&prefix), "{message}");
    (message[prefix.len()..message.len() - 1].to_string(), details)
}

#[test]
fn order_terms() {
    use JsonOperation::*;
    use OrderDirection::*;
    use OrderNulls::*;
    assert_eq!(order("name.desc.nullsfirst"), vec![order_field("name", Some(Desc), Some(First))]);
    assert_eq!(
        order("json_col->key.asc.nullslast"),
        vec![OrderTerm::Field { field: ("json_col".into(), vec![Arrow(key("key"))]), direction: Some(Asc), nulls: Some(Last) }]
    );
    assert_eq!(
        order("json_col->!@#$%^&*_a.asc.nullslast"),
        vec![OrderTerm::Field { field: ("json_col".into(), vec![Arrow(key("!@#$%^&*_a"))]), direction: Some(Asc), nulls: Some(Last) }]
    );
    assert_eq!(
        order("clients(json_col->key).desc.nullsfirst"),
        vec![OrderTerm::Relation {
            relation: "clients".into(),
            field: ("json_col".into(), vec![Arrow(key("key"))]),
            direction: Some(Desc),
            nulls: Some(First)
        }]
    );
    assert_eq!(
        order("clients(json_col->!@#$%^&*_a).desc.nullsfirst"),
        vec![OrderTerm::Relation {
            relation: "clients".into(),
            field: ("json_col".into(), vec![Arrow(key("!@#$%^&*_a"))]),
            direction: Some(Desc),
            nulls: Some(First)
        }]
    );
    assert_eq!(
        order("name,clients(name),id"),
        vec![
            order_field("name", None, None),
            OrderTerm::Relation { relation: "clients".into(), field: ("name".into(), vec![]), direction: None, nulls: None },
            order_field("id", None, None)
        ]
    );
    assert_eq!(order("id.nullslast"), vec![order_field("id", None, Some(Last))]);
    assert_eq!(order(" a , b.asc"), vec![order_field("a", None, None), order_field("b", Some(Asc), None)]);
}

#[test]
fn order_errors() {
    assert_eq!(order_error("clients(name,id)").0, "8");
    assert_eq!(order_error("id.ac"), ("4".into(), "unexpected \"c\" expecting \"asc\", \"desc\", \"nullsfirst\" or \"nullslast\"".into()));
    assert_eq!(order_error("id.descc"), ("8".into(), "unexpected 'c' expecting delimiter (.), \",\" or end of input".into()));
    assert_eq!(order_error("id.nulsfist").0, "4");
    assert_eq!(order_error("id.nullslasttt"), ("13".into(), "unexpected 't' expecting \",\" or end of input".into()));
    assert_eq!(order_error("id.smth34").0, "4");
    assert_eq!(order_error("id.asc.nlsfst"), ("8".into(), "unexpected \"l\" expecting \"nullsfirst\" or \"nullslast\"".into()));
    assert_eq!(order_error("id.asc.smth34").0, "8");
    assert!(parse_order("order", "id,").is_err());
    assert!(parse_order("order", "").is_err());
}

#[test]
fn spec_order_error() {
    // QuerySpec: "gives meaningful error message on bad syntax"
    let (message, details) = qp_error(parse("order=id.asc.nullslasttt"));
    assert_eq!(message, "\"failed to parse order (id.asc.nullslasttt)\" (line 1, column 17)");
    assert_eq!(details, "unexpected 't' expecting \",\" or end of input");
}

#[test]
fn embedded_order() {
    let qp = parsed("clients.order=name.desc&order=id");
    assert_eq!(
        qp.order,
        vec![
            (strings(&["clients"]), vec![order_field("name", Some(OrderDirection::Desc), None)]),
            (vec![], vec![order_field("id", None, None)])
        ]
    );
}

// pLogicTree ------------------------------------------------------------------------------------

fn logic_error(key: &str, value: &str) -> (String, String) {
    let (message, details) = qp_error(parse_logic_tree(key, value));
    let prefix = format!("\"failed to parse logic tree ({value})\" (line 1, column ");
    assert!(message.starts_with(&prefix), "{message}");
    (message[prefix.len()..message.len() - 1].to_string(), details)
}

#[test]
fn logic_trees() {
    use LogicOperator::*;
    use LogicTree::*;
    assert_eq!(
        logic("or", "(a.eq.1,and(b.gt.2,c.is.null))"),
        (
            vec![],
            Expr(
                false,
                Or,
                vec![
                    Stmnt(filter("a", eq("1"))),
                    Expr(
                        false,
                        And,
                        vec![
                            Stmnt(filter("b", Operation::Quant(QuantOperator::GreaterThan, None, "2".into()))),
                            Stmnt(filter("c", Operation::Is(IsVal::Null))),
                        ]
                    ),
                ]
            )
        )
    );
    assert_eq!(
        logic("clients.not.or", "(a.eq.1,not.and(b.eq.2,c.eq.3))"),
        (
            strings(&["clients"]),
            Expr(
                true,
                Or,
                vec![Stmnt(filter("a", eq("1"))), Expr(true, And, vec![Stmnt(filter("b", eq("2"))), Stmnt(filter("c", eq("3")))]),]
            )
        )
    );
    assert_eq!(
        logic("and", "(a.eq.\"x,y)\",b.cs.{1,2},c.in.(1,\"2,3\"),d.not.eq.1)"),
        (
            vec![],
            Expr(
                false,
                And,
                vec![
                    Stmnt(filter("a", eq("x,y)"))),
                    Stmnt(filter("b", Operation::Simple(SimpleOperator::Contains, "{1,2}".into()))),
                    Stmnt(filter("c", Operation::In(strings(&["1", "2,3"])))),
                    Stmnt(Filter { field: ("d".into(), vec![]), op_expr: OpExpr::Op(true, eq("1")) }),
                ]
            )
        )
    );
    assert_eq!(
        logic("or", "( a.like.*x* , b.eq.2 )"),
        (
            vec![],
            Expr(
                false,
                Or,
                vec![Stmnt(filter("a", Operation::Quant(QuantOperator::Like, None, "%x% ".into()))), Stmnt(filter("b", eq("2 "))),]
            )
        )
    );
    // PostgREST prepends the operator to the value: `or=a.eq.1` is the filter `ora.eq.1`.
    assert_eq!(logic("or", "a.eq.1"), (vec![], Stmnt(filter("ora", eq("1")))));
}

#[test]
fn logic_tree_errors() {
    // AndOrParamsSpec: "cannot have zero conditions"
    let (message, details) = qp_error(parse("or=()"));
    assert_eq!(message, "\"failed to parse logic tree (())\" (line 1, column 4)");
    assert_eq!(details, "unexpected \")\" expecting field name (* or [a..z0..9_$]), negation operator (not) or logic operator (and, or)");
    assert_eq!(logic_error("or", "(id.in.1,2,id.eq.3)"), ("10".into(), "unexpected \"1\" expecting \"(\"".into()));
    assert_eq!(logic_error("or", ")(").0, "3");
    // PostgREST reports column 7 (`ord` read as `or`); the PEG's furthest failure is the `(`
    // after the field name `ord`.
    assert_eq!(logic_error("and", "(ord(id.eq.1,id.eq.1),id.eq.2)").0, "8");
    assert_eq!(logic_error("or", "(id.eq.1,not.xor(id.eq.2,id.eq.3))").0, "16");
}

#[test]
fn too_deep_logic_tree_is_rejected() {
    let deep = format!("({}a.eq.1{})", "or(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
    let (_, details) = qp_error(parse_logic_tree("or", &deep));
    assert!(details.contains("nested deeper"), "{details}");
    let ok = format!("({}a.eq.1{})", "or(".repeat(MAX_DEPTH - 1), ")".repeat(MAX_DEPTH - 1));
    assert!(parse_logic_tree("or", &ok).is_ok());
}

// Whole query strings -----------------------------------------------------------------------------

#[test]
fn reserved_keys_are_not_filters() {
    let qp = parsed("select=id&columns=a&on_conflict=a&order=id&limit=1&offset=2&and=(a.eq.1)&or=(a.eq.1)&not.or=(a.eq.2)&clients.limit=3&clients.or=(b.eq.1)&id=eq.1");
    assert_eq!(qp.filters, vec![(vec![], filter("id", eq("1")))]);
    assert_eq!(qp.logic.len(), 4);
    assert_eq!(qp.logic[3].0, strings(&["clients"]));
    // `clients.select` is a filter on the column `select` of `clients`.
    assert_eq!(parsed("clients.select=eq.1").filters, vec![(strings(&["clients"]), filter("select", eq("1")))]);
}

#[test]
fn decoding_follows_http_types() {
    let qp = parsed("name=eq.a+b%2Bc&x=like.%2A;y=eq.1&&z");
    assert_eq!(
        qp.filters_root,
        vec![filter("name", eq("a b+c")), filter("x", Operation::Quant(QuantOperator::Like, None, "%".into())), filter("y", eq("1"))]
    );
    // Keys without `=` are not filters.
    assert_eq!(qp.filter_fields.len(), 3);
    assert_eq!(parsed("?a=eq.1").filters_root, vec![filter("a", eq("1"))]);
    // Invalid escapes stay as written; invalid UTF-8 is replaced.
    assert_eq!(parsed("a=eq.%zz%").filters_root, vec![filter("a", eq("%zz%"))]);
    assert_eq!(parsed("a=eq.%FF").filters_root, vec![filter("a", eq("\u{FFFD}"))]);
    assert_eq!(parsed("select=n%C3%A9").select, vec![col("né")]);
}

#[test]
fn limits_and_offsets() {
    let range = |offset, limit| Range { offset, limit };
    let qp = parsed("limit=10&offset=5&clients.limit=2&projects.offset=3&tasks.limit=x&tasks.offset=1&a.limit=-1");
    assert_eq!(qp.ranges.get("limit"), Some(&range(5, Some(10))));
    assert_eq!(qp.ranges.get("clients.limit"), Some(&range(0, Some(2))));
    assert_eq!(qp.ranges.get("projects.limit"), Some(&range(3, None)));
    // PostgREST: with both params, an invalid limit counts as 0.
    assert_eq!(qp.ranges.get("tasks.limit"), Some(&range(1, Some(0))));
    assert_eq!(qp.ranges.get("a.limit"), Some(&range(0, Some(-1))));
    assert_eq!(qp.ranges.len(), 5);
    // An invalid value alone is ignored.
    assert_eq!(parsed("limit=abc").ranges.get("limit"), Some(&range(0, None)));
    assert_eq!(parsed("limit=0").ranges.get("limit"), Some(&range(0, Some(0))));
    assert_eq!(parsed("limit= 7 ").ranges.get("limit"), Some(&range(0, Some(7))));
    // PostgREST's Integer: numbers past bigint are kept, for PostgreSQL to refuse
    assert_eq!(parsed("limit=99999999999999999999").ranges.get("limit"), Some(&range(0, Some(99999999999999999999))));
    assert_eq!(parsed("offset=-99999999999999999999").ranges.get("limit"), Some(&range(-99999999999999999999, None)));
    assert_eq!(parsed("limit=0x10").ranges.get("limit"), Some(&range(0, Some(16))));
    assert_eq!(parsed(&format!("limit={}", "9".repeat(60))).ranges.get("limit"), Some(&range(0, Some(i128::MAX))));
    assert!(parsed("").ranges.is_empty());
    assert_eq!(range_embed_path("clients.projects.limit").ok(), Some(strings(&["clients", "projects"])));
    assert_eq!(range_embed_path("limit").ok(), Some(vec![]));
}

#[test]
fn first_error_in_postgrest_order() {
    // order is parsed before select, select before filters.
    let (message, _) = qp_error(parse("id=bad&select=a,&order=x.y"));
    assert!(message.starts_with("\"failed to parse order (x.y)\""), "{message}");
    let (message, _) = qp_error(parse("id=bad&select=a,"));
    assert!(message.starts_with("\"failed to parse select parameter (a,)\""), "{message}");
    let (message, _) = qp_error(parse("a..b=eq.1"));
    assert!(message.starts_with("\"failed to parse tree path (a..b)\""), "{message}");
}

#[test]
fn positions_count_characters_like_parsec() {
    // Columns count characters, not bytes.
    let (message, _) = qp_error(parse_select("é,é;"));
    assert_eq!(message, "\"failed to parse select parameter (é,é;)\" (line 1, column 4)");
}

#[test]
fn arbitrary_input_never_panics() {
    let samples = [
        "\"", "\\", "(", ")", "->", "->>", "::", ":", "!", "...", "..", "*", ",", "\"\\", "a(\"", "a->\"", "{", "}", "or(", "not.", "in.(",
        "is.", "a.eq.\"", "()", "(,)", "\u{0}", "é", "\t", "a\nb",
    ];
    for a in samples {
        for b in samples {
            let s = format!("{a}{b}");
            let _ = parse_select(&s);
            let _ = parse_order("order", &s);
            let _ = parse_logic_tree("or", &s);
            let _ = parse_logic_tree(&s, &s);
            let _ = parse_filter(&s, &s, true);
            let _ = parse_columns(&s);
            let _ = parse(&s);
        }
    }
}

/// A deterministic soup of the language's tokens: parsing never panics (the fuzz target in
/// `core/fuzz` does the same with coverage guidance).
#[test]
fn random_token_soup_never_panics() {
    let alphabet: Vec<&str> = vec![
        "a",
        "b",
        "(",
        ")",
        ",",
        ".",
        ":",
        "::",
        "!",
        "*",
        "\"",
        "\\",
        "->",
        "->>",
        "-",
        "{",
        "}",
        " ",
        "\t",
        "in.",
        "is.",
        "not.",
        "eq.",
        "like(any).",
        "or(",
        "and(",
        "count()",
        ".sum()",
        "...",
        "!inner",
        "null",
        "0",
        "1",
        "-1",
        "é",
        "fts(en).",
        "nullsfirst",
        ".desc",
        "select=",
        "&",
        "order=",
        "or=",
        "%2",
        "+",
    ];
    let mut state: u64 = 0x1234_5678;
    let mut next = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    for _ in 0..20_000 {
        let len = next() % 24;
        let s: String = (0..len).map(|_| alphabet[next() % alphabet.len()]).collect::<Vec<_>>().concat();
        let _ = parse_select(&s);
        let _ = parse_order("order", &s);
        let _ = parse_logic_tree("or", &s);
        let _ = parse_filter("a", &s, true);
        let _ = parse_columns(&s);
        let _ = parse(&s);
    }
}

// The shortcuts agree with the grammar -----------------------------------------------------------

fn by_grammar_filter(value: &str) -> Option<OpExpr> {
    grammar::parse_entry(Rule::filter_param, value, "test").ok().map(grammar::filter_param)
}

/// A shortcut gives what the grammar gives on each of `plain`, and leaves each of `other` to it.
fn check_shortcut<T: PartialEq + std::fmt::Debug>(
    shortcut: impl Fn(&str) -> Option<T>,
    by_grammar: impl Fn(&str) -> Option<T>,
    plain: &[&str],
    other: &[&str],
) {
    for value in plain {
        let short = shortcut(value);
        assert!(short.is_some(), "{value} has a shortcut");
        assert_eq!(short, by_grammar(value), "{value}");
    }
    for value in other {
        assert_eq!(shortcut(value), None, "{value}");
    }
}

#[test]
fn plain_filters_are_what_the_grammar_parses() {
    let names =
        ["neq", "cs", "cd", "ov", "sl", "sr", "nxr", "nxl", "adj", "eq", "gte", "gt", "lte", "lt", "like", "ilike", "match", "imatch"];
    let rests = ["", "1", "a.b", "*x*", "(1,2)", "not.eq.1", " sp ", "é", "a,b)c"];
    let plain: Vec<String> = names.iter().flat_map(|name| rests.iter().map(move |rest| format!("{name}.{rest}"))).collect();
    let plain: Vec<&str> = plain.iter().map(String::as_str).collect();
    // the other forms are left to the grammar
    let other =
        ["not.eq.1", "in.(1,2)", "is.null", "isdistinct.1", "fts.a", "plfts(english).a", "eq(any).{1}", "eqq.1", "eq", "EQ.1", ".1"];
    check_shortcut(grammar::plain_filter, by_grammar_filter, &plain, &other);
}

#[test]
fn plain_tree_paths_are_what_the_grammar_parses() {
    let by_grammar = |key: &str| grammar::parse_entry(Rule::tree_path_param, key, "test").ok().map(grammar::tree_path_param);
    let plain = ["id", "ID_2", "$x", "9", "a_b$c"];
    let other = ["", "a.b", "a->b", "a-b", " a", "é", "\"a\"", "a b"];
    check_shortcut(grammar::plain_tree_path, by_grammar, &plain, &other);
}

#[test]
fn plain_selects_are_what_the_grammar_parses() {
    let by_grammar = |value: &str| {
        let pair = grammar::parse_entry(Rule::select_param, value, "test").ok()?;
        grammar::select_param(pair, "test", value).ok()
    };
    let plain =
        ["*", "id", "id,name,$x,9", "count", "*,categories(*)", "id,clients(id,projects(*,tasks(name))),name", "a_b(c),d(e)", "counts(*)"];
    // the other forms are left to the grammar
    let other = [
        "",
        "a,",
        ",a",
        "a()",
        "count()",
        "count(*)",
        "a(b",
        "a(b))",
        "*x",
        "a:b",
        "a::text",
        "a->b",
        "a-b",
        "a.sum()",
        "...a(b)",
        "a!inner(b)",
        "a!fk(*)",
        " a",
        "a ,b",
        "\"a\"",
        "é",
        "a(b:c)",
    ];
    check_shortcut(grammar::plain_select, by_grammar, &plain, &other);
    // nested past the limit: the grammar's error, not a shortcut
    let deep = format!("{}x{}", "a(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
    assert_eq!(grammar::plain_select(&deep), None);
}

#[test]
fn plain_orders_are_what_the_grammar_parses() {
    let by_grammar = |value: &str| grammar::parse_entry(Rule::order_param, value, "test").ok().map(grammar::order_param);
    let plain = ["id", "id.asc", "id.desc", "id.nullsfirst", "id.nullslast", "a.desc.nullslast,b,c$.asc", "asc", "desc.desc", "9"];
    // the other forms are left to the grammar
    let other = [
        "",
        "id,",
        ",id",
        "id.",
        "id.ASC",
        "id.ascx",
        "id.asc.desc",
        "id.nullslast.asc",
        "id.asc.nullslast.x",
        "a->b.desc",
        "a-b",
        "rel(a).desc",
        " id",
        "id ",
        "é",
        "\"a\"",
    ];
    check_shortcut(grammar::plain_order, by_grammar, &plain, &other);
}
