//! The query string of a request: decoding it and parsing each parameter into the typed AST
//! of `request::types` (PostgREST's `ApiRequest/QueryParams.hs`).
//!
//! This module decides which parameter is what (select, columns, order, limit/offset, logic
//! trees, on_conflict, filters, RPC arguments), decodes the query string as WAI/http-types do,
//! and builds the canonical query string. The URL language itself is the grammar in
//! `core/query.pest`; `grammar.rs` builds typed values from it and `errors.rs` words the
//! PGRST100 errors as PostgREST does.

mod errors;
mod grammar;
#[cfg(test)]
mod tests;

use std::collections::{BTreeSet, HashMap};

use percent_encoding::percent_decode;

use crate::error::Error;
use crate::request::types::{EmbedPath, FieldName, Filter, LogicTree, OpExpr, OrderTerm, SelectItem};
use grammar::Rule;

pub use grammar::MAX_DEPTH;

/// Everything the query string says, parsed (PostgREST's `QueryParams`).
#[derive(Debug, Clone, PartialEq)]
pub struct QueryParams {
    /// The query string with its parameters sorted by key, repeated keys joined by `,`
    /// (`qsCanonical`); used as a cache key.
    pub canonical: String,
    /// The arguments of a GET/HEAD RPC: filters whose value is not an operator expression,
    /// as (field name, value) (`qsParams`). Empty unless parsed with `parse_rpc_read`.
    pub params: Vec<(String, String)>,
    /// `limit`/`offset` per level, keyed by the `limit` key: `"limit"` for the root,
    /// `"clients.limit"` for an embedding (`qsRanges`). `range_embed_path` parses a key.
    pub ranges: HashMap<String, Range>,
    /// `order=` per level (`qsOrder`).
    pub order: Vec<(EmbedPath, Vec<OrderTerm>)>,
    /// `and=`/`or=`/`not.and=`/`not.or=` per level (`qsLogic`).
    pub logic: Vec<(EmbedPath, LogicTree)>,
    /// `columns=`: sorted and without duplicates, as PostgREST keeps a set (`qsColumns`).
    pub columns: Option<Vec<FieldName>>,
    /// `select=`; `*` when absent (`qsSelect`).
    pub select: Vec<SelectItem>,
    /// The filters with an operator, root ones with an empty path (`qsFilters`).
    pub filters: Vec<(EmbedPath, Filter)>,
    /// The filters of the root table; UPDATE/DELETE use them (`qsFiltersRoot`).
    pub filters_root: Vec<Filter>,
    /// The filters of embedded levels (`qsFiltersNotRoot`).
    pub filters_not_root: Vec<(EmbedPath, Filter)>,
    /// The root filters that are RPC arguments (`OpExpr::NoOp`), only with `parse_rpc_read`;
    /// `params` has the same arguments as (name, value).
    pub filters_rpc: Vec<Filter>,
    /// The keys of all filter parameters as written, e.g. `id` or `clients.id`; a PUT checks
    /// them against the primary key (`qsFilterFields`).
    pub filter_fields: BTreeSet<String>,
    /// `on_conflict=` (`qsOnConflict`).
    pub on_conflict: Option<Vec<FieldName>>,
}

/// Rows asked for by `limit`/`offset` (PostgREST's `Range Integer` built by `restrictRange` and
/// `rangeGeq`): from `offset`, at most `limit` rows when there is a limit. Values are kept as
/// given, negative ones included: the caller reports them (PGRST103 for a negative limit).
/// PostgREST reads them as `Integer`, of any size; i128 here (`range` explains why).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub offset: i128,
    pub limit: Option<i128>,
}

/// Parses the raw query string (percent-encoded, without the leading `?`) of any request but a
/// GET/HEAD RPC call: a filter value without an operator is an error
/// (PostgREST's `parse False`).
pub fn parse(query_string: &str) -> Result<QueryParams, Error> {
    parse_query(query_string, false)
}

/// Parses the query string of a GET/HEAD RPC call: a filter value without an operator is an
/// argument of the function, in `params` and `filters_rpc` (PostgREST's `parse True`).
pub fn parse_rpc_read(query_string: &str) -> Result<QueryParams, Error> {
    parse_query(query_string, true)
}

/// Keys that are never filters (`reserved`).
const RESERVED: [&str; 3] = ["select", "columns", "on_conflict"];
/// Last words of keys that are never filters, at any level (`reservedEmbeddable`).
const RESERVED_EMBEDDABLE: [&str; 5] = ["order", "limit", "offset", "and", "or"];

