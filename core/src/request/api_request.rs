//! HTTP request → `ApiRequest`: what the client asks for, before the schema is consulted
//! (PostgREST's `ApiRequest.hs`).

use super::media_type::{parse_accept, MediaType};
use super::payload::{self, BodyUse, Payload};
use super::preferences::Preferences;
use super::query_params::{self, QueryParams};
use super::range::{self, NonnegRange};
use crate::config::{Config, TxEnd};
use crate::error::{Error, RangeError};
use crate::http::HttpRequest;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    Relation(String),
    Routine(String),
    Schema,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    Post,
    Patch,
    Put,
    Delete,
    Options,
}

#[derive(Debug, Clone)]
pub struct ApiRequest {
    pub method: Method,
    pub resource: Resource,
    pub schema: String,
    pub negotiated_by_profile: bool,
    pub query: QueryParams,
    /// offset/limit of the top level (Range header ∩ limit/offset)
    pub top_range: NonnegRange,
    /// ranges of embedded levels, keyed by embed path joined with '.' ("" = top level)
    pub ranges: HashMap<String, NonnegRange>,
    pub preferences: Preferences,
    pub accept: Vec<MediaType>,
    pub content_type: MediaType,
    /// lower-cased names, Cookie excluded
    pub headers: Vec<(String, String)>,
    pub cookies: Vec<(String, String)>,
    pub path: String,
    pub raw_method: String,
    /// the parsed body of a write or RPC call (PostgREST's `iPayload`)
    pub payload: Option<Payload>,
    /// the columns named by `?columns=` or the payload's keys, sorted (`iColumns`)
    pub columns: Vec<String>,
    /// role and claims from the JWT (set by `app::api_request`, which authenticates first)
    pub auth: crate::auth::Auth,
}

impl ApiRequest {
    /// GET and HEAD run in a read-only transaction, as in PostgREST.
    pub fn read_only(&self) -> bool {
        matches!(self.method, Method::Get | Method::Head)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

pub fn parse(config: &Config, req: &HttpRequest) -> Result<ApiRequest, Error> {
    let header = |name: &str| req.headers.get(name);
    let method = match req.method.as_str() {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "POST" => Method::Post,
        "PATCH" => Method::Patch,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        "OPTIONS" => Method::Options,
        other => return Err(Error::UnsupportedMethod(other.to_string())),
    };
    let resource = match resource(&req.path)? {
        // a disabled root answers PGRST126 even when db-root-spec names a function
        Resource::Schema if config.openapi_mode == crate::config::OpenApiMode::Disabled => return Err(Error::OpenApiDisabled),
        // db-root-spec: `/` calls that function (by name, in the request's schema)
        Resource::Schema => config
            .db_root_spec
            .as_ref()
            .map_or(Resource::Schema, |f| Resource::Routine(f.split_once('.').map_or(f.as_str(), |(_, name)| name).to_string())),
        other => other,
    };
    if let Resource::Routine(_) = resource {
        if !matches!(method, Method::Get | Method::Head | Method::Post | Method::Options) {
            return Err(Error::InvalidRpcMethod(req.method.clone()));
        }
    }
    let (schema, negotiated_by_profile) = schema(config, method, &header)?;
    // a GET/HEAD call takes the function's arguments from bare `?name=value` parameters
    let query = match (&resource, method) {
        (Resource::Routine(_), Method::Get | Method::Head) => query_params::parse_rpc_read(&req.query)?,
        _ => query_params::parse(&req.query)?,
    };
    let (top_range, ranges) = ranges(method, &query, header("range"))?;
    let allow_tx_override = matches!(config.db_tx_end, TxEnd::CommitAllowOverride | TxEnd::RollbackAllowOverride);
    let preferences = Preferences::from_headers(req.headers.get_all("prefer"), allow_tx_override);
    if preferences.handling == Some(super::preferences::Handling::Strict) && !preferences.invalid.is_empty() {
        return Err(Error::InvalidPreferences(preferences.invalid.clone()));
    }
    let accept = header("accept").map(parse_accept).unwrap_or_else(|| vec![MediaType::Any]);
    let accept = if accept.is_empty() { vec![MediaType::Any] } else { accept };
    let content_type = header("content-type").map(MediaType::parse).unwrap_or(MediaType::Json);
    let cookies = header("cookie").map(parse_cookies).unwrap_or_default();
    let (payload, columns) = payload::get_payload(&req.body, &content_type, query.columns.as_ref(), body_use(&resource, method))?;
    Ok(ApiRequest {
        method,
        resource,
        schema,
        negotiated_by_profile,
        query,
        top_range,
        ranges,
        preferences,
        accept,
        content_type,
        // request.headers: names lower-cased, as PostgREST (and HTTP/2) has them
        headers: req
            .headers
            .iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("cookie"))
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect(),
        cookies,
        path: req.path.clone(),
        raw_method: req.method.clone(),
        payload,
        columns: columns.into_iter().collect(),
        auth: Default::default(),
    })
}

/// Which requests read their body, and how (PostgREST's `shouldParsePayload`).
fn body_use(resource: &Resource, method: Method) -> BodyUse {
    match (resource, method) {
        (Resource::Relation(_), Method::Post | Method::Patch) => BodyUse::Mutation,
        (Resource::Relation(_), Method::Put) => BodyUse::SingleUpsert,
        (Resource::Routine(_), Method::Post) => BodyUse::Call,
        _ => BodyUse::Ignored,
    }
}

fn resource(path: &str) -> Result<Resource, Error> {
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect();
    match segments.as_slice() {
        [] => Ok(Resource::Schema),
        [table] => Ok(Resource::Relation(table.clone())),
        [rpc, name] if rpc == "rpc" => Ok(Resource::Routine(name.clone())),
        _ => Err(Error::InvalidResourcePath),
    }
}

/// Accept-Profile (reads) / Content-Profile (writes) select one of the exposed schemas.
fn schema<'a>(config: &Config, method: Method, header: &impl Fn(&str) -> Option<&'a str>) -> Result<(String, bool), Error> {
    let profile = match method {
        Method::Delete | Method::Patch | Method::Post | Method::Put => header("content-profile"),
        _ => header("accept-profile"),
    };
    match profile {
        Some(p) if !config.db_schemas.iter().any(|s| s == p) => Err(Error::UnacceptableSchema(p.to_string(), config.db_schemas.clone())),
        Some(p) => Ok((p.to_string(), true)),
        None => Ok((config.db_schemas[0].clone(), config.db_schemas.len() != 1)),
    }
}

