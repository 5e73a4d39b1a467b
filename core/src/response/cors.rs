//! CORS as PostgREST applies it: its `Cors.hs` policy run through the wai-cors middleware
//! (larskuhtz/wai-cors `Network/Wai/Middleware/Cors.hs`), whose additions are part of what a
//! client sees. Only requests with an `Origin` header get CORS headers, websocket upgrades
//! none. `server-cors-allowed-origins` empty allows every origin (`*`), otherwise only the
//! listed ones, with credentials. A preflight is answered here without touching the database;
//! an `OPTIONS` that is not a valid preflight (no or an unsupported
//! `Access-Control-Request-Method`, an unsupported requested header, an origin not listed) goes
//! on unchanged to PostgREST's own `OPTIONS` answer (wai-cors' `corsIgnoreFailures = True`).

use crate::http::{Headers, HttpResponse};

/// PostgREST's `corsMethods`, then the simple methods wai-cors adds (`union simpleMethods`:
/// `GET, HEAD, POST`, of which only `HEAD` is new).
const METHODS: [&str; 7] = ["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS", "HEAD"];
/// wai-cors' `simpleHeaders` without `Content-Type`, added after the requested headers.
const SIMPLE_HEADERS: [&str; 3] = ["Accept", "Accept-Language", "Content-Language"];
/// `corsMaxAge = Just $ 60*60*24`
const MAX_AGE: &str = "86400";
const EXPOSED: &str =
    "Content-Encoding, Content-Location, Content-Range, Content-Type, Date, Location, Server, Transfer-Encoding, Range-Unit";

/// The allowed-origin headers for `origin` (wai-cors' `commonCorsHeaders`), or None when the
/// origin is not allowed.
fn allow_origin(allowed: &[String], origin: &str) -> Option<Vec<(String, String)>> {
    if allowed.is_empty() {
        Some(vec![("Access-Control-Allow-Origin".into(), "*".into())])
    } else if allowed.iter().any(|o| o == origin) {
        Some(vec![("Access-Control-Allow-Origin".into(), origin.to_string()), ("Access-Control-Allow-Credentials".into(), "true".into())])
    } else {
        None
    }
}

/// wai-cors ignores websocket requests even when they carry an `Origin`.
fn is_websocket(headers: &Headers) -> bool {
    headers.get("upgrade").is_some_and(|u| u.eq_ignore_ascii_case("websocket"))
}

/// A preflight (`OPTIONS` with `Origin` and a supported `Access-Control-Request-Method`) from
/// an allowed origin is answered here: 200, no body, the headers in wai-cors' order.
pub fn preflight(allowed: &[String], method: &str, headers: &Headers) -> Option<HttpResponse> {
    if method != "OPTIONS" || is_websocket(headers) {
        return None;
    }
    let mut out = allow_origin(allowed, headers.get("origin")?)?;
    // compared byte for byte, as wai-cors does: `post` is not `POST`
    let requested = headers.get("access-control-request-method")?;
    if !METHODS.contains(&requested) {
        return None;
    }
    out.push(("Access-Control-Allow-Methods".into(), METHODS.join(", ")));
    // no Access-Control-Request-Headers, no Access-Control-Allow-Headers
    if let Some(value) = headers.get("access-control-request-headers") {
        out.push(("Access-Control-Allow-Headers".into(), allow_headers(value)?));
    }
    out.push(("Access-Control-Max-Age".into(), MAX_AGE.into()));
    Some(HttpResponse::new(200, out, vec![]))
}

/// `Access-Control-Allow-Headers` for a preflight's `Access-Control-Request-Headers`, or None
/// when wai-cors finds a requested header unsupported. PostgREST's policy allows
/// `Authorization` and every requested header (split at `,` and stripped, kept as written,
/// empty pieces included); wai-cors appends the simple headers not already there (Haskell's
/// `union`, case-insensitive) and checks the names its own parser reads from the value.
fn allow_headers(value: &str) -> Option<String> {
    let mut supported: Vec<&str> = vec!["Authorization"];
    if !value.is_empty() {
        // Data.ByteString.Char8.strip: ' ' and '\t'..='\r' (also the byte 0xA0, only ever part of a character here)
        supported.extend(value.split(',').map(|h| h.trim_matches(|c: char| c == ' ' || ('\t'..='\r').contains(&c))));
    }
    for simple in SIMPLE_HEADERS {
        if !supported.iter().any(|h| h.eq_ignore_ascii_case(simple)) {
            supported.push(simple);
        }
    }
    let all_supported = requested_names(value).iter().all(|name| supported.iter().any(|h| h.eq_ignore_ascii_case(name)));
    all_supported.then(|| supported.join(", "))
}

