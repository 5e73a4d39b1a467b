//! Media types of `Accept` and `Content-Type` (PostgREST's `MediaType.hs`), and the `Accept`
//! header parsed with its quality factors.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaType {
    /// application/json
    Json,
    /// application/vnd.pgrst.array+json (nulls=stripped when true)
    ArrayJson { nulls_stripped: bool },
    /// application/vnd.pgrst.object+json (nulls=stripped when true)
    ObjectJson { nulls_stripped: bool },
    /// application/geo+json
    GeoJson,
    /// text/csv
    Csv,
    /// text/plain
    TextPlain,
    /// text/xml
    TextXml,
    /// application/octet-stream
    OctetStream,
    /// application/x-www-form-urlencoded
    UrlEncoded,
    /// application/openapi+json
    OpenApi,
    /// */*
    Any,
    /// application/vnd.pgrst.plan[+json|+text]: the execution plan of the request, for the
    /// media type of its `for` parameter (default application/json), with the EXPLAIN
    /// `options` PostgREST knows, in its order ([`PLAN_OPTIONS`])
    Plan { json: bool, for_media: Box<MediaType>, options: Vec<&'static str> },
    /// anything else, kept as written (without parameters)
    Other(String),
}

impl MediaType {
    pub fn parse(value: &str) -> MediaType {
        let mut parts = value.split(';').map(str::trim);
        let essence = parts.next().unwrap_or("").to_ascii_lowercase();
        let stripped = parts.any(|p| {
            let p = p.replace(' ', "").to_ascii_lowercase();
            p == "nulls=stripped"
        });
        if let Some(plan) = parse_plan(&essence, value) {
            return plan;
        }
        match essence.as_str() {
            "application/json" => MediaType::Json,
            // without nulls=stripped the array type is plain JSON (PostgREST's `checkArrayNullStrip`)
            "application/vnd.pgrst.array+json" | "application/vnd.pgrst.array" if stripped => MediaType::ArrayJson { nulls_stripped: true },
            "application/vnd.pgrst.array+json" | "application/vnd.pgrst.array" => MediaType::Json,
            "application/vnd.pgrst.object+json" | "application/vnd.pgrst.object" => MediaType::ObjectJson { nulls_stripped: stripped },
            "application/geo+json" => MediaType::GeoJson,
            "text/csv" => MediaType::Csv,
            "text/plain" => MediaType::TextPlain,
            "text/xml" => MediaType::TextXml,
            "application/octet-stream" => MediaType::OctetStream,
            "application/x-www-form-urlencoded" => MediaType::UrlEncoded,
            "application/openapi+json" => MediaType::OpenApi,
            "*/*" => MediaType::Any,
            other => MediaType::Other(other.to_string()),
        }
    }

    /// The Content-Type header value for a response in this media type (PostgREST's
    /// `toContentType`): the full name and `; charset=utf-8`, except for octet-stream and for
    /// media types it does not know, such as those of custom handlers (`application/vnd.twkb`,
    /// `text/special`). A response for `*/*` is JSON.
    pub fn content_type(&self) -> String {
        match self {
            MediaType::Any => "application/json; charset=utf-8".into(),
            MediaType::OctetStream | MediaType::Other(_) => self.name(),
            _ => format!("{}; charset=utf-8", self.name()),
        }
    }

    /// The full name, parameters included (PostgREST's `toMime`): what PGRST107 lists, and
    /// what a plan's `for` names (`application/vnd.pgrst.object+json;nulls=stripped`).
    pub fn name(&self) -> String {
        match self {
            MediaType::Json => "application/json".into(),
            MediaType::ArrayJson { nulls_stripped: false } => "application/vnd.pgrst.array+json".into(),
            MediaType::ArrayJson { nulls_stripped: true } => "application/vnd.pgrst.array+json;nulls=stripped".into(),
            MediaType::ObjectJson { nulls_stripped: false } => "application/vnd.pgrst.object+json".into(),
            MediaType::ObjectJson { nulls_stripped: true } => "application/vnd.pgrst.object+json;nulls=stripped".into(),
            MediaType::GeoJson => "application/geo+json".into(),
            MediaType::Csv => "text/csv".into(),
            MediaType::TextPlain => "text/plain".into(),
            MediaType::TextXml => "text/xml".into(),
            MediaType::OctetStream => "application/octet-stream".into(),
            MediaType::UrlEncoded => "application/x-www-form-urlencoded".into(),
            MediaType::OpenApi => "application/openapi+json".into(),
            MediaType::Any => "*/*".into(),
            MediaType::Plan { json, for_media, options } => format!(
                "application/vnd.pgrst.plan+{}; for=\"{}\"{}",
                if *json { "json" } else { "text" },
                for_media.name(),
                if options.is_empty() { String::new() } else { format!("; options={}", options.join("|")) }
            ),
            MediaType::Other(s) => s.clone(),
        }
    }
}

