//! CORS as PostgREST applies it (its `Cors.hs` policy through wai-cors): only requests with an
//! `Origin` header get CORS headers; preflights are answered without touching the database.
//! `server-cors-allowed-origins` empty allows every origin (`*`), otherwise only the listed
//! ones, with credentials.

use crate::http::{Headers, HttpResponse};

const METHODS: &str = "GET, POST, PATCH, PUT, DELETE, OPTIONS";
const EXPOSED: &str =
    "Content-Encoding, Content-Location, Content-Range, Content-Type, Date, Location, Server, Transfer-Encoding, Range-Unit";

/// The allowed-origin headers for `origin`, or None when the origin is not allowed.
fn allow_origin(allowed: &[String], origin: &str) -> Option<Vec<(String, String)>> {
    if allowed.is_empty() {
        Some(vec![("Access-Control-Allow-Origin".into(), "*".into())])
    } else if allowed.iter().any(|o| o == origin) {
        Some(vec![("Access-Control-Allow-Origin".into(), origin.to_string()), ("Access-Control-Allow-Credentials".into(), "true".into())])
    } else {
        None
    }
}

/// A preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) from an allowed
/// origin is answered here.
pub fn preflight(allowed: &[String], method: &str, headers: &Headers) -> Option<HttpResponse> {
    if method != "OPTIONS" {
        return None;
    }
    let origin = headers.get("origin")?;
    headers.get("access-control-request-method")?;
    let mut out = allow_origin(allowed, origin)?;
    let mut allow_headers = vec!["Authorization".to_string()];
    if let Some(req) = headers.get("access-control-request-headers") {
        allow_headers.extend(req.split(',').map(|h| h.trim().to_string()).filter(|h| !h.is_empty()));
    }
    out.push(("Access-Control-Allow-Methods".into(), METHODS.into()));
    out.push(("Access-Control-Allow-Headers".into(), allow_headers.join(", ")));
    out.push(("Access-Control-Max-Age".into(), "86400".into()));
    Some(HttpResponse::new(200, out, vec![]))
}

/// Headers for an actual request from an allowed origin.
pub fn decorate(allowed: &[String], headers: &Headers, response: &mut HttpResponse) {
    let Some(origin) = headers.get("origin") else { return };
    let Some(cors) = allow_origin(allowed, origin) else { return };
    for (k, v) in cors {
        response.headers.set(k, v);
    }
    response.headers.push("Access-Control-Expose-Headers", EXPOSED);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Headers {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn preflight_from_any_origin_by_default() {
        let r = preflight(&[], "OPTIONS", &h(&[("Origin", "http://a"), ("Access-Control-Request-Method", "POST")])).unwrap();
        assert!(r.headers.contains(&("Access-Control-Allow-Origin".into(), "*".into())));
        assert!(r.headers.iter().any(|(k, v)| k == "Access-Control-Allow-Methods" && v.contains("POST")));
    }

    #[test]
    fn listed_origins_only() {
        let allowed = vec!["http://example.com".to_string()];
        let mut r = HttpResponse::default();
        decorate(&allowed, &h(&[("Origin", "http://invalid.com")]), &mut r);
        assert!(r.headers.is_empty());
        decorate(&allowed, &h(&[("Origin", "http://example.com")]), &mut r);
        assert!(r.headers.contains(&("Access-Control-Allow-Origin".into(), "http://example.com".into())));
    }
}
