//! HTTP requests and responses as plain data: the boundary between the code that moves bytes
//! (hyper, in the extension) and the API logic (everything else in core). A leaf module: it
//! depends on nothing else of the crate, so request parsing, responses and the pipeline can all
//! use it without depending on one another (and on the leaf `text`).

use crate::text::Text;
use bytes::Bytes;
use std::ops::Deref;

/// Header fields in arrival order. Names compare case-insensitively (RFC 9110 §5.1); a name
/// may occur more than once (`Prefer`, `Set-Cookie`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(Vec<(String, String)>);

impl Headers {
    pub fn new() -> Headers {
        Headers(Vec::new())
    }

    /// The value of the first field named `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        field(&self.0, name)
    }

    /// The values of every field named `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0.iter().filter(move |(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Add a field, keeping any of the same name.
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.push((name.into(), value.into()));
    }

    /// Add a field unless one of that name is there already.
    pub fn push_if_absent(&mut self, name: &str, value: impl Into<String>) {
        if !self.has(name) {
            self.push(name, value);
        }
    }

    /// Replace every field named `name` with one field.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let name = name.into();
        self.remove(&name);
        self.push(name, value);
    }

    pub fn remove(&mut self, name: &str) {
        self.0.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    }

    pub fn extend(&mut self, fields: impl IntoIterator<Item = (String, String)>) {
        self.0.extend(fields);
    }
}

/// The value of the first of `fields` named `name` (case-insensitively).
pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

impl Deref for Headers {
    type Target = [(String, String)];
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl From<Vec<(String, String)>> for Headers {
    fn from(fields: Vec<(String, String)>) -> Headers {
        Headers(fields)
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Headers {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Headers {
        Headers(iter.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }
}

impl IntoIterator for Headers {
    type Item = (String, String);
    type IntoIter = std::vec::IntoIter<(String, String)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Headers {
    type Item = &'a (String, String);
    type IntoIter = std::slice::Iter<'a, (String, String)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

#[derive(Debug, Clone, Default)]
pub struct HttpRequest {
    pub method: String,
    /// raw (percent-encoded) path
    pub path: String,
    /// raw query string, without '?'
    pub query: String,
    pub headers: Headers,
    /// read with room for a NUL, so that it reaches PostgreSQL without a copy
    pub body: Text,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Headers,
    /// often a slice of the executor's reply, sent without a copy
    pub body: Bytes,
}

impl HttpResponse {
    pub fn new(status: u16, headers: impl Into<Headers>, body: impl Into<Bytes>) -> HttpResponse {
        HttpResponse { status, headers: headers.into(), body: body.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_case_insensitively() {
        let mut h: Headers = [("Content-Type", "a"), ("prefer", "x"), ("Prefer", "y")].into_iter().collect();
        assert_eq!(h.get("content-type"), Some("a"));
        assert_eq!(h.get_all("PREFER").collect::<Vec<_>>(), ["x", "y"]);
        h.set("PREFER", "z");
        assert_eq!(h.get_all("prefer").collect::<Vec<_>>(), ["z"]);
        h.push_if_absent("content-TYPE", "b");
        assert_eq!(h.len(), 2);
        h.remove("Content-Type");
        assert!(!h.has("content-type"));
    }
}