/// The EXPLAIN options a plan may ask for, in the order PostgREST's `decodeMediaType` keeps.
pub const PLAN_OPTIONS: [&str; 5] = ["analyze", "verbose", "settings", "buffers", "wal"];

/// `application/vnd.pgrst.plan+json; for="application/json"; options=analyze|verbose`
/// (PostgREST's `getPlan`): `for` is decoded as a media type of its own, `options` keeps the
/// known names, matched exactly, in PostgREST's order.
fn parse_plan(essence: &str, value: &str) -> Option<MediaType> {
    let json = match essence {
        "application/vnd.pgrst.plan+json" => true,
        "application/vnd.pgrst.plan+text" | "application/vnd.pgrst.plan" => false,
        _ => return None,
    };
    let params = parameters(value);
    // Data.Map.fromList: the last of a repeated parameter wins
    let param = |key: &str| params.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    let for_media = Box::new(MediaType::parse(param("for").unwrap_or("application/json")));
    let asked: Vec<&str> = param("options").map(|o| o.split('|').collect()).unwrap_or_default();
    let options = PLAN_OPTIONS.into_iter().filter(|o| asked.contains(o)).collect();
    Some(MediaType::Plan { json, for_media, options })
}

/// A media type's parameters as PostgREST's `tokenizeMediaType` reads them: after the
/// type, `; key=value` pairs (spaces allowed around `;` and `=`), the value quoted (up to the
/// next `"`, so it may hold `;`) or a run of letters, digits, `|` and `-`. Reading stops at
/// the first pair it cannot read. Keys are lowercased (RFC 7231), values kept.
fn parameters(value: &str) -> Vec<(String, String)> {
    let name_part = |c: char, extra: &str| c.is_alphanumeric() || extra.contains(c);
    let run = |s: &str, extra: &str| s.find(|c: char| !name_part(c, extra)).unwrap_or(s.len());
    let value = value.trim_start();
    let main = run(value, ".*");
    let Some(sub) = value[main..].strip_prefix('/') else { return vec![] };
    let mut rest = &sub[run(sub, ".*+-")..];
    let mut out = vec![];
    let pair = |s: &str| -> Option<((String, String), usize)> {
        let s = s.trim_start().strip_prefix(';')?.trim_start();
        let key_len = run(s, "-");
        let (key, s) = s.split_at(key_len);
        let s = s.trim_start().strip_prefix('=')?.trim_start();
        let (val, after) = match s.strip_prefix('"') {
            Some(quoted) => quoted.split_once('"')?,
            None => s.split_at(run(s, "|-")),
        };
        (!key.is_empty() && (s.starts_with('"') || !val.is_empty())).then(|| ((key.to_lowercase(), val.to_string()), after.len()))
    };
    while let Some((kv, left)) = pair(rest) {
        out.push(kv);
        rest = &rest[rest.len() - left..];
    }
    out
}

