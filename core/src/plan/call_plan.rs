//! Planning a function call, `/rpc/<function>` (PostgREST's `Plan/CallPlan.hs` and the call
//! parts of `Plan.hs`: `callReadPlan`, `findProc`, `callPlan`).
//!
//! It decides which overload is called (by the names of the arguments given, or the single
//! unnamed json/jsonb/text/xml/bytea parameter a raw POST body goes to), where the arguments
//! come from (the query string of a GET, a form or a JSON body of a POST), whether the
//! transaction may write, and which columns the call must return for the read plan of its
//! rows (filters, embeddings) to work.

use std::collections::{BTreeMap, BTreeSet};

use super::fuzzy;
use super::read::{read_plan, ReadKind};
use super::read_plan::{CoercibleFilter, CoercibleLogicTree, CoercibleOrderTerm, ReadPlan};
use crate::config::Config;
use crate::error::{Error, NoRpc};
use crate::request::media_type::MediaType;
use crate::request::payload::Payload;
use crate::request::preferences::Handling;
use crate::request::{ApiRequest, Method};
use crate::schema_cache::{Cardinality, FuncVolatility, QualifiedIdentifier, Relationship, Routine, RoutineParam, SchemaCache};
use crate::text::Text;

/// How the function is called (PostgREST's `CallPlan`).
#[derive(Debug, Clone, PartialEq)]
pub struct CallPlan {
    pub qi: QualifiedIdentifier,
    pub params: CallParams,
    pub args: CallArgs,
    pub scalar: bool,
    pub set_of_scalar: bool,
    /// columns the filters of the read plan use
    pub filter_fields: BTreeSet<String>,
    /// columns the read plan needs (`*` for all)
    pub returning: BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CallParams {
    /// `f("a" := ..., "b" := ...)`: the parameters given arguments, in declaration order
    Key(Vec<RoutineParam>),
    /// `f(...)`: the single unnamed parameter
    OnePos(RoutineParam),
}

#[derive(Debug, Clone, PartialEq)]
pub enum CallArgs {
    /// from the query string or a form: name → value
    Direct(BTreeMap<String, RpcParamValue>),
    /// the raw body: JSON, or text/xml/bytes for a single unnamed parameter
    Json(Option<Text>),
}

/// `?v=1` or, for a variadic parameter, `?v=1&v=2`.
#[derive(Debug, Clone, PartialEq)]
pub enum RpcParamValue {
    Fixed(String),
    Variadic(Vec<String>),
}

/// A call and the read of its rows (PostgREST's `CallReadPlan`).
#[derive(Debug, Clone)]
pub struct CallReadPlan {
    pub read: ReadPlan,
    pub call: CallPlan,
    pub routine: Routine,
    /// false only for a POST of a volatile function
    pub read_only: bool,
}

pub fn call_read_plan(config: &Config, cache: &SchemaCache, api: &ApiRequest, name: &str) -> Result<CallReadPlan, Error> {
    let is_post = api.method == Method::Post;
    // the body was parsed with the request (`request::payload`, as PostgREST's getPayload)
    let payload = if is_post { api.payload.as_ref() } else { None };
    let param_keys: BTreeSet<String> = match payload {
        None => api.query.params.iter().map(|(k, _)| k.clone()).collect(),
        Some(_) => api.columns.iter().cloned().collect(),
    };
    let qi = QualifiedIdentifier::new(api.schema.clone(), name);
    let routine = find_proc(cache, &qi, &param_keys, &api.content_type, is_post)?.clone();
    // a function returning rows of a table reads (and embeds) as that table
    let rel_qi = QualifiedIdentifier::new(routine.schema.clone(), routine.table_name().unwrap_or(&routine.name));
    let read = read_plan(config, cache, api, &rel_qi, ReadKind::Routine)?;
    let args = match payload {
        None => CallArgs::Direct(to_rpc_params(&routine, &api.query.params)),
        Some(Payload::ProcessedUrlEncoded { params, .. }) => CallArgs::Direct(to_rpc_params(&routine, params)),
        Some(Payload::ProcessedJson { raw, .. } | Payload::RawJson(raw) | Payload::Raw(raw)) => CallArgs::Json(Some(raw.clone())),
    };
    let read_only = !is_post || routine.volatility != FuncVolatility::Volatile;
    let call = call_plan(&routine, &param_keys, args, &read);
    Ok(CallReadPlan { read, call, routine, read_only })
}

/// With `handling=strict`, `max-affected` only for functions returning a set (checked after
/// content negotiation, as PostgREST does; invalid preferences were refused with the request).
pub fn check_preferences(api: &ApiRequest, routine: &Routine) -> Result<(), Error> {
    let strict = api.preferences.handling == Some(Handling::Strict);
    if strict && api.preferences.max_affected.is_some() && routine.returns_single() {
        return Err(Error::MaxAffectedRpcViolation);
    }
    Ok(())
}

/// Find the overload of `qi` the arguments name (PostgREST's `findProc`): the one whose
/// required parameters are all given and whose other given arguments are optional
/// parameters; failing that, a function with a single unnamed parameter of the type the
/// POST body's Content-Type stands for.
pub fn find_proc<'a>(
    cache: &'a SchemaCache,
    qi: &QualifiedIdentifier,
    keys: &BTreeSet<String>,
    content_type: &MediaType,
    is_post: bool,
) -> Result<&'a Routine, Error> {
    let overloads = cache.routines(qi);
    let raw_body = is_post && matches!(content_type, MediaType::OctetStream | MediaType::TextPlain | MediaType::TextXml);
    let matches_params = |r: &Routine| {
        if r.params.is_empty() {
            return keys.is_empty() && !raw_body;
        }
        let (required, optional): (Vec<&RoutineParam>, Vec<&RoutineParam>) = r.params.iter().partition(|p| p.required);
        let required: BTreeSet<String> = required.iter().map(|p| p.name.clone()).collect();
        let optional: BTreeSet<String> = optional.iter().map(|p| p.name.clone()).collect();
        keys.difference(&optional).cloned().collect::<BTreeSet<_>>() == required
    };
    let single_unnamed = |r: &Routine| match r.params.as_slice() {
        [p] if is_post && p.name.is_empty() => matches!(
            (content_type, p.type_name.as_str()),
            (MediaType::Json, "json" | "jsonb")
                | (MediaType::TextPlain, "text")
                | (MediaType::TextXml, "xml")
                | (MediaType::OctetStream, "bytea")
        ),
        _ => false,
    };
    let named: Vec<&Routine> = overloads.iter().filter(|r| matches_params(r)).collect();
    let fallback: Vec<&Routine> = overloads.iter().filter(|r| !matches_params(r) && single_unnamed(r)).collect();
    match (named.as_slice(), fallback.as_slice()) {
        ([], []) => Err(no_rpc(cache, qi, keys, content_type, is_post, overloads)),
        ([], [r]) | ([r], _) => Ok(r),
        ([], procs) | (procs, _) => Err(Error::AmbiguousRpc(procs.iter().map(|r| describe(r)).collect())),
    }
}

