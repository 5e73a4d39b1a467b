//! Content negotiation (PostgREST's `Plan/Negotiate.hs`): the first accepted media type that
//! something produces picks the media handler that aggregates the body, and the media type
//! the response declares. Tables, views and functions negotiate the same way.
//!
//! The vendored JSON types (`vnd.pgrst.object`, `vnd.pgrst.array;nulls=stripped`) are
//! builtins nobody overrides. Any other type is looked up in the schema cache's handlers:
//! first those defined for the relation itself (its `*/*` handler wins over everything, but
//! only for the default `select=*`: a custom aggregate takes the whole row), then those for
//! `anyelement`, which include the builtin JSON, CSV and GeoJSON aggregates.

use crate::error::Error;
use crate::plan::read_plan::ReadPlan;
use crate::request::media_type::MediaType;
use crate::request::preferences::Representation;
use crate::request::{ApiRequest, Method, Resource};
use crate::schema_cache::{MediaHandler, QualifiedIdentifier, RelIdentifier, SchemaCache};

/// PostgREST's `negotiateContent`: the handler for the body and the response's media type.
/// `identifier` is the relation whose handlers apply (for a function, the table it returns).
pub fn negotiate_content(
    cache: &SchemaCache,
    api: &ApiRequest,
    identifier: &QualifiedIdentifier,
    default_select: bool,
) -> Result<(MediaHandler, MediaType), Error> {
    let rel = RelIdentifier::RelId(identifier.clone());
    let lookup = |mt: &MediaType| {
        let key = mt.name().to_ascii_lowercase();
        let own = || cache.media_handler(&rel, "*/*").or_else(|| cache.media_handler(&rel, &key));
        default_select
            .then(own)
            .flatten()
            .or_else(|| cache.media_handler(&RelIdentifier::RelAnyElement, &key))
            .map(|(handler, produced)| (handler.clone(), MediaType::parse(produced)))
    };
    let pick = api.accept.iter().find_map(|m| match m {
        MediaType::ObjectJson { nulls_stripped } => Some((MediaHandler::BuiltinAggSingleJson(*nulls_stripped), m.clone())),
        MediaType::ArrayJson { nulls_stripped: true } => Some((MediaHandler::BuiltinAggArrayJsonStrip, m.clone())),
        MediaType::ArrayJson { nulls_stripped: false } => lookup(&MediaType::Json),
        // a plan is negotiated for its `for` media type before this (app::plan); a plan
        // media type that reaches here is not enabled
        MediaType::Plan { .. } => None,
        other => lookup(other),
    });
    let Some((handler, media)) = pick else {
        return Err(Error::MediaType(api.accept.iter().map(MediaType::name).collect()));
    };
    let mutation =
        matches!(api.resource, Resource::Relation(_)) && matches!(api.method, Method::Post | Method::Patch | Method::Put | Method::Delete);
    if mutation {
        let full = api.preferences.representation == Some(Representation::Full);
        return Ok((if full { handler } else { MediaHandler::NoAgg }, media));
    }
    // nothing of the body is sent for HEAD: no aggregate
    if api.method == Method::Head {
        return Ok((MediaHandler::NoAgg, media));
    }
    Ok((handler, media))
}

/// PostgREST's `hasDefaultSelect`: `select=*` (or no select) and no embedding.
pub fn has_default_select(read: &ReadPlan) -> bool {
    read.children.is_empty() && (read.select.is_empty() || (read.select.len() == 1 && read.select[0].field.name == "*"))
}
