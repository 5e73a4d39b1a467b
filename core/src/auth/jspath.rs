//! `jwt-role-claim-key`: where in the claims the role is (PostgREST's `Config/JSPath.hs` and
//! `Config/DeprecatedJSPath.hs`).
//!
//! PostgREST reads the key as an RFC 9535 JSONPath query (`$.realm_access.roles[0]`,
//! `$["https://x.com/role"]`, `$.roles[?@ == "admin"]`) and takes the first node it selects;
//! when that does not parse, as its older syntax (`.role`, `."https://x.com/role"`,
//! `.roles[0]`, a final `[?(@ ^== "pre")]` filter). Function extensions (`length()`,
//! `match()`, ...) are not supported.

use super::old_jspath::{evaluate_deprecated, parse_deprecated, OldStep};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum RoleClaimKey {
    Query(Vec<Segment>),
    Deprecated(Vec<OldStep>),
}

impl RoleClaimKey {
    pub fn parse(key: &str) -> Result<RoleClaimKey, String> {
        let mut p = Parser { s: key.as_bytes(), i: 0 };
        if let Some(q) = p.query().filter(|_| p.i == p.s.len()) {
            return Ok(RoleClaimKey::Query(q));
        }
        parse_deprecated(key)
            .map(RoleClaimKey::Deprecated)
            .ok_or_else(|| format!("postgrest.jwt_role_claim_key: failed to parse role-claim-key value ({key})"))
    }

    /// The first value the key selects in `claims`.
    pub fn evaluate(&self, claims: &Value) -> Option<Value> {
        match self {
            RoleClaimKey::Query(segments) => select(segments, claims, claims).into_iter().next().cloned(),
            RoleClaimKey::Deprecated(steps) => evaluate_deprecated(steps, claims).cloned(),
        }
    }
}

// ---- RFC 9535