/// `schema.name(arg => type, ...)`, as PGRST203 lists the candidates.
fn describe(r: &Routine) -> String {
    let params: Vec<String> = r.params.iter().map(|p| format!("{} => {}", p.name, p.type_name)).collect();
    format!("{}.{}({})", r.schema, r.name, params.join(", "))
}

/// PGRST202 with PostgREST's hint: a function of a close name when none has this name,
/// else the closest parameter list among the overloads.
fn no_rpc(
    cache: &SchemaCache,
    qi: &QualifiedIdentifier,
    keys: &BTreeSet<String>,
    content_type: &MediaType,
    is_post: bool,
    overloads: &[Routine],
) -> Error {
    let arg_keys: Vec<String> = keys.iter().cloned().collect();
    let list_to_text = |names: &mut Vec<String>| {
        names.sort();
        format!("({})", names.join(", "))
    };
    let hint = if overloads.is_empty() {
        let names: Vec<&str> = cache.routines.keys().filter(|k| k.schema == qi.schema).map(|k| k.name.as_str()).collect();
        fuzzy::best(&qi.name, &names, 0.75).map(String::from)
    } else {
        let lists: Vec<String> = overloads.iter().map(|r| list_to_text(&mut r.params.iter().map(|p| p.name.clone()).collect())).collect();
        let candidates: Vec<&str> = lists.iter().map(String::as_str).collect();
        fuzzy::best(&list_to_text(&mut arg_keys.clone()), &candidates, fuzzy::DEFAULT_MIN_SCORE)
            .map(|params| format!("{}{params}", qi.name))
    };
    Error::NoRpc(Box::new(NoRpc {
        schema: qi.schema.clone(),
        name: qi.name.clone(),
        arg_keys,
        content_type: content_type.name(),
        is_inv_post: is_post,
        hint: hint.map(|h| format!("Perhaps you meant to call the function {}.{h}", qi.schema)),
    }))
}

