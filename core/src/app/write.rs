//! POST, PATCH, PUT and DELETE on a table or view (PostgREST's `mutateReadPlan` and
//! the write responses).

use super::{HttpResponse, Planned};
use crate::config::Config;
use crate::error::Error;
use crate::request::ApiRequest;
use crate::response::ResultSet;
use crate::schema_cache::SchemaCache;

#[derive(Debug, Clone)]
pub struct WriteShape {}

pub fn main_tx(_config: &Config, _cache: &SchemaCache, api: &ApiRequest, _name: &str, _role: String) -> Result<Planned, Error> {
    Err(Error::NotImplemented(format!("{} on this resource is not available yet", api.raw_method)))
}

pub fn respond(_config: &Config, _shape: &WriteShape, _api: &ApiRequest, _rs: ResultSet) -> Result<HttpResponse, Error> {
    Err(Error::Internal("not implemented".into()))
}