fn parse_query(query_string: &str, is_rpc_read: bool) -> Result<QueryParams, Error> {
    let raw = decode_query_string(query_string);
    let canonical = canonical_query_string(&raw);
    let query: Vec<(String, Option<String>)> = raw
        .iter()
        .map(|(k, v)| (String::from_utf8_lossy(k).into_owned(), v.as_ref().map(|v| String::from_utf8_lossy(v).into_owned())))
        .collect();
    // Parameters without `=` only count for select/columns/on_conflict lookups (as absent).
    let with_values: Vec<(&str, &str)> = query.iter().filter_map(|(k, v)| v.as_deref().map(|v| (k.as_str(), v))).collect();
    let lookup = |needle: &str| query.iter().find(|(k, _)| k == needle).and_then(|(_, v)| v.as_deref());

    // PostgREST parses (and so reports errors) in this order.
    let order =
        with_values.iter().filter(|(k, _)| ends_with_word(k, &["order"])).map(|(k, v)| parse_order(k, v)).collect::<Result<Vec<_>, _>>()?;
    let logic = with_values
        .iter()
        .filter(|(k, _)| ends_with_word(k, &["and", "or"]))
        .map(|(k, v)| parse_logic_tree(k, v))
        .collect::<Result<Vec<_>, _>>()?;
    let columns = lookup("columns").map(parse_columns).transpose()?;
    let select = match lookup("select") {
        Some(select) => parse_select(select)?,
        None => all_columns(),
    };
    let all_filters = with_values
        .iter()
        .filter(|(k, _)| is_filter_key(k))
        .map(|(k, v)| parse_filter(k, v, is_rpc_read))
        .collect::<Result<Vec<_>, _>>()?;
    let on_conflict = lookup("on_conflict").map(parse_on_conflict).transpose()?;

    let filter_fields = with_values.iter().filter(|(k, _)| is_filter_key(k)).map(|(k, _)| k.to_string()).collect();
    let (filters, rpc_args): (Vec<_>, Vec<_>) = all_filters.into_iter().partition(|(_, f)| !matches!(f.op_expr, OpExpr::NoOp(_)));
    let params = rpc_args
        .iter()
        .filter_map(|(_, f)| match &f.op_expr {
            OpExpr::NoOp(v) => Some((f.field.0.clone(), v.clone())),
            OpExpr::Op(..) => None,
        })
        .collect();
    let filters_rpc = rpc_args.into_iter().filter(|(path, _)| path.is_empty()).map(|(_, f)| f).collect();
    let filters_root = filters.iter().filter(|(path, _)| path.is_empty()).map(|(_, f)| f.clone()).collect();
    let filters_not_root = filters.iter().filter(|(path, _)| !path.is_empty()).cloned().collect();

    Ok(QueryParams {
        canonical,
        params,
        ranges: ranges(&with_values),
        order,
        logic,
        columns,
        select,
        filters,
        filters_root,
        filters_not_root,
        filters_rpc,
        filter_fields,
        on_conflict,
    })
}

/// Whether the last `.`-separated word of a key is one of `words` (`endingIn`).
fn ends_with_word(key: &str, words: &[&str]) -> bool {
    let last = key.rsplit('.').next().unwrap_or(key);
    words.contains(&last)
}

/// Filters are all keys but the reserved ones (`isFilter`).
fn is_filter_key(key: &str) -> bool {
    !ends_with_word(key, &RESERVED_EMBEDDABLE) && !RESERVED.contains(&key)
}

// Decoding ----------------------------------------------------------------------------------------

/// Splits and decodes a query string as http-types' `parseQueryReplacePlus True`: a leading `?`
/// is dropped, parameters are separated by `&` or `;`, the key ends at the first `=` (no `=`
/// means no value), `+` is a space and `%XX` a byte (an invalid escape stays as written).
fn decode_query_string(query_string: &str) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
    let query_string = query_string.strip_prefix('?').unwrap_or(query_string);
    let mut params = Vec::new();
    let mut rest = query_string;
    while !rest.is_empty() {
        let (param, tail) = match rest.find(['&', ';']) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, ""),
        };
        let (key, value) = match param.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (param, None),
        };
        params.push((url_decode(key), value.map(url_decode)));
        rest = tail;
    }
    params
}

