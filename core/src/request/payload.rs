//! The request body of writes and RPC calls (PostgREST's `ApiRequest/Payload.hs`).
//!
//! JSON bodies are checked here only for shape (an object, or an array of objects that all
//! have the same keys) and passed on as raw text: PostgreSQL parses them again with
//! `json_to_recordset`, which is cheaper than re-encoding a large body. CSV and
//! `x-www-form-urlencoded` bodies are turned into that same JSON. The keys found are the
//! columns the write names (`iColumns`), unless `?columns=` says which ones to use.

use super::media_type::MediaType;
use crate::error::Error;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// A parsed body (PostgREST's `Payload`).
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// JSON text (an object or an array of objects) whose rows all have `keys`.
    ProcessedJson { raw: String, keys: BTreeSet<String> },
    /// A form body of an RPC call: the arguments, in order.
    ProcessedUrlEncoded { params: Vec<(String, String)>, keys: BTreeSet<String> },
    /// JSON text not looked into: `?columns=` names the keys to read.
    RawJson(String),
    /// The bytes of a text/plain, text/xml or octet-stream body of an RPC call.
    Raw(Vec<u8>),
}

impl Payload {
    /// The JSON text to bind as the statement's body parameter.
    pub fn json_text(&self) -> String {
        match self {
            Payload::ProcessedJson { raw, .. } | Payload::RawJson(raw) => raw.clone(),
            Payload::ProcessedUrlEncoded { params, .. } => {
                let map: Map<String, Value> = params.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
                Value::Object(map).to_string()
            }
            Payload::Raw(bytes) => String::from_utf8_lossy(bytes).into_owned(),
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
    body: &[u8],
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
            Some(_) => Payload::RawJson(String::from_utf8_lossy(body).into_owned()),
            None => {
                let value = if body.is_empty() && is_proc {
                    Value::Object(Map::new())
                } else {
                    // aeson's parse error is dropped for a generic message (PostgREST #2344)
                    serde_json::from_slice::<Value>(body).map_err(|_| invalid("Empty or invalid json"))?
                };
                let raw = || String::from_utf8_lossy(body).into_owned();
                attributes(raw, &value).ok_or_else(|| invalid("All object keys must match"))?
            }
        },
        MediaType::Csv => {
            let json = csv_to_json(body)?;
            attributes(|| json.to_string(), &json).ok_or_else(|| invalid("All lines must have same number of fields"))?
        }
        MediaType::UrlEncoded => {
            let params = parse_simple_query(body);
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
                Payload::ProcessedJson { raw: Value::Object(map).to_string(), keys }
            }
        }
        MediaType::TextPlain | MediaType::TextXml | MediaType::OctetStream if is_proc => Payload::Raw(body.to_vec()),
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

/// PostgREST's `payloadAttributes`: an object, or an array of objects with the same keys;
/// anything else becomes an empty array. None when the keys differ.
fn attributes(raw: impl FnOnce() -> String, json: &Value) -> Option<Payload> {
    let empty = || Payload::ProcessedJson { raw: "[]".into(), keys: BTreeSet::new() };
    let keys_of = |o: &Map<String, Value>| o.keys().cloned().collect::<BTreeSet<String>>();
    match json {
        Value::Array(rows) => match rows.first() {
            None => Some(empty()),
            Some(Value::Object(first)) => {
                let keys = keys_of(first);
                let uniform = rows.iter().all(|r| matches!(r, Value::Object(o) if keys_of(o) == keys));
                uniform.then(|| Payload::ProcessedJson { raw: raw(), keys })
            }
            Some(_) => None,
        },
        Value::Object(o) => Some(Payload::ProcessedJson { raw: raw(), keys: keys_of(o) }),
        _ => Some(empty()),
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

    fn keys(p: &(Option<Payload>, BTreeSet<String>)) -> Vec<&str> {
        p.1.iter().map(String::as_str).collect()
    }

    #[test]
    fn uniform_arrays_and_objects() {
        let p = get_payload(br#"[{"b":1,"a":2},{"a":3,"b":4}]"#, &MediaType::Json, None, BodyUse::Mutation).unwrap();
        assert_eq!(keys(&p), vec!["a", "b"]);
        let e = get_payload(br#"[{"a":1},{"a":2,"b":3}]"#, &MediaType::Json, None, BodyUse::Mutation).unwrap_err();
        assert_eq!(e, Error::InvalidBody("All object keys must match".into()));
        let e = get_payload(b"", &MediaType::Json, None, BodyUse::Mutation).unwrap_err();
        assert_eq!(e, Error::InvalidBody("Empty or invalid json".into()));
        let p = get_payload(b"5", &MediaType::Json, None, BodyUse::Mutation).unwrap();
        assert_eq!(p.0.unwrap().json_text(), "[]");
    }

    #[test]
    fn columns_skip_the_body() {
        let cols = vec!["id".to_string(), "body".to_string()];
        let p = get_payload(b"[1,2]", &MediaType::Json, Some(&cols), BodyUse::Mutation).unwrap();
        assert_eq!(p.0, Some(Payload::RawJson("[1,2]".into())));
        assert_eq!(keys(&p), vec!["body", "id"]);
        // PUT ignores ?columns=
        let p = get_payload(br#"{"x":1}"#, &MediaType::Json, Some(&cols), BodyUse::SingleUpsert).unwrap();
        assert_eq!(keys(&p), vec!["x"]);
    }

    #[test]
    fn csv_bodies() {
        let p = get_payload(b"a,b\n\"x,\"\"y\",NULL\r\n", &MediaType::Csv, None, BodyUse::Mutation).unwrap();
        assert_eq!(p.0.unwrap().json_text(), r#"[{"a":"x,\"y","b":null}]"#);
        let e = get_payload(b"a,b\nfoo,bar\nbaz", &MediaType::Csv, None, BodyUse::Mutation).unwrap_err();
        assert_eq!(e, Error::InvalidBody("All lines must have same number of fields".into()));
    }

    #[test]
    fn form_bodies() {
        let p = get_payload(b"a=1&b=forms+are%20fun&a=2", &MediaType::UrlEncoded, None, BodyUse::Mutation).unwrap();
        assert_eq!(p.0.unwrap().json_text(), r#"{"a":"2","b":"forms are fun"}"#);
        let e = get_payload(b"x", &MediaType::TextPlain, None, BodyUse::Mutation).unwrap_err();
        assert_eq!(e, Error::InvalidBody("Content-Type not acceptable: text/plain".into()));
    }
}
