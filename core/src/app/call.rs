//! `/rpc/<function>`: calling a function (PostgREST's `callReadPlan`, its content negotiation
//! and the call response of `Response.hs`).
//!
//! GET/HEAD calls run in a read-only transaction; a POST does too unless the function is
//! volatile. The function's hoisted settings (`db-hoisted-tx-settings`, e.g. a
//! `statement_timeout` set on it) are set for the transaction before the call.

use super::{main_tx_for, Checks, Planned, Shape};
use crate::config::Config;
use crate::error::{Error, RangeError};
use crate::http::HttpResponse;
use crate::plan::call_plan::{self, CallReadPlan};
use crate::plan::negotiate::{has_default_select, negotiate_content};
use crate::request::media_type::MediaType;
use crate::request::preferences::Count;
use crate::request::{range, ApiRequest, Method};
use crate::response::{self, ResultSet};
use crate::schema_cache::{QualifiedIdentifier, SchemaCache};
use crate::sql::call::main_call;
use bytes::Bytes;

#[derive(Debug, Clone)]
pub struct CallShape {
    pub media: MediaType,
    pub head: bool,
    /// the function returns void: 204 without a body
    pub void: bool,
}

pub fn main_tx(config: &Config, cache: &SchemaCache, api: &ApiRequest, name: &str) -> Result<Planned, Error> {
    let CallReadPlan { read, call, routine, read_only } = call_plan::call_read_plan(config, cache, api, name)?;
    let rel_qi = QualifiedIdentifier::new(routine.schema.clone(), routine.table_name().unwrap_or(&routine.name));
    let (handler, media) = negotiate_content(cache, api, &rel_qi, has_default_select(&read))?;
    call_plan::check_preferences(api, &routine)?;
    let count = matches!(api.preferences.count, Some(Count::Exact | Count::Estimated));
    let statement = main_call(&routine, &call, &read, count, config.db_max_rows, &handler);
    let head = api.method == Method::Head;
    let singular = matches!(media, MediaType::ObjectJson { .. });
    let shape = Shape::Call(CallShape { media, head, void: routine.returns_void() });
    let mut main = main_tx_for(config, api, read_only, statement, &routine.settings, shape);
    main.job.checks = Checks { singular, max_affected: Checks::max_affected(api), put: false };
    if read_only && !api.read_only() {
        // a POST of a stable or immutable function: read-only, as PostgREST's transaction
        main.job.settings.insert(0, ("transaction_read_only".into(), "on".into()));
    }
    Ok(Planned::Run(Box::new(main)))
}

pub fn respond(config: &Config, shape: &CallShape, api: &ApiRequest, mut rs: ResultSet) -> Result<HttpResponse, Error> {
    let prefs = &api.preferences;
    let (status, content_range) = range::status_and_content_range(&api.top_range, rs.page_total, rs.table_total);
    let body = if status == 416 {
        let e = Error::InvalidRange(RangeError::OutOfBounds(api.top_range.offset, rs.table_total.unwrap_or(0)));
        serde_json::to_vec(&e.body(config.client_error_verbose)).unwrap_or_default().into()
    } else {
        std::mem::take(&mut rs.body)
    };
    let mut headers = vec![("Content-Range".to_string(), content_range)];
    // a call reports count, tx, handling, timezone and max-affected as applied
    let applied = crate::request::preferences::Preferences { resolution: None, representation: None, missing: None, ..prefs.clone() };
    if let Some(applied) = applied.applied(false) {
        headers.push(("Preference-Applied".to_string(), applied));
    }
    let (status, headers, body) = if shape.void {
        (204, headers, Bytes::new())
    } else {
        headers.push(("Content-Type".to_string(), shape.media.content_type()));
        (status, headers, if shape.head { Bytes::new() } else { body })
    };
    let (status, headers) = response::override_status_headers(&rs, status, headers)?;
    Ok(HttpResponse::new(status, headers, body))
}