/// `+` to space, then percent-decoding (a `+` written as `%2B` stays a `+`).
fn url_decode(text: &str) -> Vec<u8> {
    let plus_as_space: Vec<u8> = text.bytes().map(|b| if b == b'+' { b' ' } else { b }).collect();
    percent_decode(&plus_as_space).collect()
}

/// PostgREST's `qsCanonical`: parameters sorted by key (stably), the values of a repeated key
/// joined by `,`, everything but ASCII letters, digits and `-_.~` percent-encoded
/// (`Network.HTTP.Base.urlEncodeVars`); a parameter without value gets an empty one.
fn canonical_query_string(params: &[(Vec<u8>, Option<Vec<u8>>)]) -> String {
    let mut sorted: Vec<&(Vec<u8>, Option<Vec<u8>>)> = params.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut groups: Vec<(&[u8], Vec<&[u8]>)> = Vec::new();
    for (key, value) in sorted {
        let value = value.as_deref().unwrap_or(&[]);
        match groups.last_mut() {
            Some((k, values)) if *k == key.as_slice() => values.push(value),
            _ => groups.push((key, vec![value])),
        }
    }
    groups
        .iter()
        .map(|(key, values)| {
            let values: Vec<String> = values.iter().map(|v| url_encode(v)).collect();
            format!("{}={}", url_encode(key), values.join(","))
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// `Network.HTTP.Base.urlEncode` over bytes: unreserved characters kept, the rest `%XX`.
fn url_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

// limit and offset --------------------------------------------------------------------------------

/// `qsRanges`: the `limit` and `offset` parameters of each level, keyed by the limit key.
/// As in PostgREST, a value that is not an integer is ignored, except that a level with both
/// parameters takes a missing or invalid limit as 0 and a missing or invalid offset as 0.
fn ranges(params: &[(&str, &str)]) -> HashMap<String, Range> {
    let mut limits: HashMap<String, Option<i128>> = HashMap::new();
    let mut offsets: HashMap<String, Option<i128>> = HashMap::new();
    for (key, value) in params {
        if ends_with_word(key, &["limit"]) {
            limits.insert(key.to_string(), read_integer(value));
        } else if ends_with_word(key, &["offset"]) {
            offsets.insert(replace_last_word(key, "limit"), read_integer(value));
        }
    }
    let mut ranges = HashMap::new();
    for (key, limit) in &limits {
        let range = match offsets.get(key) {
            Some(offset) => Range { offset: offset.unwrap_or(0), limit: Some(limit.unwrap_or(0)) },
            None => Range { offset: 0, limit: *limit },
        };
        ranges.insert(key.clone(), range);
    }
    for (key, offset) in offsets {
        ranges.entry(key).or_insert(Range { offset: offset.unwrap_or(0), limit: None });
    }
    ranges
}

/// `replaceLast`: `clients.offset` -> `clients.limit`.
fn replace_last_word(key: &str, word: &str) -> String {
    match key.rsplit_once('.') {
        Some((init, _)) => format!("{init}.{word}"),
        None => word.to_string(),
    }
}

/// Haskell's `readMaybe :: Maybe Integer` for the forms a client sends: spaces around, an
/// optional `-`, decimal digits, or `0x`/`0o` literals. Values past i128 saturate; anything
/// past bigint is kept, for PostgreSQL to refuse as it refuses PostgREST's.
fn read_integer(text: &str) -> Option<i128> {
    let text = text.trim_matches(|c: char| c.is_whitespace());
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest.trim_start_matches(|c: char| c.is_whitespace())),
        None => (false, text),
    };
    let (radix, digits) = match digits.get(..2) {
        Some("0x") | Some("0X") => (16, &digits[2..]),
        Some("0o") | Some("0O") => (8, &digits[2..]),
        _ => (10, digits),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = i128::from_str_radix(digits, radix).unwrap_or(i128::MAX);
    Some(if negative { -magnitude } else { magnitude })
}

// One parameter ---------------------------------------------------------------------------------

/// `select=` (`pRequestSelect`).
pub fn parse_select(value: &str) -> Result<Vec<SelectItem>, Error> {
    let source = format!("failed to parse select parameter ({value})");
    errors::check_nesting(&source, value)?;
    if let Some(plain) = grammar::plain_select(value) {
        return Ok(plain);
    }
    let pair = grammar::parse_entry(Rule::select_param, value, &source)?;
    grammar::select_param(pair, &source, value)
}

/// No `select=` is `select=*`, parsed once: most requests have none.
fn all_columns() -> Vec<SelectItem> {
    static STAR: std::sync::OnceLock<Vec<SelectItem>> = std::sync::OnceLock::new();
    STAR.get_or_init(|| parse_select("*").expect("the grammar parses *")).clone()
}

/// `columns=`: sorted, without duplicates (`pRequestColumns`).
pub fn parse_columns(value: &str) -> Result<Vec<FieldName>, Error> {
    let source = format!("failed to parse columns parameter ({value})");
    let pair = grammar::parse_entry(Rule::columns_param, value, &source)?;
    let set: BTreeSet<FieldName> = grammar::columns_param(pair).into_iter().collect();
    Ok(set.into_iter().collect())
}

/// `on_conflict=` (`pRequestOnConflict`).
pub fn parse_on_conflict(value: &str) -> Result<Vec<FieldName>, Error> {
    let source = format!("failed to parse on_conflict parameter ({value})");
    let pair = grammar::parse_entry(Rule::columns_param, value, &source)?;
    Ok(grammar::columns_param(pair))
}

/// The embed path and field of a parameter key (`pTreePath`).
fn parse_tree_path(key: &str) -> Result<(EmbedPath, crate::request::types::Field), Error> {
    if let Some(plain) = grammar::plain_tree_path(key) {
        return Ok(plain);
    }
    let source = format!("failed to parse tree path ({key})");
    let pair = grammar::parse_entry(Rule::tree_path_param, key, &source)?;
    Ok(grammar::tree_path_param(pair))
}

/// A filter parameter `key=value` (`pRequestFilter`). For a GET/HEAD RPC, a value that is not
/// an operator expression is an argument (`OpExpr::NoOp`), unless the parser had already
/// committed to an operator: a value starting with `not.`, `in.` or `is.` must be a valid one.
pub fn parse_filter(key: &str, value: &str, is_rpc_read: bool) -> Result<(EmbedPath, Filter), Error> {
    let (path, field) = parse_tree_path(key)?;
    if let Some(op_expr) = grammar::plain_filter(value) {
        return Ok((path, Filter { field, op_expr }));
    }
    let source = format!("failed to parse filter ({value})");
    let op_expr = match grammar::parse_entry(Rule::filter_param, value, &source) {
        Ok(pair) => grammar::filter_param(pair),
        Err(err) => {
            let committed = ["not.", "in.", "is."].iter().any(|p| value.starts_with(p));
            if is_rpc_read && !committed {
                OpExpr::NoOp(value.to_string())
            } else {
                return Err(err);
            }
        }
    };
    Ok((path, Filter { field, op_expr }))
}

/// An `order` parameter (`pRequestOrder`).
pub fn parse_order(key: &str, value: &str) -> Result<(EmbedPath, Vec<OrderTerm>), Error> {
    let (path, _) = parse_tree_path(key)?;
    if let Some(plain) = grammar::plain_order(value) {
        return Ok((path, plain));
    }
    let source = format!("failed to parse order ({value})");
    let pair = grammar::parse_entry(Rule::order_param, value, &source)?;
    Ok((path, grammar::order_param(pair)))
}

/// A logic tree parameter such as `clients.not.or=(a.eq.1,b.eq.2)` (`pRequestLogicTree`).
/// The operator of the key is prepended to the value, so the tree is `not.or(a.eq.1,b.eq.2)`.
pub fn parse_logic_tree(key: &str, value: &str) -> Result<(EmbedPath, LogicTree), Error> {
    let path_source = format!("failed to parse logic path ({key})");
    let pair = grammar::parse_entry(Rule::logic_path_param, key, &path_source)?;
    let (path, op) = grammar::logic_path_param(pair);
    let source = format!("failed to parse logic tree ({value})");
    let tree_text = format!("{op}{value}");
    errors::check_nesting(&source, &tree_text)?;
    let pair = grammar::parse_entry(Rule::logic_tree_param, &tree_text, &source)?;
    Ok((path, grammar::logic_tree_param(pair, &source, &tree_text)?))
}

/// The embed path of a `ranges` key such as `clients.limit` (`pRequestRange`); PostgREST
/// parses it when planning, so a bad key fails there.
pub fn range_embed_path(key: &str) -> Result<EmbedPath, Error> {
    Ok(parse_tree_path(key)?.0)
}
