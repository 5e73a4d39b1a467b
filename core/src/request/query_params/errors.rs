//! PGRST100 errors worded as PostgREST's Parsec errors.
//!
//! PostgREST's message is Parsec's `show` of the error position: the parser's name in quotes
//! and the line and column, e.g. `"failed to parse order (id.ascc)" (line 1, column 7)`. Its
//! details are Parsec's "unexpected X expecting A, B or C". The position comes from pest's
//! furthest failure, which is where Parsec reports too in most cases; the expectations are the
//! Parsec labels of the rules pest tried there, so details match PostgREST's for the common
//! mistakes and are close otherwise.

use pest::error::{ErrorVariant, InputLocation};

use super::grammar::{Rule, MAX_DEPTH};
use crate::error::Error;

/// A PGRST100 error for a pest failure of the parser named `source_name` over `input`.
pub(super) fn pest_error(source_name: &str, input: &str, err: &pest::error::Error<Rule>) -> Error {
    let offset = match err.location {
        InputLocation::Pos(pos) => pos,
        InputLocation::Span((start, _)) => start,
    };
    let details = match &err.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            // pest lists the rules in declaration order; Parsec lists expectations in the order
            // its parsers tried them, which `parsec_rank` approximates.
            let mut rules = positives.clone();
            rules.sort_by_key(|rule| parsec_rank(*rule));
            let mut labels: Vec<&str> = Vec::new();
            for rule in rules {
                for label in rule_labels(rule) {
                    if !labels.contains(label) {
                        labels.push(label);
                    }
                }
            }
            unexpected_expecting(input, offset, &labels)
        }
        ErrorVariant::CustomError { message } => message.clone(),
    };
    Error::query_param(position_message(source_name, input, offset), details)
}

/// The error for parentheses nested deeper than `MAX_DEPTH`; `offset` is where it happens.
pub(super) fn too_deep_error(source_name: &str, input: &str, offset: usize) -> Error {
    Error::query_param(position_message(source_name, input, offset), format!("parentheses are nested deeper than {MAX_DEPTH} levels"))
}