#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    Child(Vec<Selector>),
    Descendant(Vec<Selector>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Selector {
    Name(String),
    Wildcard,
    Index(i64),
    Slice(Option<i64>, Option<i64>, Option<i64>),
    Filter(Box<Logical>),
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

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn eat(&mut self, token: &str) -> bool {
        if self.s[self.i..].starts_with(token.as_bytes()) {
            self.i += token.len();
            true
        } else {
            false
        }
    }
    fn blank(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn query(&mut self) -> Option<Vec<Segment>> {
        if !self.eat("$") {
            return None;
        }
        Some(self.segments())
    }

    fn segments(&mut self) -> Vec<Segment> {
        let mut out = vec![];
        loop {
            let start = self.i;
            self.blank();
            match self.segment() {
                Some(seg) => out.push(seg),
                None => {
                    self.i = start;
                    return out;
                }
            }
        }
    }

    fn segment(&mut self) -> Option<Segment> {
        let start = self.i;
        let seg = if self.eat("..") {
            match self.peek() {
                Some(b'[') => self.bracketed().map(Segment::Descendant),
                Some(b'*') => {
                    self.i += 1;
                    Some(Segment::Descendant(vec![Selector::Wildcard]))
                }
                _ => self.member_name().map(|n| Segment::Descendant(vec![Selector::Name(n)])),
            }
        } else if self.eat(".") {
            if self.eat("*") {
                Some(Segment::Child(vec![Selector::Wildcard]))
            } else {
                self.member_name().map(|n| Segment::Child(vec![Selector::Name(n)]))
            }
        } else if self.peek() == Some(b'[') {
            self.bracketed().map(Segment::Child)
        } else {
            None
        };
        if seg.is_none() {
            self.i = start;
        }
        seg
    }

    fn member_name(&mut self) -> Option<String> {
        let start = self.i;
        let rest = std::str::from_utf8(&self.s[self.i..]).ok()?;
        let first = rest.chars().next()?;
        if !(first.is_ascii_alphabetic() || first == '_' || !first.is_ascii()) {
            return None;
        }
        let len: usize = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || !c.is_ascii()).map(char::len_utf8).sum();
        self.i += len;
        Some(String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    fn bracketed(&mut self) -> Option<Vec<Selector>> {
        if !self.eat("[") {
            return None;
        }
        let mut selectors = vec![];
        loop {
            self.blank();
            selectors.push(self.selector()?);
            self.blank();
            if self.eat("]") {
                return Some(selectors);
            }
            if !self.eat(",") {
                return None;
            }
        }
    }

    fn selector(&mut self) -> Option<Selector> {
        match self.peek()? {
            b'\'' | b'"' => self.string().map(Selector::Name),
            b'*' => {
                self.i += 1;
                Some(Selector::Wildcard)
            }
            b'?' => {
                self.i += 1;
                self.blank();
                self.logical_or().map(|l| Selector::Filter(Box::new(l)))
            }
            _ => {
                let start = self.int();
                self.blank();
                if !self.eat(":") {
                    return start.map(Selector::Index);
                }
                self.blank();
                let end = self.int();
                self.blank();
                let step = if self.eat(":") {
                    self.blank();
                    self.int()
                } else {
                    None
                };
                Some(Selector::Slice(start, end, step))
            }
        }
    }

    fn int(&mut self) -> Option<i64> {
        let start = self.i;
        self.eat("-");
        let digits = self.s[self.i..].iter().take_while(|b| b.is_ascii_digit()).count();
        let text = std::str::from_utf8(&self.s[self.i..self.i + digits]).ok()?;
        let valid = digits > 0 && (text == "0" && self.i == start || !text.starts_with('0'));
        if !valid {
            self.i = start;
            return None;
        }
        self.i += digits;
        std::str::from_utf8(&self.s[start..self.i]).ok()?.parse().ok()
    }

    fn string(&mut self) -> Option<String> {
        let quote = self.peek()?;
        self.i += 1;
        let mut out = String::new();
        loop {
            let rest = std::str::from_utf8(&self.s[self.i..]).ok()?;
            let c = rest.chars().next()?;
            self.i += c.len_utf8();
            match c {
                c if c as u32 == quote as u32 => return Some(out),
                '\\' => {
                    let e = self.peek()?;
                    self.i += 1;
                    out.push(match e {
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'/' => '/',
                        b'\\' => '\\',
                        b'\'' if quote == b'\'' => '\'',
                        b'"' if quote == b'"' => '"',
                        b'u' => self.unicode_escape()?,
                        _ => return None,
                    });
                }
                c if (c as u32) < 0x20 => return None,
                c => out.push(c),
            }
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = std::str::from_utf8(self.s.get(self.i..self.i + 4)?).ok()?;
        self.i += 4;
        u32::from_str_radix(h, 16).ok()
    }

    fn unicode_escape(&mut self) -> Option<char> {
        let hi = self.hex4()?;
        if (0xD800..0xDC00).contains(&hi) {
            if !self.eat("\\u") {
                return None;
            }
            let lo = self.hex4()?;
            if !(0xDC00..0xE000).contains(&lo) {
                return None;
            }
            return char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00));
        }
        char::from_u32(hi)
    }

    fn logical_or(&mut self) -> Option<Logical> {
        let mut items = vec![self.logical_and()?];
        loop {
            let at = self.i;
            self.blank();
            if !self.eat("||") {
                self.i = at;
                break;
            }
            self.blank();
            items.push(self.logical_and()?);
        }
        Some(if items.len() == 1 { items.remove(0) } else { Logical::Or(items) })
    }

    fn logical_and(&mut self) -> Option<Logical> {
        let mut items = vec![self.basic()?];
        loop {
            let at = self.i;
            self.blank();
            if !self.eat("&&") {
                self.i = at;
                break;
            }
            self.blank();
            items.push(self.basic()?);
        }
        Some(if items.len() == 1 { items.remove(0) } else { Logical::And(items) })
    }

    fn basic(&mut self) -> Option<Logical> {
        let start = self.i;
        if self.eat("!") {
            self.blank();
            if self.eat("(") {
                let inner = self.paren_rest()?;
                return Some(Logical::Not(Box::new(inner)));
            }
            return self.filter_query().map(|q| Logical::Not(Box::new(Logical::Exists(q))));
        }
        if self.eat("(") {
            return self.paren_rest();
        }
        let left = self.comparable()?;
        let at = self.i;
        self.blank();
        let op = [("==", CmpOp::Eq), ("!=", CmpOp::Ne), ("<=", CmpOp::Le), (">=", CmpOp::Ge), ("<", CmpOp::Lt), (">", CmpOp::Gt)]
            .into_iter()
            .find(|(t, _)| self.eat(t))
            .map(|(_, op)| op);
        match (op, left) {
            (Some(op), left) => {
                self.blank();
                let right = self.comparable()?;
                Some(Logical::Compare(left, op, right))
            }
            (None, Comparable::Query(q)) => {
                self.i = at;
                Some(Logical::Exists(q))
            }
            (None, Comparable::Literal(_)) => {
                self.i = start;
                None
            }
        }
    }

    fn paren_rest(&mut self) -> Option<Logical> {
        self.blank();
        let inner = self.logical_or()?;
        self.blank();
        self.eat(")").then_some(inner)
    }

    fn filter_query(&mut self) -> Option<FilterQuery> {
        let relative = if self.eat("@") {
            true
        } else if self.eat("$") {
            false
        } else {
            return None;
        };
        Some(FilterQuery { relative, segments: self.segments() })
    }

    fn comparable(&mut self) -> Option<Comparable> {
        match self.peek()? {
            b'@' | b'$' => self.filter_query().map(Comparable::Query),
            b'\'' | b'"' => self.string().map(|s| Comparable::Literal(Value::String(s))),
            _ => {
                for (word, v) in [("true", Value::Bool(true)), ("false", Value::Bool(false)), ("null", Value::Null)] {
                    if self.eat(word) {
                        return Some(Comparable::Literal(v));
                    }
                }
                let len =
                    self.s[self.i..].iter().take_while(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E')).count();
                let n: serde_json::Number = std::str::from_utf8(&self.s[self.i..self.i + len]).ok()?.parse().ok()?;
                self.i += len;
                Some(Comparable::Literal(Value::Number(n)))
            }
        }
    }
}

/// The nodes `segments` select from `node` (`root` for `$` inside filters).
fn select<'a>(segments: &[Segment], root: &'a Value, node: &'a Value) -> Vec<&'a Value> {
    let mut nodes = vec![node];
    for segment in segments {
        let mut next = vec![];
        for n in nodes {
            match segment {
                Segment::Child(sels) => apply(sels, root, n, &mut next),
                Segment::Descendant(sels) => descend(sels, root, n, &mut next),
            }
        }
        nodes = next;
    }
    nodes
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
                let len = items.len() as i64;
                let i = if *i < 0 { len + i } else { *i };
                if (0..len).contains(&i) {
                    out.push(&items[i as usize]);
                }
            }
            (Selector::Slice(start, end, step), Value::Array(items)) => {
                out.extend(slice(items.len() as i64, *start, *end, step.unwrap_or(1)).map(|i| &items[i]))
            }
            (Selector::Filter(f), Value::Array(items)) => out.extend(items.iter().filter(|c| test(f, root, c))),
            (Selector::Filter(f), Value::Object(map)) => out.extend(map.values().filter(|c| test(f, root, c))),
            _ => {}
        }
    }
}