/// The header names wai-cors' `httpHeaderNameListParser` reads: spaces, then names separated
/// by `,` with spaces allowed after a name but not after the comma. It stops, successfully,
/// at the first thing it cannot read, so `a, b` reads as `[a]` and `a(b` as `[a]`.
fn requested_names(value: &str) -> Vec<&str> {
    let bytes = value.as_bytes();
    // attoparsec's Char8 `space`: ' ' and '\t'..='\r'
    let skip_spaces = |mut i: usize| {
        while i < bytes.len() && (bytes[i] == b' ' || (b'\t'..=b'\r').contains(&bytes[i])) {
            i += 1;
        }
        i
    };
    // RFC 2616 token characters
    let name_char = |b: u8| (33..=126).contains(&b) && !b"()<>@,;:\\\"/[]?={}".contains(&b);
    let mut names = vec![];
    let mut i = skip_spaces(0);
    loop {
        let start = i;
        while i < bytes.len() && name_char(bytes[i]) {
            i += 1;
        }
        if i == start {
            return names;
        }
        names.push(&value[start..i]);
        i = skip_spaces(i);
        if bytes.get(i) != Some(&b',') {
            return names;
        }
        i += 1;
    }
}

/// Headers for an actual request from an allowed origin, appended after the response's own
/// (wai-cors' `addHeaders`). The answer to an `OPTIONS` request is left as it is, whatever it
/// is: wai-cors either answered the preflight itself (our [`preflight`]) or passed the
/// request on untouched to PostgREST (its `OPTIONS` answer, or an error).
pub fn decorate(allowed: &[String], method: &str, headers: &Headers, response: &mut HttpResponse) {
    if method == "OPTIONS" || is_websocket(headers) {
        return;
    }
    let Some(origin) = headers.get("origin") else { return };
    let Some(cors) = allow_origin(allowed, origin) else { return };
    for (k, v) in cors {
        response.headers.push(k, v);
    }
    response.headers.push("Access-Control-Expose-Headers", EXPOSED);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Headers {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn fields(r: &HttpResponse) -> Vec<(&str, &str)> {
        r.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
    }

    fn preflight_for(allowed: &[String], request_headers: Option<&str>) -> Option<HttpResponse> {
        let mut headers = h(&[("Origin", "http://example.com"), ("Access-Control-Request-Method", "POST")]);
        if let Some(v) = request_headers {
            headers = headers.iter().cloned().chain([("Access-Control-Request-Headers".to_string(), v.to_string())]).collect();
        }
        preflight(allowed, "OPTIONS", &headers)
    }

    #[test]
    fn preflight_headers_as_wai_cors_sends_them() {
        // PostgREST's CorsSpec "replies naively and permissively to preflight request"
        let r = preflight_for(&[], Some("Foo,Bar")).unwrap();
        assert_eq!(r.status, 200);
        assert!(r.body.is_empty());
        assert_eq!(
            fields(&r),
            [
                ("Access-Control-Allow-Origin", "*"),
                ("Access-Control-Allow-Methods", "GET, POST, PATCH, PUT, DELETE, OPTIONS, HEAD"),
                ("Access-Control-Allow-Headers", "Authorization, Foo, Bar, Accept, Accept-Language, Content-Language"),
                ("Access-Control-Max-Age", "86400"),
            ]
        );
        // listed origins: the origin itself, with credentials
        let r = preflight_for(&["http://example.com".to_string()], None).unwrap();
        assert_eq!(
            fields(&r),
            [
                ("Access-Control-Allow-Origin", "http://example.com"),
                ("Access-Control-Allow-Credentials", "true"),
                ("Access-Control-Allow-Methods", "GET, POST, PATCH, PUT, DELETE, OPTIONS, HEAD"),
                ("Access-Control-Max-Age", "86400"),
            ]
        );
    }

    #[test]
    fn allow_headers_is_the_union_with_the_simple_headers() {
        let allow = |v| preflight_for(&[], Some(v)).map(|r| r.headers.get("Access-Control-Allow-Headers").unwrap_or("").to_string());
        // stripped, kept as written; a simple header asked for is not repeated, in any case
        assert_eq!(allow(" x-a ,accept").unwrap(), "Authorization, x-a, accept, Accept-Language, Content-Language");
        // Content-Type is not a simple header here: it is listed only when asked for
        assert_eq!(allow("Content-Type").unwrap(), "Authorization, Content-Type, Accept, Accept-Language, Content-Language");
        // an empty value asks for nothing; empty pieces are kept (Haskell's split)
        assert_eq!(allow("").unwrap(), "Authorization, Accept, Accept-Language, Content-Language");
        assert_eq!(allow("a,,b").unwrap(), "Authorization, a, , b, Accept, Accept-Language, Content-Language");
        // the requested Authorization stays, duplicated, as the policy lists it
        assert_eq!(allow("authorization").unwrap(), "Authorization, authorization, Accept, Accept-Language, Content-Language");
        // wai-cors reads `a b` as the name `a`, which the policy does not list: not a preflight
        assert_eq!(allow("a b"), None);
        assert_eq!(allow("x(y"), None);
    }

    #[test]
    fn wai_cors_header_name_parser() {
        assert_eq!(requested_names(" Foo ,Bar "), ["Foo", "Bar"]);
        assert_eq!(requested_names("Foo, Bar"), ["Foo"]);
        assert_eq!(requested_names("a(b,c"), ["a"]);
        assert!(requested_names(",a").is_empty());
        assert!(requested_names("").is_empty());
    }

    #[test]
    fn not_a_preflight_goes_on_to_the_options_answer() {
        let with = |pairs: &[(&str, &str)]| preflight(&[], "OPTIONS", &h(pairs));
        assert!(with(&[("Origin", "http://a")]).is_none());
        assert!(with(&[("Origin", "http://a"), ("Access-Control-Request-Method", "post")]).is_none());
        assert!(with(&[("Origin", "http://a"), ("Access-Control-Request-Method", "TRACE")]).is_none());
        assert!(with(&[("Access-Control-Request-Method", "GET")]).is_none());
        assert!(with(&[("Origin", "http://a"), ("Access-Control-Request-Method", "HEAD"), ("Upgrade", "websocket")]).is_none());
        assert!(with(&[("Origin", "http://a"), ("Access-Control-Request-Method", "HEAD")]).is_some());
        let listed = ["http://example.com".to_string()];
        assert!(preflight(&listed, "OPTIONS", &h(&[("Origin", "http://a"), ("Access-Control-Request-Method", "GET")])).is_none());
        assert!(preflight(&[], "GET", &h(&[("Origin", "http://a"), ("Access-Control-Request-Method", "GET")])).is_none());
        // the OPTIONS answer (with its Allow) and a preflight answer are not decorated
        let mut options =
            HttpResponse::new(200, vec![("Access-Control-Allow-Origin".into(), "*".into()), ("Allow".into(), "GET".into())], vec![]);
        decorate(&listed, "OPTIONS", &h(&[("Origin", "http://example.com")]), &mut options);
        assert_eq!(options.headers.len(), 2);
        let mut answered = preflight_for(&[], None).unwrap();
        decorate(&[], "OPTIONS", &h(&[("Origin", "http://example.com")]), &mut answered);
        assert_eq!(answered, preflight_for(&[], None).unwrap());
    }

    #[test]
    fn listed_origins_only() {
        let allowed = vec!["http://example.com".to_string()];
        let mut r = HttpResponse::default();
        decorate(&allowed, "GET", &h(&[("Origin", "http://invalid.com")]), &mut r);
        assert!(r.headers.is_empty());
        decorate(&allowed, "GET", &h(&[("Origin", "http://example.com")]), &mut r);
        assert_eq!(
            fields(&r),
            [
                ("Access-Control-Allow-Origin", "http://example.com"),
                ("Access-Control-Allow-Credentials", "true"),
                ("Access-Control-Expose-Headers", EXPOSED),
            ]
        );
        let mut ws = HttpResponse::default();
        decorate(&[], "GET", &h(&[("Origin", "http://example.com"), ("Upgrade", "WebSocket")]), &mut ws);
        assert!(ws.headers.is_empty());
    }
}
