//! `GET`/`HEAD` on a table or view: plan, statement, and the response (PostgREST's
//! `readResponse`).

use super::{main_tx_for, HttpResponse, Planned, Shape};
use crate::config::Config;
use crate::error::{Error, RangeError};
use crate::plan;
use crate::request::media_type::MediaType;
use crate::request::{range, ApiRequest, Method};
use crate::response::{self, ResultSet};
use crate::schema_cache::SchemaCache;
use crate::request::preferences::Count;
use crate::sql::read::{explain_count, main_read, BodyHandler};

#[derive(Debug, Clone)]
pub struct ReadShape {
    pub media: MediaType,
    pub table: String,
    pub head: bool,
}

pub fn main_tx(config: &Config, cache: &SchemaCache, api: &ApiRequest, name: &str, role: String) -> Result<Planned, Error> {
    let read = plan::read_plan(config, cache, api, name)?;
    let media = negotiate(api)?;
    let count = api.preferences.count;
    let exact = matches!(count, Some(Count::Exact | Count::Estimated));
    let count_limit = if count == Some(Count::Estimated) { config.db_max_rows.map(|m| m + 1) } else { None };
    let statement = main_read(&read, exact, count_limit, config.db_max_rows, handler(&media));
    let shape = Shape::Read(ReadShape { media, table: name.to_string(), head: api.method == Method::Head });
    let mut main = main_tx_for(config, api, role, true, statement, shape);
    if matches!(count, Some(Count::Planned | Count::Estimated)) {
        main.explain = Some(explain_count(&read));
    }
    Ok(Planned::Run(Box::new(main)))
}

/// The body aggregate for a media type.
pub fn handler(media: &MediaType) -> BodyHandler {
    match media {
        MediaType::ObjectJson { nulls_stripped } => BodyHandler::JsonObject { nulls_stripped: *nulls_stripped },
        MediaType::ArrayJson { nulls_stripped } => BodyHandler::JsonArray { nulls_stripped: *nulls_stripped },
        MediaType::Csv => BodyHandler::Csv,
        MediaType::GeoJson => BodyHandler::GeoJson,
        _ => BodyHandler::JsonArray { nulls_stripped: false },
    }
}

/// The media type of a table read: the first acceptable one (PostgREST's `Negotiate.hs`).
pub fn negotiate(api: &ApiRequest) -> Result<MediaType, Error> {
    for m in &api.accept {
        match m {
            MediaType::Any | MediaType::Json => return Ok(MediaType::Json),
            MediaType::ObjectJson { .. } | MediaType::ArrayJson { .. } | MediaType::Csv | MediaType::GeoJson => {
                return Ok(m.clone())
            }
            _ => {}
        }
    }
    Err(Error::MediaType(api.accept.iter().map(MediaType::name).collect()))
}

pub fn respond(config: &Config, shape: &ReadShape, api: &ApiRequest, rs: ResultSet) -> Result<HttpResponse, Error> {
    if let MediaType::ObjectJson { .. } = shape.media {
        if rs.page_total != 1 {
            return Err(Error::Singularity(rs.page_total));
        }
    }
    let (status, content_range) = range::status_and_content_range(&api.top_range, rs.page_total, rs.table_total);
    if status == 416 {
        let total = rs.table_total.unwrap_or(0);
        let err = Error::InvalidRange(RangeError::OutOfBounds(api.top_range.offset, total));
        let mut response = response::error_response(config, &err);
        response.headers.push(("Content-Range".into(), content_range));
        return Ok(response);
    }
    let location = if api.query.canonical.is_empty() {
        format!("/{}", shape.table)
    } else {
        format!("/{}?{}", shape.table, api.query.canonical)
    };
    let mut headers = vec![
        ("Content-Range".to_string(), content_range),
        ("Content-Location".to_string(), location),
        ("Content-Type".to_string(), shape.media.content_type()),
    ];
    if let Some(applied) = api.preferences.applied(api.preferences.timezone.is_some()) {
        headers.push(("Preference-Applied".to_string(), applied));
    }
    let (status, headers) = response::override_status_headers(&rs, status, headers)?;
    let body = if shape.head { vec![] } else { rs.body.into_bytes() };
    Ok(HttpResponse { status, headers, body })
}
