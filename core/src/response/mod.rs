//! Query results → HTTP responses (PostgREST's `Response.hs`): status, Content-Range,
//! Content-Type, Preference-Applied, the `response.headers`/`response.status` GUCs, errors.

pub mod cors;
pub mod timing;

use crate::config::Config;
use crate::error::Error;
use crate::http::HttpResponse;
use bytes::Bytes;

/// The first row of the main statement, by column. Every main statement returns
/// `(total_result_set, page_total, body, response_headers, response_status[, location,
/// response_inserted])`: the last two only for writes.
///
/// The body is bytes: the extension reads it with its type's binary send function, as
/// PostgREST does (bytea as is, json and text as UTF-8, jsonb with its version byte), and
/// the response sends them unchanged. The other columns are text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResultSet {
    pub table_total: Option<i64>,
    pub page_total: i64,
    pub body: Bytes,
    pub guc_headers: Option<String>,
    pub guc_status: Option<String>,
    /// the inserted row's primary key as `key=eq.value` pairs (a JSON array of strings), for Location
    pub location: Option<String>,
    /// rows inserted by an upsert (to tell 201 from 200)
    pub inserted: Option<i64>,
}

/// The index of the body column, the one read in binary.
pub const BODY_COLUMN: usize = 2;

impl ResultSet {
    pub fn from_row(row: &[Option<Bytes>]) -> Result<ResultSet, Error> {
        let col = |i: usize| row.get(i).and_then(|v| v.as_deref()).map(|v| String::from_utf8_lossy(v).into_owned());
        let int = |i: usize| col(i).and_then(|v| v.parse::<i64>().ok());
        Ok(ResultSet {
            table_total: int(0),
            page_total: int(1).unwrap_or(0),
            body: row.get(BODY_COLUMN).cloned().flatten().unwrap_or_default(),
            guc_headers: col(3),
            guc_status: col(4),
            location: col(5),
            inserted: int(6),
        })
    }
}

/// The total for Content-Range (PostgREST's `actionResult`): planned counts come from the
/// plan's "Plan Rows"; estimated counts too, once the exact count passed db-max-rows.
pub fn counted_total(
    exact: Option<i64>,
    explain_json: Option<&str>,
    count: Option<crate::request::preferences::Count>,
    max_rows: Option<i64>,
) -> Option<i64> {
    use crate::request::preferences::Count;
    let planned = || -> Option<i64> {
        let v: serde_json::Value = serde_json::from_str(explain_json?).ok()?;
        v.get(0)?.get("Plan")?.get("Plan Rows")?.as_f64().map(|r| r as i64)
    };
    match count {
        Some(Count::Planned) => planned(),
        // PostgREST compares `Just total > maxRows`, and any Just is greater than Nothing:
        // without db-max-rows the estimate always takes the larger of both
        Some(Count::Estimated) => match (exact, max_rows) {
            (Some(t), m) if m.is_none_or(|m| t > m) => planned().map(|p| p.max(t)).or(Some(t)),
            _ => exact,
        },
        _ => exact,
    }
}

/// Apply `response.status` / `response.headers` set by the SQL (PostgREST's
/// `overrideStatusHeaders`): the status replaces ours; headers are added or replace ours.
pub fn override_status_headers(
    rs: &ResultSet,
    status: u16,
    mut headers: Vec<(String, String)>,
) -> Result<(u16, Vec<(String, String)>), Error> {
    let status = match &rs.guc_status {
        None => status,
        Some(s) => s.trim().parse::<u16>().ok().filter(|s| (100..600).contains(s)).ok_or(Error::GucStatus)?,
    };
    if let Some(h) = &rs.guc_headers {
        let parsed: serde_json::Value = serde_json::from_str(h).map_err(|_| Error::GucHeaders)?;
        let list = parsed.as_array().ok_or(Error::GucHeaders)?;
        for item in list {
            let obj = item.as_object().filter(|o| o.len() == 1).ok_or(Error::GucHeaders)?;
            for (k, v) in obj {
                let v = v.as_str().ok_or(Error::GucHeaders)?;
                headers.retain(|(name, _)| !name.eq_ignore_ascii_case(k));
                headers.push((k.clone(), v.to_string()));
            }
        }
    }
    Ok((status, headers))
}

pub fn error_response(config: &Config, e: &Error) -> HttpResponse {
    let body = serde_json::to_vec(&e.body(config.client_error_verbose)).unwrap_or_default();
    let mut headers = vec![
        ("Content-Type".to_string(), "application/json; charset=utf-8".to_string()),
        // names the error for proxies and logs (RFC 9209), as PostgREST does
        ("Proxy-Status".to_string(), format!("PostgREST; error={}", e.code())),
    ];
    headers.extend(e.headers());
    HttpResponse::new(e.status(), headers, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guc_headers_override() {
        let rs = ResultSet { guc_headers: Some(r#"[{"X-A":"1"},{"Content-Type":"text/x"}]"#.into()), ..Default::default() };
        let (s, h) = override_status_headers(&rs, 200, vec![("Content-Type".into(), "application/json".into())]).unwrap();
        assert_eq!(s, 200);
        assert!(h.contains(&("X-A".into(), "1".into())));
        assert!(h.contains(&("Content-Type".into(), "text/x".into())));
    }

    #[test]
    fn bad_guc_status_is_an_error() {
        let rs = ResultSet { guc_status: Some("abc".into()), ..Default::default() };
        assert_eq!(override_status_headers(&rs, 200, vec![]).unwrap_err(), Error::GucStatus);
    }
}