/// PostgREST's `getRanges`: the Range header counts for GET only, intersected with
/// limit/offset; `limit=0` bypasses the emptiness check.
fn ranges(method: Method, q: &QueryParams, range_header: Option<&str>) -> Result<(NonnegRange, HashMap<String, NonnegRange>), Error> {
    let mut ranges: HashMap<String, NonnegRange> =
        q.ranges.iter().map(|(k, r)| (k.clone(), NonnegRange::from_limit_offset(r.offset, r.limit))).collect();
    let header_range = match (method, range_header) {
        (Method::Get, Some(h)) => range::parse_header(h),
        _ => range::ALL,
    };
    let limit_range = ranges.get("limit").copied().unwrap_or(range::ALL);
    let limit_zero = limit_range.limit() == Some(0);
    let top = if limit_zero { limit_range } else { header_range.intersect(&limit_range) };
    if top.is_empty() && !limit_zero {
        let err = if header_range.is_empty() { RangeError::LowerGtUpper } else { RangeError::NegativeLimit };
        return Err(Error::InvalidRange(err));
    }
    if method == Method::Put && top != range::ALL {
        return Err(Error::PutLimitNotAllowed);
    }
    ranges.insert("limit".to_string(), top);
    Ok((top, ranges))
}

fn parse_cookies(value: &str) -> Vec<(String, String)> {
    value.split(';').filter_map(|c| c.trim().split_once('=')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources() {
        assert_eq!(resource("/").unwrap(), Resource::Schema);
        assert_eq!(resource("/items").unwrap(), Resource::Relation("items".into()));
        assert_eq!(resource("/rpc/f").unwrap(), Resource::Routine("f".into()));
        assert_eq!(resource("/a%20b").unwrap(), Resource::Relation("a b".into()));
        assert!(resource("/a/b/c").is_err());
    }
}
