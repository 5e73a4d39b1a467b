//! The request body of writes and RPC calls (PostgREST's `ApiRequest/Payload.hs`).
//!
//! JSON bodies are checked here only for shape (an object, or an array of objects that all
//! have the same keys) and passed on as raw text: PostgreSQL parses them again with
//! `json_to_recordset`, which is cheaper than re-encoding a large body. CSV and
//! `x-www-form-urlencoded` bodies are turned into that same JSON. The keys found are the
//! columns the write names (`iColumns`), unless `?columns=` says which ones to use.

use super::media_type::MediaType;
use crate::error::Error;
use crate::text::Text;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// A parsed body (PostgREST's `Payload`). The JSON kinds share the request's buffer.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// JSON text (an object or an array of objects) whose rows all have `keys`.
    ProcessedJson { raw: Text, keys: BTreeSet<String> },
    /// A form body of an RPC call: the arguments, in order.
    ProcessedUrlEncoded { params: Vec<(String, String)>, keys: BTreeSet<String> },
    /// JSON text not looked into: `?columns=` names the keys to read.
    RawJson(Text),
    /// The bytes of a text/plain, text/xml or octet-stream body of an RPC call.
    Raw(Text),
}

impl Payload {
    /// The JSON text to bind as the statement's body parameter (shared, not copied).
    pub fn json_text(&self) -> Text {
        match self {
            Payload::ProcessedJson { raw, .. } | Payload::RawJson(raw) => raw.clone(),
            Payload::ProcessedUrlEncoded { params, .. } => {
                let map: Map<String, Value> = params.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
                Text::from(Value::Object(map).to_string())
            }
            Payload::Raw(bytes) => bytes.clone().into_utf8_lossy(),
        }
    }
}

/// What the body is for, which decides whether and how it is read (PostgREST's `Action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyUse {
    /// GET/HEAD/DELETE/OPTIONS: the body is ignored
    Ignored,
    /// POST or PATCH on a relation: `?columns=` applies
    Mutation,
    /// PUT on a relation: `?columns=` does not apply
    SingleUpsert,
    /// POST to a function
    Call,
}

/// The payload and the set of columns it names (PostgREST's `getPayload`).
pub fn get_payload(
    body: &Text,
    content_type: &MediaType,
    columns: Option<&Vec<String>>,
    used: BodyUse,
) -> Result<(Option<Payload>, BTreeSet<String>), Error> {
    let is_proc = used == BodyUse::Call;
    let columns = match used {
        BodyUse::Mutation | BodyUse::Call => columns,
        _ => None,
    };
    if used == BodyUse::Ignored {
        return Ok((None, BTreeSet::new()));
    }
    let payload = match content_type {
        MediaType::Json => match columns {
            Some(_) => Payload::RawJson(body.clone().into_utf8_lossy()),
            // as PostgREST: read as `{}`, passed on as it came
            None if body.is_empty() && is_proc => Payload::ProcessedJson { raw: body.clone(), keys: BTreeSet::new() },
            // aeson's parse error is dropped for a generic message (PostgREST #2344)
            None => json_payload(body.clone(), "All object keys must match")?,
        },
        MediaType::Csv => {
            let json = Text::from(csv_to_json(body.as_bytes())?.to_string());
            json_payload(json, "All lines must have same number of fields")?
        }
        MediaType::UrlEncoded => {
            let params = parse_simple_query(body.as_bytes());
            if is_proc {
                let keys = params.iter().map(|(k, _)| k.clone()).collect();
                Payload::ProcessedUrlEncoded { params, keys }
            } else {
                // a map: the last value of a repeated key wins
                let mut map = Map::new();
                for (k, v) in params {
                    map.insert(k, Value::String(v));
                }
                let keys = map.keys().cloned().collect();
                Payload::ProcessedJson { raw: Text::from(Value::Object(map).to_string()), keys }
            }
        }
        MediaType::TextPlain | MediaType::TextXml | MediaType::OctetStream if is_proc => Payload::Raw(body.clone()),
        other => return Err(invalid(&format!("Content-Type not acceptable: {}", other.name()))),
    };
    let cols = match (&payload, columns) {
        (Payload::ProcessedJson { keys, .. } | Payload::ProcessedUrlEncoded { keys, .. }, _) => keys.clone(),
        (Payload::RawJson(_), Some(cols)) => cols.iter().cloned().collect(),
        _ => BTreeSet::new(),
    };
    Ok((Some(payload), cols))
}

