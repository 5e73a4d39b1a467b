//! The `body` column of every main statement (PostgREST's `handlerF`): the rows of
//! `_postgrest_t` aggregated by the negotiated media handler. Reads, writes and calls share
//! it; only a call passes its routine, whose return type decides between a JSON value, an
//! array and the `pgrst_scalar` column.
//!
//! The column keeps the handler's own type (json, text, bytea, a media-type domain): the
//! extension reads it in binary, as PostgREST does, and sends those bytes unchanged.

use super::fragment as frag;
use crate::schema_cache::{MediaHandler, RelIdentifier, Routine};

/// PostgREST's `handlerF`.
pub fn handler_f(routine: Option<&Routine>, handler: &MediaHandler) -> String {
    match handler {
        MediaHandler::BuiltinAggArrayJsonStrip => as_json(routine, true),
        MediaHandler::BuiltinAggSingleJson(strip) => as_json_single(routine, *strip),
        MediaHandler::BuiltinOvAggJson => as_json(routine, false),
        MediaHandler::BuiltinOvAggGeoJson => AS_GEOJSON.to_string(),
        MediaHandler::BuiltinOvAggCsv => AS_CSV.to_string(),
        MediaHandler::CustomFunc(func, target) => custom_func(routine, func, target),
        MediaHandler::NoAgg => "''::text".to_string(),
    }
}

const AS_GEOJSON: &str =
    "json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(ST_AsGeoJSON(_postgrest_t)::json), '[]'))";

/// The header line from the first row's keys, then each row's record text without its
/// parentheses (PostgREST's `asCsvF`).
const AS_CSV: &str = concat!(
    "(SELECT coalesce(string_agg(a.k, ','), '') FROM (SELECT json_object_keys(r)::text as k FROM ",
    "( SELECT row_to_json(hh) as r from pgrst_source as hh limit 1 ) s ) a)",
    " || '\n' || ",
    "coalesce(string_agg(substring(_postgrest_t::text, 2, length(_postgrest_t::text) - 2), '\n'), '')"
);

fn strip_nulls(strip: bool, s: &str) -> String {
    if strip {
        format!("json_strip_nulls({s})")
    } else {
        s.to_string()
    }
}

/// PostgREST's `asJsonSingleF`: the first row (or scalar) as one JSON value.
fn as_json_single(routine: Option<&Routine>, strip: bool) -> String {
    let agg =
        if routine.is_some_and(Routine::returns_scalar) { "json_agg(_postgrest_t.pgrst_scalar)->0" } else { "json_agg(_postgrest_t)->0" };
    format!("coalesce({}, 'null')", strip_nulls(strip, agg))
}

/// PostgREST's `asJsonF`: an array of the rows, except for functions returning one value.
fn as_json(routine: Option<&Routine>, strip: bool) -> String {
    let (agg, empty) = match routine {
        Some(r) if r.returns_single_composite() => ("json_agg(_postgrest_t)->0", "null"),
        Some(r) if r.returns_scalar() => ("json_agg(_postgrest_t.pgrst_scalar)->0", "null"),
        Some(r) if r.returns_set_of_scalar() => ("json_agg(_postgrest_t.pgrst_scalar)", "[]"),
        _ => ("json_agg(_postgrest_t)", "[]"),
    };
    format!("coalesce({}, '{empty}')", strip_nulls(strip, agg))
}

/// PostgREST's `customFuncF`: the user's aggregate (or the identity of a function returning a
/// media-type domain) over the rows, cast to the relation it was defined for.
fn custom_func(routine: Option<&Routine>, func: &crate::schema_cache::QualifiedIdentifier, target: &RelIdentifier) -> String {
    if routine.is_some_and(Routine::returns_scalar) {
        return format!("{}(_postgrest_t.pgrst_scalar)", frag::qi(func));
    }
    match target {
        RelIdentifier::RelAnyElement => format!("{}(_postgrest_t)", frag::qi(func)),
        RelIdentifier::RelId(rel) => format!("{}(_postgrest_t::{})", frag::qi(func), frag::qi(rel)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema_cache::QualifiedIdentifier;

    #[test]
    fn table_handlers() {
        assert_eq!(handler_f(None, &MediaHandler::BuiltinOvAggJson), "coalesce(json_agg(_postgrest_t), '[]')");
        assert_eq!(
            handler_f(None, &MediaHandler::BuiltinAggSingleJson(true)),
            "coalesce(json_strip_nulls(json_agg(_postgrest_t)->0), 'null')"
        );
        let twkb = MediaHandler::CustomFunc(
            QualifiedIdentifier::new("test", "twkb_agg"),
            RelIdentifier::RelId(QualifiedIdentifier::new("test", "lines")),
        );
        assert_eq!(handler_f(None, &twkb), "\"test\".\"twkb_agg\"(_postgrest_t::\"test\".\"lines\")");
        let any = MediaHandler::CustomFunc(QualifiedIdentifier::new("test", "outfunc_agg"), RelIdentifier::RelAnyElement);
        assert_eq!(handler_f(None, &any), "\"test\".\"outfunc_agg\"(_postgrest_t)");
        assert_eq!(handler_f(None, &MediaHandler::NoAgg), "''::text");
    }
}