/// The indexes of an RFC 9535 slice.
fn slice(len: i64, start: Option<i64>, end: Option<i64>, step: i64) -> Box<dyn Iterator<Item = usize>> {
    let norm = |i: i64| if i >= 0 { i } else { len + i };
    if step > 0 {
        let lower = norm(start.unwrap_or(0)).clamp(0, len);
        let upper = norm(end.unwrap_or(len)).clamp(0, len);
        Box::new((lower..upper).step_by(step as usize).map(|i| i as usize))
    } else if step < 0 {
        let upper = norm(start.unwrap_or(len - 1)).clamp(-1, len - 1);
        let lower = end.map_or(-1, |e| norm(e).clamp(-1, len - 1));
        let mut i = upper;
        Box::new(std::iter::from_fn(move || {
            (i > lower).then(|| {
                let v = i;
                i += step;
                v as usize
            })
        }))
    } else {
        Box::new(std::iter::empty())
    }
}

fn test(f: &Logical, root: &Value, node: &Value) -> bool {
    match f {
        Logical::Or(items) => items.iter().any(|l| test(l, root, node)),
        Logical::And(items) => items.iter().all(|l| test(l, root, node)),
        Logical::Not(l) => !test(l, root, node),
        Logical::Exists(q) => !run(q, root, node).is_empty(),
        Logical::Compare(a, op, b) => {
            let value = |c: &Comparable| match c {
                Comparable::Literal(v) => Some(v.clone()),
                Comparable::Query(q) => {
                    let nodes = run(q, root, node);
                    if nodes.len() == 1 {
                        Some(nodes[0].clone())
                    } else {
                        None
                    }
                }
            };
            compare(&value(a), *op, &value(b))
        }
    }
}

fn run<'a>(q: &FilterQuery, root: &'a Value, node: &'a Value) -> Vec<&'a Value> {
    select(&q.segments, root, if q.relative { node } else { root })
}

/// RFC 9535 comparison: "nothing" equals only "nothing"; `<` is defined on numbers and strings.
fn compare(a: &Option<Value>, op: CmpOp, b: &Option<Value>) -> bool {
    let eq = match (a, b) {
        (Some(Value::Number(x)), Some(Value::Number(y))) => x.as_f64() == y.as_f64(),
        _ => a == b,
    };
    let lt = match (a, b) {
        (Some(Value::Number(x)), Some(Value::Number(y))) => x.as_f64() < y.as_f64(),
        (Some(Value::String(x)), Some(Value::String(y))) => x < y,
        _ => false,
    };
    match op {
        CmpOp::Eq => eq,
        CmpOp::Ne => !eq,
        CmpOp::Lt => lt,
        CmpOp::Le => lt || eq,
        CmpOp::Gt => compare(b, CmpOp::Lt, a),
        CmpOp::Ge => compare(b, CmpOp::Lt, a) || eq,
    }
}