fn invalid(message: &str) -> Error {
    Error::InvalidBody(message.to_string())
}

/// PostgREST's `payloadAttributes` over JSON text: an object, or an array of objects with
/// the same keys; anything else becomes an empty array. The text is read once, for its shape
/// and keys only (no document is built), and is passed on as is.
fn json_payload(raw: Text, keys_differ: &str) -> Result<Payload, Error> {
    let invalid_json = || invalid("Empty or invalid json");
    // serde_json does not check the UTF-8 of the strings it skips: checked here, as a full
    // parse would
    let text = std::str::from_utf8(raw.as_bytes()).map_err(|_| invalid_json())?;
    let mut de = serde_json::Deserializer::from_str(text);
    let shape = de.deserialize_any(ShapeVisitor).and_then(|shape| de.end().map(|()| shape)).map_err(|_| invalid_json())?;
    match shape {
        Shape::Object(keys) | Shape::Rows(keys) => Ok(Payload::ProcessedJson { raw, keys: keys.into_iter().collect() }),
        Shape::NoRows | Shape::Other => Ok(Payload::ProcessedJson { raw: Text::from("[]"), keys: BTreeSet::new() }),
        Shape::Mixed => Err(invalid(keys_differ)),
    }
}

/// The shape of a JSON document, as `payloadAttributes` sees it.
enum Shape {
    /// an object, its keys sorted
    Object(Vec<String>),
    /// an array of objects that all have these keys
    Rows(Vec<String>),
    /// `[]`
    NoRows,
    /// an array whose elements are not all objects with the same keys
    Mixed,
    /// a scalar
    Other,
}

/// Implements the scalar visits of a visitor as "not an object": `$value`.
macro_rules! scalars_are {
    ($value:expr) => {
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok($value)
        }
    };
}

struct ShapeVisitor;

impl<'de> Visitor<'de> for ShapeVisitor {
    type Value = Shape;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("JSON")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shape, A::Error> {
        let mut keys = vec![];
        while let Some(key) = map.next_key::<String>()? {
            map.next_value::<IgnoredAny>()?;
            keys.push(key);
        }
        keys.sort_unstable();
        keys.dedup();
        Ok(Shape::Object(keys))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Shape, A::Error> {
        let first = match seq.next_element_seed(FirstRow)? {
            None => return Ok(Shape::NoRows),
            Some(first) => first,
        };
        let Some(keys) = first else {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(Shape::Mixed);
        };
        let mut row = SameKeys { keys: &keys, seen: vec![0; keys.len()], stamp: 0 };
        let mut uniform = true;
        while uniform {
            row.stamp += 1;
            match seq.next_element_seed(&mut row)? {
                Some(same) => uniform = same,
                None => return Ok(Shape::Rows(keys)),
            }
        }
        // after a mismatch the rest is only checked to be JSON
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Shape::Mixed)
    }
    scalars_are!(Shape::Other);
}

/// The first element of an array: its keys if it is an object.
struct FirstRow;

impl<'de> DeserializeSeed<'de> for FirstRow {
    type Value = Option<Vec<String>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        Ok(match d.deserialize_any(ShapeVisitor)? {
            Shape::Object(keys) => Some(keys),
            _ => None,
        })
    }
}

/// A later element of an array: is it an object with exactly the first one's keys? Keys are
/// looked up, not collected, so a long array of rows allocates nothing per row.
struct SameKeys<'k> {
    keys: &'k [String],
    /// per key of the first row, the stamp of the last row that had it
    seen: Vec<u32>,
    stamp: u32,
}

impl<'de> DeserializeSeed<'de> for &mut SameKeys<'_> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for &mut SameKeys<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut distinct = 0;
        let mut same = true;
        while let Some(found) = map.next_key_seed(KeyIndex(self.keys))? {
            map.next_value::<IgnoredAny>()?;
            match found {
                Some(i) if self.seen[i] != self.stamp => {
                    self.seen[i] = self.stamp;
                    distinct += 1;
                }
                Some(_) => {}
                None => same = false,
            }
        }
        Ok(same && distinct == self.keys.len())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(false)
    }
    scalars_are!(false);
}

/// An object key: its index among the sorted `keys`, None if it is not one of them.
struct KeyIndex<'k>(&'k [String]);