/// Arguments by name (PostgREST's `toRpcParams`): the last of repeated arguments wins, except
/// for a variadic parameter, which takes them all in order.
pub fn to_rpc_params(routine: &Routine, pairs: &[(String, String)]) -> BTreeMap<String, RpcParamValue> {
    let mut out: BTreeMap<String, RpcParamValue> = BTreeMap::new();
    for (k, v) in pairs {
        let variadic = routine.has_variadic && routine.params.iter().any(|p| &p.name == k && p.variadic);
        match (variadic, out.get_mut(k)) {
            (true, Some(RpcParamValue::Variadic(vs))) => vs.push(v.clone()),
            (true, _) => {
                out.insert(k.clone(), RpcParamValue::Variadic(vec![v.clone()]));
            }
            (false, _) => {
                out.insert(k.clone(), RpcParamValue::Fixed(v.clone()));
            }
        }
    }
    out
}

/// PostgREST's `callPlan`.
fn call_plan(routine: &Routine, keys: &BTreeSet<String>, args: CallArgs, read: &ReadPlan) -> CallPlan {
    let params = match routine.params.as_slice() {
        [p] if p.name.is_empty() => CallParams::OnePos(p.clone()),
        all => CallParams::Key(all.iter().filter(|p| keys.contains(&p.name)).cloned().collect()),
    };
    CallPlan {
        qi: routine.qi(),
        params,
        args,
        scalar: routine.returns_scalar(),
        set_of_scalar: routine.returns_set_of_scalar(),
        filter_fields: filter_field_names(read),
        returning: returning_columns(read),
    }
}

/// The columns filters use at any level of the read plan (PostgREST's `getFilterFieldNames`),
/// plus those the top level orders by: PostgREST forgets these and fails with 42703 on
/// `select=a&order=b`. Null-embed filters name an embedding, not a column, so they are left out.
fn filter_field_names(read: &ReadPlan) -> BTreeSet<String> {
    fn tree(t: &CoercibleLogicTree, out: &mut BTreeSet<String>) {
        match t {
            CoercibleLogicTree::Stmnt(CoercibleFilter::Filter { field, .. }) => {
                out.insert(field.name.clone());
            }
            CoercibleLogicTree::Stmnt(CoercibleFilter::NullEmbed { .. }) => {}
            CoercibleLogicTree::Expr(_, _, ts) => ts.iter().for_each(|t| tree(t, out)),
        }
    }
    fn node(n: &ReadPlan, out: &mut BTreeSet<String>) {
        n.where_.iter().for_each(|t| tree(t, out));
        n.children.iter().for_each(|c| node(c, out));
    }
    let mut out = BTreeSet::new();
    node(read, &mut out);
    for term in &read.order {
        if let CoercibleOrderTerm::Field { field, .. } = term {
            out.insert(field.name.clone());
        }
    }
    out
}

