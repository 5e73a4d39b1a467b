//! HTTP request → `ApiRequest`: path, query parameters, Prefer, media types, Range.

pub mod api_request;
pub mod media_type;
pub mod payload;
pub mod preferences;
pub mod query_params;
pub mod range;
pub mod types;

pub use api_request::{parse, ApiRequest, Method, Resource};