/// Rejects input whose parentheses nest deeper than `MAX_DEPTH`, before the recursive rules
/// run. Counting every `(` and `)` over-estimates the depth of quoted names, which only makes
/// the check stricter; the builders check the real depth again.
pub(super) fn check_nesting(source_name: &str, input: &str) -> Result<(), Error> {
    let mut depth = 0usize;
    for (offset, c) in input.char_indices() {
        match c {
            '(' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(too_deep_error(source_name, input, offset));
                }
            }
            ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Parsec's `show` of a `SourcePos`: `"name" (line L, column C)`.
pub(super) fn position_message(source_name: &str, input: &str, offset: usize) -> String {
    let (line, column) = parsec_position(input, offset);
    format!("\"{source_name}\" (line {line}, column {column})")
}

/// Line and column of a byte offset the way Parsec counts them: characters, a newline starts a
/// new line, a tab moves to the next multiple of 8 plus one.
fn parsec_position(input: &str, offset: usize) -> (usize, usize) {
    let (mut line, mut column) = (1, 1);
    for c in input[..offset.min(input.len())].chars() {
        match c {
            '\n' => {
                line += 1;
                column = 1;
            }
            '\t' => column = column + 8 - ((column - 1) % 8),
            _ => column += 1,
        }
    }
    (line, column)
}

/// Parsec's "unexpected X expecting A, B or C". Parsec quotes the unexpected character with
/// single quotes when it comes from `eof`/`notFollowedBy` (whose label is "end of input") and
/// with double quotes when a character parser failed on it. When the first parser tried was a
/// `string`, Parsec names the first character that differs from it (`noop` against `"not"`
/// gives `unexpected "o"`).
fn unexpected_expecting(input: &str, offset: usize, labels: &[&str]) -> String {
    let rest = input.get(offset..).unwrap_or("");
    let literal = labels
        .first()
        .filter(|label| label.len() > 2 && label.starts_with('"') && label.ends_with('"'))
        .map(|label| &label[1..label.len() - 1]);
    let mismatch = match literal {
        Some(literal) if !labels.contains(&END_OF_INPUT) => {
            rest.chars().zip(literal.chars()).find(|(got, want)| got != want).map(|(got, _)| Some(got)).unwrap_or_else(
                // The input is a prefix of the literal: it ended too early.
                || {
                    if rest.chars().count() < literal.chars().count() {
                        None
                    } else {
                        rest.chars().next()
                    }
                },
            )
        }
        _ => rest.chars().next(),
    };
    let unexpected = match mismatch {
        None => "end of input".to_string(),
        Some(c) if labels.contains(&END_OF_INPUT) => format!("'{}'", haskell_escape(c, '\'')),
        Some(c) => format!("\"{}\"", haskell_escape(c, '"')),
    };
    if labels.is_empty() {
        format!("unexpected {unexpected}")
    } else {
        format!("unexpected {unexpected} expecting {}", commas_or(labels))
    }
}

/// Parsec's `commasOr`: `a, b or c`.
fn commas_or(labels: &[&str]) -> String {
    match labels {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Haskell's `show` escaping of a character inside quotes `quote`.
fn haskell_escape(c: char, quote: char) -> String {
    match c {
        '\\' => "\\\\".to_string(),
        '\n' => "\\n".to_string(),
        '\t' => "\\t".to_string(),
        '\r' => "\\r".to_string(),
        c if c == quote => format!("\\{c}"),
        c if (' '..='~').contains(&c) => c.to_string(),
        c => format!("\\{}", c as u32),
    }
}

const END_OF_INPUT: &str = "end of input";
const FIELD_NAME: &str = "field name (* or [a..z0..9_$])";
const OPERATOR: &str = "operator (eq, gt, ...)";
const DELIMITER: &str = "delimiter (.)";
const JSON_KEY: &str = "any non reserved character different from: .,>()";

/// Where the expectations of a rule come in Parsec's list: the order in which PostgREST's
/// parsers try the alternatives at one position.
fn parsec_rank(rule: Rule) -> u8 {
    match rule {
        Rule::negation | Rule::op_expr | Rule::logic_op_expr => 0,
        Rule::in_operation
        | Rule::is_operation
        | Rule::value_operator
        | Rule::isdistinct_operator
        | Rule::fts_operator
        | Rule::fts_name
        | Rule::simple_operator
        | Rule::simple_operator_name
        | Rule::quant_operator
        | Rule::quant_operator_name => 1,
        Rule::logic_tree | Rule::logic_filter | Rule::field | Rule::field_name => 2,
        Rule::logic_expr | Rule::logic_negation => 3,
        Rule::logic_operator => 4,
        Rule::json_operand | Rule::json_idx | Rule::minus | Rule::digits => 5,
        Rule::identifier | Rule::dash | Rule::key_dash | Rule::json_key | Rule::json_key_identifier => 6,
        Rule::json_path | Rule::json_operation | Rule::double_arrow | Rule::arrow => 7,
        Rule::json_idx_end => 8,
        Rule::cast => 9,
        Rule::aggregation | Rule::aggregate_function => 10,
        Rule::aggregate_cast => 11,
        Rule::order_direction | Rule::order_nulls | Rule::delimiter => 12,
        Rule::select_end | Rule::close_paren => 14,
        Rule::comma | Rule::order_end => 15,
        Rule::EOI => 16,
        _ => 13,
    }
}

/// The Parsec labels ("expecting ...") of a rule, in the order Parsec lists them.
fn rule_labels(rule: Rule) -> &'static [&'static str] {
    match rule {
        Rule::EOI => &[END_OF_INPUT],
        Rule::field_name | Rule::field | Rule::quoted_value | Rule::alias | Rule::hint => &[FIELD_NAME],
        Rule::identifier => &["letter", "digit"],
        // A dash is tried right after an identifier, where Parsec's `many1` also wanted more.
        Rule::dash => &["letter", "digit", "\"-\""],
        Rule::key_dash => &["\"-\""],
        Rule::cast | Rule::aggregate_cast => &["\"::\""],
        Rule::fts_language => &["\"(\""],
        Rule::close_paren => &["\")\""],
        Rule::delimiter => &[DELIMITER],
        Rule::comma => &["\",\""],
        Rule::json_path | Rule::json_operation => &["\"->>\"", "\"->\""],
        Rule::double_arrow => &["\"->>\""],
        Rule::arrow => &["\"->\""],
        Rule::json_operand => &["\"-\"", "digit", JSON_KEY],
        Rule::json_idx => &["\"-\"", "digit"],
        Rule::minus => &["\"-\""],
        Rule::digits => &["digit"],
        // Tried right after the digits of an index, where Parsec's `many1 digit` wanted more.
        Rule::json_idx_end => &["digit", "\"->\"", "\"::\"", "\".\"", "\",\"", END_OF_INPUT],
        Rule::json_key | Rule::json_key_identifier => &[JSON_KEY],
        Rule::select_end => &["\")\"", "\",\"", END_OF_INPUT],
        Rule::star_select => &["\"*\""],
        Rule::count_select => &["\"count()\""],
        Rule::aggregation | Rule::aggregate_function => &["\".\""],
        // Parsec reports none of these: it tries embeddings in `try` and the field parser that
        // follows consumes input, which drops their errors.
        Rule::embed_params | Rule::embed_param | Rule::join_left | Rule::join_inner => &[],
        Rule::relation_select | Rule::spread_relation_select | Rule::order_relation_term => &[],
        Rule::negation => &["\"not\""],
        Rule::op_expr | Rule::logic_op_expr => &["\"not\"", OPERATOR],
        Rule::in_operation
        | Rule::is_operation
        | Rule::value_operator
        | Rule::isdistinct_operator
        | Rule::fts_operator
        | Rule::fts_name
        | Rule::simple_operator
        | Rule::simple_operator_name
        | Rule::quant_operator
        | Rule::quant_operator_name => &[OPERATOR],
        Rule::quantifier | Rule::quantifier_any | Rule::quantifier_all => &["\"(\""],
        Rule::is_val => &["isVal: (null, not_null, true, false, unknown)"],
        Rule::list_val => &["\"(\""],
        Rule::list_element | Rule::logic_single_val | Rule::pg_array | Rule::unquoted_value => &["\",\"", "\")\""],
        Rule::logic_tree => &[FIELD_NAME, "negation operator (not)", "logic operator (and, or)"],
        Rule::logic_filter => &[FIELD_NAME],
        Rule::logic_expr => &["negation operator (not)", "logic operator (and, or)"],
        Rule::logic_negation => &["negation operator (not)"],
        Rule::logic_operator => &["logic operator (and, or)"],
        Rule::order_direction | Rule::order_nulls => &[DELIMITER],
        Rule::order_asc | Rule::order_desc => &["\"asc\"", "\"desc\""],
        Rule::nulls_first | Rule::nulls_last => &["\"nullsfirst\"", "\"nullslast\""],
        Rule::order_end => &["\",\"", END_OF_INPUT],
        Rule::order_term | Rule::order_field_term => &[FIELD_NAME],
        Rule::field_forest | Rule::field_tree | Rule::field_select | Rule::column_select => &[FIELD_NAME],
        Rule::relation | Rule::spread_relation => &[FIELD_NAME],
        _ => &[],
    }
}