/// The columns the read of the call's rows needs (PostgREST's `inferColsEmbedNeeds` without
/// primary keys): the selected ones plus the join columns of embeddings; all of them when
/// `*` is selected or a computed relationship is embedded.
fn returning_columns(read: &ReadPlan) -> BTreeSet<String> {
    let names: BTreeSet<String> = read.select.iter().map(|s| s.field.name.clone()).collect();
    if names.contains("*") {
        return BTreeSet::from(["*".to_string()]);
    }
    let mut out = names;
    for child in &read.children {
        match &child.rel_to_parent {
            Some(Relationship::ComputedRelationship { .. }) => return BTreeSet::from(["*".to_string()]),
            Some(Relationship::Relationship { cardinality, .. }) => {
                let cols = match cardinality {
                    Cardinality::O2M { columns, .. } | Cardinality::M2O { columns, .. } | Cardinality::O2O { columns, .. } => columns,
                    Cardinality::M2M(j) => &j.cols_source,
                };
                out.extend(cols.iter().map(|(c, _)| c.to_string()));
            }
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(name: &str, ty: &str, required: bool, variadic: bool) -> RoutineParam {
        RoutineParam { name: name.into(), type_name: ty.into(), type_max_length: ty.into(), required, variadic }
    }

    fn routine(name: &str, params: Vec<RoutineParam>) -> Routine {
        Routine {
            schema: "test".into(),
            name: name.into(),
            description: None,
            has_variadic: params.iter().any(|p| p.variadic),
            params,
            return_type: crate::schema_cache::RetType::Single(crate::schema_cache::PgType::Scalar(QualifiedIdentifier::new(
                "pg_catalog",
                "text",
            ))),
            volatility: FuncVolatility::Volatile,
            isolation_level: None,
            settings: vec![],
        }
    }

    fn cache(routines: Vec<Routine>) -> SchemaCache {
        let mut c = SchemaCache::default();
        for r in routines {
            c.routines.entry(r.qi()).or_default().push(r);
        }
        c
    }

    fn keys(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn overloads_resolve_by_argument_names() {
        let c = cache(vec![
            routine("add_them", vec![param("a", "integer", true, false), param("b", "integer", true, false)]),
            routine("opt", vec![param("a", "integer", true, false), param("b", "integer", false, false)]),
            routine("raw", vec![param("", "json", true, false)]),
            routine("raw", vec![param("", "jsonb", true, false)]),
        ]);
        let qi = |n: &str| QualifiedIdentifier::new("test", n);
        assert!(find_proc(&c, &qi("add_them"), &keys(&["a", "b"]), &MediaType::Json, false).is_ok());
        assert!(find_proc(&c, &qi("opt"), &keys(&["a"]), &MediaType::Json, false).is_ok());
        assert!(find_proc(&c, &qi("opt"), &keys(&["b"]), &MediaType::Json, false).is_err());
        let e = find_proc(&c, &qi("add_them"), &keys(&["a", "b", "smthelse"]), &MediaType::Json, false).unwrap_err();
        assert_eq!(e.status(), 404);
        assert_eq!(e.message(), "Could not find the function test.add_them(a, b, smthelse) in the schema cache");
        assert_eq!(e.hint(), serde_json::json!("Perhaps you meant to call the function test.add_them(a, b)"));
        let e = find_proc(&c, &qi("add_thm"), &keys(&[]), &MediaType::Json, false).unwrap_err();
        assert_eq!(e.hint(), serde_json::json!("Perhaps you meant to call the function test.add_them"));
        let e = find_proc(&c, &qi("raw"), &keys(&["A"]), &MediaType::Json, true).unwrap_err();
        assert_eq!(e.code(), "PGRST203");
        assert_eq!(e.message(), "Could not choose the best candidate function between: test.raw( => json), test.raw( => jsonb)");
    }

    #[test]
    fn variadic_arguments_accumulate() {
        let r = routine("f", vec![param("a", "integer", true, false), param("v", "text[]", false, true)]);
        let pairs: Vec<(String, String)> =
            [("a", "1"), ("a", "2"), ("v", "x"), ("v", "y")].iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let m = to_rpc_params(&r, &pairs);
        assert_eq!(m["a"], RpcParamValue::Fixed("2".into()));
        assert_eq!(m["v"], RpcParamValue::Variadic(vec!["x".into(), "y".into()]));
    }
}