/// `Accept` → media types ordered by quality (stable for equal q), q=0 dropped.
pub fn parse_accept(value: &str) -> Vec<MediaType> {
    let mut items: Vec<(f32, usize, MediaType)> = vec![];
    for (i, item) in value.split(',').enumerate() {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let mut q = 1.0f32;
        let mut rest = vec![];
        for p in item.split(';').skip(1) {
            match p.trim().strip_prefix("q=") {
                Some(v) => q = v.trim().parse().unwrap_or(1.0),
                None => rest.push(p.trim()),
            }
        }
        if q <= 0.0 {
            continue;
        }
        let essence = item.split(';').next().unwrap_or("");
        let full = std::iter::once(essence).chain(rest).collect::<Vec<_>>().join(";");
        items.push((q, i, MediaType::parse(&full)));
    }
    items.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal).then(a.1.cmp(&b.1)));
    items.into_iter().map(|(_, _, m)| m).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_orders_by_quality() {
        assert_eq!(parse_accept("text/csv;q=0.5, application/json"), vec![MediaType::Json, MediaType::Csv]);
        assert_eq!(parse_accept("application/vnd.pgrst.object+json;nulls=stripped"), vec![MediaType::ObjectJson { nulls_stripped: true }]);
    }

    #[test]
    fn content_types_as_postgrest() {
        assert_eq!(MediaType::parse("application/vnd.pgrst.array+json"), MediaType::Json);
        assert_eq!(
            MediaType::parse("application/vnd.pgrst.array+json; nulls=stripped").content_type(),
            "application/vnd.pgrst.array+json;nulls=stripped; charset=utf-8"
        );
        assert_eq!(MediaType::parse("application/octet-stream").content_type(), "application/octet-stream");
        assert_eq!(MediaType::parse("application/vnd.twkb").content_type(), "application/vnd.twkb");
        assert_eq!(MediaType::parse("text/plain").content_type(), "text/plain; charset=utf-8");
    }

    fn plan_content_type(accept: &str) -> String {
        MediaType::parse(accept).content_type()
    }

    #[test]
    fn plan_for_names_the_full_media_type() {
        // PostgREST's PlanSpec: the default `for`, and an abbreviation decoded then named in full
        assert_eq!(
            plan_content_type("application/vnd.pgrst.plan+json"),
            "application/vnd.pgrst.plan+json; for=\"application/json\"; charset=utf-8"
        );
        assert_eq!(
            plan_content_type("application/vnd.pgrst.plan+json; for=\"application/vnd.pgrst.object\"; options=verbose"),
            "application/vnd.pgrst.plan+json; for=\"application/vnd.pgrst.object+json\"; options=verbose; charset=utf-8"
        );
        // every media type PostgREST can plan for, by its `toMime`
        for (asked, named) in [
            ("application/json", "application/json"),
            ("APPLICATION/JSON", "application/json"),
            ("application/vnd.pgrst.array+json", "application/json"),
            ("application/vnd.pgrst.array;nulls=stripped", "application/vnd.pgrst.array+json;nulls=stripped"),
            ("application/vnd.pgrst.object+json", "application/vnd.pgrst.object+json"),
            ("application/vnd.pgrst.object; nulls=stripped", "application/vnd.pgrst.object+json;nulls=stripped"),
            ("application/geo+json", "application/geo+json"),
            ("text/csv", "text/csv"),
            ("text/plain", "text/plain"),
            ("text/xml", "text/xml"),
            ("application/octet-stream", "application/octet-stream"),
            ("application/x-www-form-urlencoded", "application/x-www-form-urlencoded"),
            ("application/openapi+json", "application/openapi+json"),
            ("*/*", "*/*"),
            ("application/vnd.twkb", "application/vnd.twkb"),
        ] {
            assert_eq!(
                plan_content_type(&format!("application/vnd.pgrst.plan; for=\"{asked}\"")),
                format!("application/vnd.pgrst.plan+text; for=\"{named}\"; charset=utf-8"),
                "for={asked}"
            );
        }
    }

    #[test]
    fn plan_parameters_as_postgrest_tokenizes_them() {
        let plan = |v| match MediaType::parse(v) {
            MediaType::Plan { json, for_media, options } => (json, *for_media, options),
            other => panic!("not a plan: {other:?}"),
        };
        // options: the known ones, exactly as written, in PostgREST's order
        assert_eq!(plan("application/vnd.pgrst.plan;options=wal|nope|analyze|ANALYZE").2, ["analyze", "wal"]);
        assert_eq!(plan("application/vnd.pgrst.plan ; for=\"text/xml\" ; options=analyze"), (false, MediaType::TextXml, vec!["analyze"]));
        // a quoted value may hold `;`; the last of a repeated parameter wins
        assert_eq!(
            plan("application/vnd.pgrst.plan+json;for=\"application/vnd.pgrst.object;nulls=stripped\"").1,
            MediaType::ObjectJson { nulls_stripped: true }
        );
        assert_eq!(plan("application/vnd.pgrst.plan;for=\"text/csv\";for=\"text/plain\"").1, MediaType::TextPlain);
        // unquoted, a value is letters, digits, `|` and `-`: `application/json` reads as `application`
        assert_eq!(plan("application/vnd.pgrst.plan;for=application/json").1, MediaType::Other("application".into()));
        // reading stops at the first parameter it cannot read
        assert_eq!(plan("application/vnd.pgrst.plan;x;for=\"text/csv\"").1, MediaType::Json);
        assert_eq!(plan("application/vnd.pgrst.plan;for=\"text/csv").1, MediaType::Json);
        assert_eq!(parameters("a/b; K = \"v;w\" ;x=1|2-3"), [("k".to_string(), "v;w".to_string()), ("x".to_string(), "1|2-3".to_string())]);
    }

    #[test]
    fn unavailable_media_types_are_named_in_full() {
        // PGRST107 lists PostgREST's `toMime` of what was accepted
        assert_eq!(
            MediaType::parse("application/vnd.pgrst.object+json;nulls=stripped").name(),
            "application/vnd.pgrst.object+json;nulls=stripped"
        );
        assert_eq!(MediaType::parse("application/vnd.pgrst.plan").name(), "application/vnd.pgrst.plan+text; for=\"application/json\"");
        assert_eq!(MediaType::Any.name(), "*/*");
        assert_eq!(MediaType::Any.content_type(), "application/json; charset=utf-8");
    }
}
