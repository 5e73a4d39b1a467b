//! PostgREST's older `jwt-role-claim-key` syntax (`Config/DeprecatedJSPath.hs`), used when
//! the key is not an RFC 9535 query: `.key`, `."quoted key"`, `[0]`, and one final filter
//! `[?(@ op "text")]` with op `==`, `!=`, `^==` (starts with), `==^` (ends with), `*==` (contains).

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum OldStep {
    Key(String),
    Index(usize),
    Filter(OldOp, String),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OldOp {
    Equals,
    NotEquals,
    StartsWith,
    EndsWith,
    Contains,
}

pub fn parse_deprecated(key: &str) -> Option<Vec<OldStep>> {
    let mut steps = vec![];
    let mut rest = key;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            if let Some(r) = r.strip_prefix('"') {
                let end = r.find('"')?;
                steps.push(OldStep::Key(r[..end].to_string()));
                rest = &r[end + 1..];
            } else {
                let len: usize = r.chars().take_while(|c| c.is_alphanumeric() || "_$@".contains(*c)).map(char::len_utf8).sum();
                if len == 0 {
                    return None;
                }
                steps.push(OldStep::Key(r[..len].to_string()));
                rest = &r[len..];
            }
        } else if let Some(r) = rest.strip_prefix("[?(") {
            let r = r.strip_prefix('@')?.trim_start_matches(char::is_whitespace);
            let (op, r) = [
                ("==^", OldOp::EndsWith),
                ("==", OldOp::Equals),
                ("!=", OldOp::NotEquals),
                ("^==", OldOp::StartsWith),
                ("*==", OldOp::Contains),
            ]
            .into_iter()
            .find_map(|(t, op)| r.strip_prefix(t).map(|r| (op, r)))?;
            let r = r.trim_start_matches(char::is_whitespace).strip_prefix('"')?;
            let end = r.find('"')?;
            steps.push(OldStep::Filter(op, r[..end].to_string()));
            // the filter must end the path
            if &r[end + 1..] != ")]" {
                return None;
            }
            rest = "";
        } else if let Some(r) = rest.strip_prefix('[') {
            let digits = r.bytes().take_while(u8::is_ascii_digit).count();
            let n = r[..digits].parse().ok()?;
            rest = r[digits..].strip_prefix(']')?;
            steps.push(OldStep::Index(n));
        } else {
            return None;
        }
    }
    (!steps.is_empty()).then_some(steps)
}

pub fn evaluate_deprecated<'a>(steps: &[OldStep], v: &'a Value) -> Option<&'a Value> {
    let Some((step, rest)) = steps.split_first() else { return Some(v) };
    match (step, v) {
        (OldStep::Key(k), Value::Object(map)) => evaluate_deprecated(rest, map.get(k)?),
        (OldStep::Index(i), Value::Array(items)) => evaluate_deprecated(rest, items.get(*i)?),
        (OldStep::Filter(op, pattern), Value::Array(items)) => items.iter().find(|item| {
            let Some(s) = item.as_str() else { return false };
            match op {
                OldOp::Equals => pattern == s,
                OldOp::NotEquals => pattern != s,
                OldOp::StartsWith => s.starts_with(pattern.as_str()),
                OldOp::EndsWith => s.ends_with(pattern.as_str()),
                OldOp::Contains => s.contains(pattern.as_str()),
            }
        }),
        _ => None,
    }
}
