//! POST, PATCH, PUT and DELETE on a table or view (PostgREST's `mutateReadPlan`, the
//! checks of `MainTx.hs` that abort a write, and the write responses of `Response.hs`).
//!
//! `respond` runs inside the transaction: an error it returns (PGRST116 singular, PGRST115
//! PUT mismatch, PGRST124 max-affected) rolls the write back.

use super::{main_tx_for, Checks, Planned, Shape};
use crate::config::Config;
use crate::error::Error;
use crate::http::HttpResponse;
use crate::plan::find_table;
use crate::plan::mutate_plan::{self, Mutation};
use crate::plan::negotiate::{has_default_select, negotiate_content};
use crate::plan::read::{read_plan, ReadKind};
use crate::request::media_type::MediaType;
use crate::request::preferences::{Count, Preferences, Representation, Resolution};
use crate::request::range::content_range;
use crate::request::{ApiRequest, Method};
use crate::response::{self, ResultSet};
use crate::schema_cache::{QualifiedIdentifier, SchemaCache};
use crate::sql::mutate::{main_write, WriteOptions};
use bytes::Bytes;

/// What the response of a write needs besides the result row.
#[derive(Debug, Clone)]
pub struct WriteShape {
    pub mutation: Mutation,
    pub media: MediaType,
    pub table: String,
    /// `resolution=` shows in Preference-Applied only when it could apply: the table has a
    /// primary key or `on_conflict=` names the columns
    pub resolution_applies: bool,
}

pub fn main_tx(config: &Config, cache: &SchemaCache, api: &ApiRequest, name: &str) -> Result<Planned, Error> {
    let mutation = match api.method {
        Method::Post => Mutation::Create,
        Method::Patch => Mutation::Update,
        Method::Put => Mutation::SingleUpsert,
        Method::Delete => Mutation::Delete,
        _ => return Err(Error::UnsupportedMethod(api.raw_method.clone())),
    };
    let table = find_table(cache, &api.schema, name)?;
    let qi = QualifiedIdentifier { schema: table.schema.clone(), name: table.name.clone() };
    let read = read_plan(config, cache, api, &qi, ReadKind::Mutation)?;
    let mutate = mutate_plan::mutate_plan(mutation, table, api, cache, &read)?;
    let prefs = &api.preferences;
    let (handler, media) = negotiate_content(cache, api, &qi, has_default_select(&read))?;
    let opts =
        WriteOptions { handler, location: mutation == Mutation::Create && prefs.representation == Some(Representation::HeadersOnly) };
    let statement = main_write(&read, &mutate, opts);
    let shape = WriteShape {
        mutation,
        media,
        table: table.name.clone(),
        resolution_applies: !table.pk_cols.is_empty() || api.query.on_conflict.is_some(),
    };
    let checks = checks(&shape, api);
    let mut main = main_tx_for(config, api, false, statement, &[], Shape::Write(shape));
    main.job.checks = checks;
    Ok(Planned::Run(Box::new(main)))
}

pub fn respond(_config: &Config, shape: &WriteShape, api: &ApiRequest, rs: ResultSet) -> Result<HttpResponse, Error> {
    let prefs = &api.preferences;
    let full = prefs.representation == Some(Representation::Full);
    let counted = matches!(prefs.count, Some(Count::Exact | Count::Estimated)).then_some(rs.page_total);
    let applied = applied_preferences(shape, prefs).applied(prefs.timezone.is_some());
    let mut headers: Vec<(String, String)> = vec![];
    let status = match shape.mutation {
        Mutation::Create => {
            if let Some(location) = location(&shape.table, rs.location.as_deref()) {
                headers.push(("Location".into(), location));
            }
            headers.push(("Content-Range".into(), content_range(1, 0, counted)));
            let merged_none = rs.inserted.unwrap_or(0) <= 0 && prefs.resolution == Some(Resolution::MergeDuplicates);
            if merged_none {
                200
            } else {
                201
            }
        }
        Mutation::Update => {
            headers.push(("Content-Range".into(), content_range(0, rs.page_total - 1, counted)));
            if full {
                200
            } else {
                204
            }
        }
        Mutation::SingleUpsert => match (full, rs.inserted.unwrap_or(0) > 0) {
            (true, true) => 201,
            (true, false) => 200,
            (false, _) => 204,
        },
        Mutation::Delete => {
            headers.push(("Content-Range".into(), content_range(1, 0, counted)));
            if full {
                200
            } else {
                204
            }
        }
    };
    headers.extend(applied.map(|a| ("Preference-Applied".to_string(), a)));
    if full {
        headers.push(("Content-Type".into(), shape.media.content_type()));
    }
    let (status, headers) = response::override_status_headers(&rs, status, headers)?;
    let body = if full { rs.body } else { Bytes::new() };
    Ok(HttpResponse::new(status, headers, body))
}

/// The checks that abort a write after it ran (PostgREST's `failMutation`): PUT must hit
/// exactly its row, a singular response exactly one, and `max-affected` bounds PATCH and DELETE.
fn checks(shape: &WriteShape, api: &ApiRequest) -> Checks {
    let singular = matches!(shape.media, MediaType::ObjectJson { .. });
    match shape.mutation {
        Mutation::SingleUpsert => Checks { put: true, ..Checks::default() },
        Mutation::Update | Mutation::Delete => Checks { singular, max_affected: Checks::max_affected(api), put: false },
        Mutation::Create => Checks { singular, ..Checks::default() },
    }
}

/// The preferences each write reports as applied (PostgREST's `responsePreferences`).
fn applied_preferences(shape: &WriteShape, prefs: &Preferences) -> Preferences {
    let create = shape.mutation == Mutation::Create;
    let update = shape.mutation == Mutation::Update;
    Preferences {
        resolution: prefs.resolution.filter(|_| create && shape.resolution_applies),
        missing: prefs.missing.filter(|_| create || update),
        max_affected: prefs.max_affected.filter(|_| matches!(shape.mutation, Mutation::Update | Mutation::Delete)),
        invalid: vec![],
        ..prefs.clone()
    }
}

/// `/table?k1=eq.1&k2=eq.x` from the statement's `["k1=eq.1","k2=eq.x"]` (JSON text), keys and
/// values percent-encoded as http-types' `renderSimpleQuery`; None without a primary key.
fn location(table: &str, pairs: Option<&str>) -> Option<String> {
    let pairs: Vec<String> = serde_json::from_str(pairs?).ok()?;
    if pairs.is_empty() {
        return None;
    }
    let query: Vec<String> = pairs
        .iter()
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            format!("{}={}", query_encode(k), query_encode(v))
        })
        .collect();
    Some(format!("/{table}?{}", query.join("&")))
}

/// Percent-encoding of a query component: only `A-Z a-z 0-9 - _ . ~` stay as they are.
fn query_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_is_query_encoded() {
        assert_eq!(
            location("compound_pk", Some(r#"["k1=eq.12","k2=eq.Rock & R+ll"]"#)).unwrap(),
            "/compound_pk?k1=eq.12&k2=eq.Rock%20%26%20R%2Bll"
        );
        assert_eq!(location("t", Some("[]")), None);
        assert_eq!(location("t", None), None);
    }
}
