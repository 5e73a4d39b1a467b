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
    /// application/vnd.pgrst.plan[+json|+text]: the execution plan of the request
    /// (`for` = the media type planned for, `options` = EXPLAIN options in request order)
    Plan { json: bool, for_media: String, options: Vec<String> },
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
    /// `toContentType`): no charset for octet-stream and for media types it does not know,
    /// such as those of custom handlers (`application/vnd.twkb`, `text/special`).
    pub fn content_type(&self) -> String {
        match self {
            MediaType::Json | MediaType::Any => "application/json; charset=utf-8".into(),
            MediaType::ArrayJson { nulls_stripped: false } => "application/vnd.pgrst.array+json; charset=utf-8".into(),
            MediaType::ArrayJson { nulls_stripped: true } => "application/vnd.pgrst.array+json;nulls=stripped; charset=utf-8".into(),
            MediaType::ObjectJson { nulls_stripped: false } => "application/vnd.pgrst.object+json; charset=utf-8".into(),
            MediaType::ObjectJson { nulls_stripped: true } => "application/vnd.pgrst.object+json;nulls=stripped; charset=utf-8".into(),
            MediaType::GeoJson => "application/geo+json; charset=utf-8".into(),
            MediaType::Csv => "text/csv; charset=utf-8".into(),
            MediaType::TextPlain => "text/plain; charset=utf-8".into(),
            MediaType::TextXml => "text/xml; charset=utf-8".into(),
            MediaType::OctetStream => "application/octet-stream".into(),
            MediaType::UrlEncoded => "application/x-www-form-urlencoded".into(),
            MediaType::OpenApi => "application/openapi+json; charset=utf-8".into(),
            MediaType::Plan { json, for_media, options } => format!(
                "application/vnd.pgrst.plan+{}; for=\"{for_media}\"{}; charset=utf-8",
                if *json { "json" } else { "text" },
                if options.is_empty() { String::new() } else { format!("; options={}", options.join("|")) }
            ),
            MediaType::Other(s) => s.clone(),
        }
    }

    /// The name used in PGRST107 ("None of these media types are available: ...").
    pub fn name(&self) -> String {
        match self {
            MediaType::Any => "*/*".into(),
            MediaType::Other(s) => s.clone(),
            other => other.content_type().split(';').next().unwrap_or("").to_string(),
        }
    }
}

/// `application/vnd.pgrst.plan+json; for="application/json"; options=analyze|verbose`
fn parse_plan(essence: &str, value: &str) -> Option<MediaType> {
    let json = match essence {
        "application/vnd.pgrst.plan+json" => true,
        "application/vnd.pgrst.plan+text" | "application/vnd.pgrst.plan" => false,
        _ => return None,
    };
    let mut for_media = "application/json".to_string();
    let mut options = vec![];
    for param in value.split(';').skip(1) {
        let Some((k, v)) = param.trim().split_once('=') else { continue };
        match k.trim().to_ascii_lowercase().as_str() {
            "for" => for_media = v.trim().trim_matches('"').to_string(),
            "options" => options = v.trim().split('|').map(|o| o.trim().to_ascii_lowercase()).filter(|o| !o.is_empty()).collect(),
            _ => {}
        }
    }
    Some(MediaType::Plan { json, for_media, options })
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
}
