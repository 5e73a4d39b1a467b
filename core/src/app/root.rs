//! `GET`/`HEAD /`: the OpenAPI document (PostgREST's `inspectPlan` and the `InspectPlan`
//! branches of `MainTx.hs`/`Response.hs`). The transaction runs `openapi::statement` as the
//! request's role (which relations and functions it may use, the schema's comment); the
//! response builds the document from that and the schema cache.

use super::{main_tx_for, Planned, Shape};
use crate::config::Config;
use crate::error::Error;
use crate::http::HttpResponse;
use crate::openapi;
use crate::request::media_type::MediaType;
use crate::request::{ApiRequest, Method};
use crate::schema_cache::SchemaCache;

/// What the response needs: the part of the schema cache for the schema (the response
/// step has no access to the cache itself), and whether only headers are sent.
#[derive(Debug, Clone)]
pub struct OpenApiShape {
    pub cache: Box<SchemaCache>,
    pub schema: String,
    pub head: bool,
}

pub fn main_tx(config: &Config, cache: &SchemaCache, api: &ApiRequest) -> Result<Planned, Error> {
    // PostgREST's inspectPlan: the document is OpenAPI, which JSON and */* accept too
    if !api.accept.iter().any(|m| matches!(m, MediaType::Any | MediaType::Json | MediaType::OpenApi)) {
        return Err(Error::MediaType(api.accept.iter().map(MediaType::name).collect()));
    }
    let statement = openapi::statement(config.openapi_mode, &api.schema);
    let shape =
        OpenApiShape { cache: Box::new(schema_part(cache, &api.schema)), schema: api.schema.clone(), head: api.method == Method::Head };
    Ok(Planned::Run(Box::new(main_tx_for(config, api, true, statement, &[], Shape::OpenApi(shape)))))
}

/// The relations, relationships and functions of `schema`: all the document reads.
fn schema_part(cache: &SchemaCache, schema: &str) -> SchemaCache {
    SchemaCache {
        schemas: vec![schema.to_string()],
        tables: cache.tables.iter().filter(|(qi, _)| qi.schema == schema).map(|(k, v)| (k.clone(), v.clone())).collect(),
        relationships: cache
            .relationships
            .iter()
            .filter(|((qi, s), _)| qi.schema == schema && s == schema)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        routines: cache.routines.iter().filter(|(qi, _)| qi.schema == schema).map(|(k, v)| (k.clone(), v.clone())).collect(),
        ..SchemaCache::default()
    }
}

/// The statement's one JSON column → the document. HEAD gets the headers only, without
/// Content-Length (as PostgREST).
pub fn respond(config: &Config, shape: &OpenApiShape, rows: &[Vec<Option<String>>]) -> Result<HttpResponse, Error> {
    let text = rows.first().and_then(|r| r.first()).and_then(|c| c.as_deref()).unwrap_or("{}");
    let access = openapi::parse_access(text).map_err(Error::Internal)?;
    let body = if shape.head { vec![] } else { openapi::encode(&openapi::document(config, &shape.cache, &shape.schema, &access)) };
    Ok(HttpResponse::new(200, vec![("Content-Type".into(), "application/openapi+json; charset=utf-8".into())], body))
}