impl<'de> DeserializeSeed<'de> for KeyIndex<'_> {
    type Value = Option<usize>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyIndex<'_> {
    type Value = Option<usize>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E>(self, key: &str) -> Result<Option<usize>, E> {
        Ok(self.0.binary_search_by(|k| k.as_str().cmp(key)).ok())
    }
}

/// A CSV body with a header line → a JSON array of objects of strings; `NULL` is null
/// (PostgREST's `csvToJson` over cassava's `decodeByName`). A record with more fields than
/// the header is cut to the header; one with fewer has fewer keys, which the caller rejects.
fn csv_to_json(body: &[u8]) -> Result<Value, Error> {
    let text = std::str::from_utf8(body).map_err(|_| invalid("parse error: the CSV body is not UTF-8"))?;
    let mut records = parse_csv(text)?.into_iter();
    let header = records.next().ok_or_else(|| invalid("parse error (not enough input) at \"\""))?;
    let rows = records
        .map(|fields| {
            let obj: Map<String, Value> =
                header.iter().zip(fields).map(|(k, v)| (k.clone(), if v == "NULL" { Value::Null } else { Value::String(v) })).collect();
            Value::Object(obj)
        })
        .collect();
    Ok(Value::Array(rows))
}

/// RFC 4180 records: `,` between fields, CRLF or LF between records, `"` quoting with `""`
/// inside quotes. A final line break does not start a new record.
fn parse_csv(text: &str) -> Result<Vec<Vec<String>>, Error> {
    let mut records = vec![];
    let mut record = vec![];
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut at_record_start = true;
    while let Some(c) = chars.next() {
        at_record_start = false;
        match c {
            '"' if field.is_empty() => loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(ch) => field.push(ch),
                    None => return Err(invalid("parse error (endOfInput) in a quoted CSV field")),
                }
            },
            ',' => record.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
                at_record_start = true;
            }
            ch => field.push(ch),
        }
    }
    if !at_record_start {
        record.push(field);
        records.push(record);
    }
    Ok(records)
}

