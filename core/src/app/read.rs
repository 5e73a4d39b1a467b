//! `GET`/`HEAD` on a table or view: plan, statement, and the response (PostgREST's
//! `readResponse`).

use super::{main_tx_for, Checks, Planned, Shape};
use crate::config::Config;
use crate::error::{Error, RangeError};
use crate::http::HttpResponse;
use crate::plan;
use crate::plan::negotiate::{has_default_select, negotiate_content};
use crate::request::media_type::MediaType;
use crate::request::preferences::Count;
use crate::request::{range, ApiRequest, Method};
use crate::response::{self, ResultSet};
use crate::schema_cache::SchemaCache;
use crate::sql::read::{explain_count, main_read};
use bytes::Bytes;

#[derive(Debug, Clone)]
pub struct ReadShape {
    pub media: MediaType,
    pub table: String,
    pub head: bool,
}

pub fn main_tx(config: &Config, cache: &SchemaCache, api: &ApiRequest, name: &str) -> Result<Planned, Error> {
    let read = plan::read_plan(config, cache, api, name)?;
    let (handler, media) = negotiate_content(cache, api, &read.from, has_default_select(&read))?;
    let count = api.preferences.count;
    let exact = matches!(count, Some(Count::Exact | Count::Estimated));
    let count_limit = if count == Some(Count::Estimated) { config.db_max_rows.map(|m| m.saturating_add(1)) } else { None };
    let statement = main_read(&read, exact, count_limit, config.db_max_rows, &handler);
    let singular = matches!(media, MediaType::ObjectJson { .. });
    let shape = Shape::Read(ReadShape { media, table: name.to_string(), head: api.method == Method::Head });
    let mut main = main_tx_for(config, api, true, statement, &[], shape);
    main.job.checks = Checks { singular, ..Checks::default() };
    if matches!(count, Some(Count::Planned | Count::Estimated)) {
        main.job.explain = Some(explain_count(&read));
    }
    Ok(Planned::Run(Box::new(main)))
}

pub fn respond(config: &Config, shape: &ReadShape, api: &ApiRequest, rs: ResultSet) -> Result<HttpResponse, Error> {
    let (status, content_range) = range::status_and_content_range(&api.top_range, rs.page_total, rs.table_total);
    if status == 416 {
        let total = rs.table_total.unwrap_or(0);
        let err = Error::InvalidRange(RangeError::OutOfBounds(api.top_range.offset, total));
        let mut response = response::error_response(config, &err);
        response.headers.push("Content-Range", content_range);
        return Ok(response);
    }
    let location =
        if api.query.canonical.is_empty() { format!("/{}", shape.table) } else { format!("/{}?{}", shape.table, api.query.canonical) };
    let mut headers = vec![
        ("Content-Range".to_string(), content_range),
        ("Content-Location".to_string(), location),
        ("Content-Type".to_string(), shape.media.content_type()),
    ];
    if let Some(applied) = api.preferences.applied(api.preferences.timezone.is_some()) {
        headers.push(("Preference-Applied".to_string(), applied));
    }
    let (status, headers) = response::override_status_headers(&rs, status, headers)?;
    let body = if shape.head { Bytes::new() } else { rs.body };
    Ok(HttpResponse::new(status, headers, body))
}