/// `a=1&b=x+y` → pairs, `+` as space and percent-decoded (http-types' `parseSimpleQuery`).
fn parse_simple_query(body: &[u8]) -> Vec<(String, String)> {
    let decode = |s: &[u8]| -> String {
        let plus: Vec<u8> = s.iter().map(|b| if *b == b'+' { b' ' } else { *b }).collect();
        percent_encoding::percent_decode(&plus).decode_utf8_lossy().into_owned()
    };
    let body = body.strip_prefix(b"?").unwrap_or(body);
    body.split(|b| *b == b'&' || *b == b';')
        .filter(|p| !p.is_empty())
        .map(|p| match p.iter().position(|b| *b == b'=') {
            Some(i) => (decode(&p[..i]), decode(&p[i + 1..])),
            None => (decode(p), String::new()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(
        body: &[u8],
        content_type: &MediaType,
        columns: Option<&Vec<String>>,
        used: BodyUse,
    ) -> Result<(Option<Payload>, BTreeSet<String>), Error> {
        get_payload(&Text::from(body), content_type, columns, used)
    }

    fn keys(p: &(Option<Payload>, BTreeSet<String>)) -> Vec<&str> {
        p.1.iter().map(String::as_str).collect()
    }

    fn json_keys(body: &str) -> Result<Vec<String>, Error> {
        get(body.as_bytes(), &MediaType::Json, None, BodyUse::Mutation).map(|p| p.1.into_iter().collect())
    }

    #[test]
    fn uniform_arrays_and_objects() {
        let p = get(br#"[{"b":1,"a":2},{"a":3,"b":4}]"#, &MediaType::Json, None, BodyUse::Mutation).unwrap();
        assert_eq!(keys(&p), vec!["a", "b"]);
        let e = get(br#"[{"a":1},{"a":2,"b":3}]"#, &MediaType::Json, None, BodyUse::Mutation).unwrap_err();
        assert_eq!(e, Error::InvalidBody("All object keys must match".into()));
        let e = get(b"", &MediaType::Json, None, BodyUse::Mutation).unwrap_err();
        assert_eq!(e, Error::InvalidBody("Empty or invalid json".into()));
        let p = get(b"5", &MediaType::Json, None, BodyUse::Mutation).unwrap();
        assert_eq!(p.0.unwrap().json_text(), "[]");
    }

    #[test]
    fn shapes_as_payload_attributes_sees_them() {
        let differ = Err(Error::InvalidBody("All object keys must match".into()));
        let invalid = Err(Error::InvalidBody("Empty or invalid json".into()));
        assert_eq!(json_keys(r#"{"a": {"x": [1, {"y": 2}]}, "b": "s", "a": 3}"#), Ok(vec!["a".into(), "b".into()]));
        assert_eq!(json_keys(r#"[{"a":1,"a":2},{"a":3}]"#), Ok(vec!["a".into()]), "a repeated key counts once");
        assert_eq!(json_keys(r#"[{"a":1,"b":2},{"a":3,"a":4}]"#), differ, "same count, other keys");
        assert_eq!(json_keys(r#"[{"a":1},{"b":1}]"#), differ);
        assert_eq!(json_keys(r#"[{"a":1},2]"#), differ);
        assert_eq!(json_keys(r#"[1,{"a":1}]"#), differ);
        assert_eq!(json_keys(r#"[[],{"a":1}]"#), differ);
        assert_eq!(json_keys("[]"), Ok(vec![]));
        assert_eq!(json_keys(r#""text""#), Ok(vec![]));
        assert_eq!(json_keys("null"), Ok(vec![]));
        // the whole text must be JSON, also after a mismatch, and nothing may follow it
        assert_eq!(json_keys(r#"[{"a":1},{"b":1},{"#), invalid);
        assert_eq!(json_keys(r#"{"a":1} x"#), invalid);
        assert_eq!(json_keys(r#" {"a":1} "#), Ok(vec!["a".into()]));
        assert_eq!(
            get(b"[\"\xff\"]", &MediaType::Json, None, BodyUse::Mutation).unwrap_err(),
            Error::InvalidBody("Empty or invalid json".into())
        );
        // an empty body of a call is an object without keys, passed on as it came
        let p = get(b"", &MediaType::Json, None, BodyUse::Call).unwrap();
        assert_eq!(p.0.unwrap().json_text(), "");
    }

    #[test]
    fn json_bodies_are_passed_on_without_a_copy() {
        let body = Text::from(r#"[{"a":1},{"a":2}]"#);
        let (payload, _) = get_payload(&body, &MediaType::Json, None, BodyUse::Mutation).unwrap();
        assert_eq!(payload.unwrap().json_text().buffer().as_ptr(), body.buffer().as_ptr());
        let cols = vec!["a".to_string()];
        let (payload, _) = get_payload(&body, &MediaType::Json, Some(&cols), BodyUse::Mutation).unwrap();
        assert_eq!(payload.unwrap().json_text().buffer().as_ptr(), body.buffer().as_ptr());
    }

    #[test]
    fn columns_skip_the_body() {
        let cols = vec!["id".to_string(), "body".to_string()];
        let p = get(b"[1,2]", &MediaType::Json, Some(&cols), BodyUse::Mutation).unwrap();
        assert_eq!(p.0, Some(Payload::RawJson("[1,2]".into())));
        assert_eq!(keys(&p), vec!["body", "id"]);
        // PUT ignores ?columns=
        let p = get(br#"{"x":1}"#, &MediaType::Json, Some(&cols), BodyUse::SingleUpsert).unwrap();
        assert_eq!(keys(&p), vec!["x"]);
    }

    #[test]
    fn csv_bodies() {
        let p = get(b"a,b\n\"x,\"\"y\",NULL\r\n", &MediaType::Csv, None, BodyUse::Mutation).unwrap();
        assert_eq!(p.0.unwrap().json_text(), r#"[{"a":"x,\"y","b":null}]"#);
        let e = get(b"a,b\nfoo,bar\nbaz", &MediaType::Csv, None, BodyUse::Mutation).unwrap_err();
        assert_eq!(e, Error::InvalidBody("All lines must have same number of fields".into()));
    }

    #[test]
    fn form_bodies() {
        let p = get(b"a=1&b=forms+are%20fun&a=2", &MediaType::UrlEncoded, None, BodyUse::Mutation).unwrap();
        assert_eq!(p.0.unwrap().json_text(), r#"{"a":"2","b":"forms are fun"}"#);
        let e = get(b"x", &MediaType::TextPlain, None, BodyUse::Mutation).unwrap_err();
        assert_eq!(e, Error::InvalidBody("Content-Type not acceptable: text/plain".into()));
    }
}
