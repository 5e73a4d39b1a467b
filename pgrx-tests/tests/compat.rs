//! Byte-for-byte compatibility with PostgREST where it is easy to drift (issue 21): the CORS
//! preflight as wai-cors sends it, the full media type in a plan's `for`, limits, offsets and
//! ranges past bigint answered with PostgreSQL's error, and where kept plans show (not in
//! `pg_prepared_statements`: a documented deviation).

use postgrest_ext_e2e::*;
use std::time::Duration;

/// Sets a `postgrest.*` GUC with ALTER SYSTEM, reloads, and polls until `applied` holds;
/// resets it (and waits for `reset` to hold) when dropped, even after a failed assertion.
struct Setting {
    name: &'static str,
    reset: fn() -> bool,
}

impl Setting {
    fn set(name: &'static str, value: &str, applied: fn() -> bool, reset: fn() -> bool) -> Setting {
        psql(&format!("ALTER SYSTEM SET postgrest.{name} = '{value}'"));
        psql("SELECT pg_reload_conf()");
        poll(applied, name);
        Setting { name, reset }
    }
}

impl Drop for Setting {
    fn drop(&mut self) {
        psql(&format!("ALTER SYSTEM RESET postgrest.{}", self.name));
        psql("SELECT pg_reload_conf()");
        poll(self.reset, self.name);
    }
}

fn poll(done: fn() -> bool, what: &str) {
    for _ in 0..100 {
        if done() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{what} was not applied after a reload");
}

fn options(path: &str, headers: &[(&str, &str)]) -> Response {
    request("OPTIONS", path, headers).unwrap_or_else(|e| panic!("OPTIONS {path}: {e}"))
}

/// The Access-Control-* fields of a response, in order, names as PostgREST spells them.
fn cors_fields(r: &Response) -> Vec<(String, String)> {
    r.headers
        .iter()
        .filter(|(k, _)| k.to_ascii_lowercase().starts_with("access-control-"))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .collect()
}

fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.to_string())).collect()
}

const PREFLIGHT: [(&str, &str); 2] = [("Origin", "http://example.com"), ("Access-Control-Request-Method", "POST")];

#[test]
fn cors_preflight_as_wai_cors_sends_it() {
    // PostgREST's CorsSpec: wai-cors adds HEAD to the methods and the simple headers to the
    // requested ones, after Authorization
    let r = options("/products", &[PREFLIGHT[0], PREFLIGHT[1], ("Access-Control-Request-Headers", "Foo,Bar")]);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, "");
    assert_eq!(
        cors_fields(&r),
        fields(&[
            ("Access-Control-Allow-Origin", "*"),
            ("Access-Control-Allow-Methods", "GET, POST, PATCH, PUT, DELETE, OPTIONS, HEAD"),
            ("Access-Control-Allow-Headers", "Authorization, Foo, Bar, Accept, Accept-Language, Content-Language"),
            ("Access-Control-Max-Age", "86400"),
        ])
    );
    assert_eq!(r.header("Allow"), None, "answered by the CORS layer, not by OPTIONS");
    // no headers asked for, no Access-Control-Allow-Headers; requested names kept as written
    let r = options("/products", &PREFLIGHT);
    assert_eq!(r.header("Access-Control-Allow-Headers"), None);
    assert_eq!(r.header("Access-Control-Max-Age"), Some("86400"));
    let r = options("/products", &[PREFLIGHT[0], PREFLIGHT[1], ("Access-Control-Request-Headers", "content-type, prefer")]);
    assert_eq!(
        r.header("Access-Control-Allow-Headers"),
        Some("Authorization, content-type, prefer, Accept, Accept-Language, Content-Language")
    );
}

#[test]
fn cors_requests_that_are_not_preflights() {
    // a method wai-cors does not support (it compares bytes: `post` is not `POST`), or no
    // requested method: the request goes on unchanged to PostgREST's OPTIONS answer
    for method in [Some("post"), Some("TRACE"), None] {
        let mut headers = vec![("Origin", "http://example.com")];
        headers.extend(method.map(|m| ("Access-Control-Request-Method", m)));
        let r = options("/products", &headers);
        assert_eq!(r.status, 200, "{method:?}");
        assert!(r.header("Allow").is_some(), "{method:?}: {:?}", r.headers);
        assert_eq!(cors_fields(&r), fields(&[("Access-Control-Allow-Origin", "*")]), "{method:?}");
    }
    // an actual request gets the origin and the exposed headers, after its own
    let r = request("GET", "/products?select=id&limit=1", &[("Origin", "http://example.com")]).unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(
        cors_fields(&r),
        fields(&[
            ("Access-Control-Allow-Origin", "*"),
            (
                "Access-Control-Expose-Headers",
                "Content-Encoding, Content-Location, Content-Range, Content-Type, Date, Location, Server, Transfer-Encoding, Range-Unit"
            ),
        ])
    );
    assert!(cors_fields(&get("/products?select=id&limit=1")).is_empty(), "no Origin, no CORS");
}

fn echoes_listed_origin() -> bool {
    request("OPTIONS", "/products", &PREFLIGHT).is_ok_and(|r| r.header("Access-Control-Allow-Origin") == Some("http://example.com"))
}

#[test]
fn cors_with_listed_origins() {
    let _origins = Setting::set("server_cors_allowed_origins", "http://example.com,http://example2.com", echoes_listed_origin, || {
        !echoes_listed_origin()
    });
    let r = options("/products", &[PREFLIGHT[0], PREFLIGHT[1], ("Access-Control-Request-Headers", "Content-Type")]);
    assert_eq!(
        cors_fields(&r),
        fields(&[
            ("Access-Control-Allow-Origin", "http://example.com"),
            ("Access-Control-Allow-Credentials", "true"),
            ("Access-Control-Allow-Methods", "GET, POST, PATCH, PUT, DELETE, OPTIONS, HEAD"),
            ("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept, Accept-Language, Content-Language"),
            ("Access-Control-Max-Age", "86400"),
        ])
    );
    // an origin not listed: no preflight answer, PostgREST's OPTIONS answer as it is
    let r = options("/products", &[("Origin", "http://invalid.com"), PREFLIGHT[1]]);
    assert!(r.header("Allow").is_some());
    assert_eq!(cors_fields(&r), fields(&[("Access-Control-Allow-Origin", "*")]));
    let r = request("GET", "/products?select=id&limit=1", &[("Origin", "http://invalid.com")]).unwrap();
    assert!(cors_fields(&r).is_empty());
}

fn plans_enabled() -> bool {
    request("GET", "/products?limit=1", &[("Accept", "application/vnd.pgrst.plan+json")]).is_ok_and(|r| r.status == 200)
}

#[test]
fn plan_content_type_names_the_full_media_type() {
    let _plans = Setting::set("db_plan_enabled", "true", plans_enabled, || !plans_enabled());
    for (accept, content_type) in [
        ("application/vnd.pgrst.plan+json", r#"application/vnd.pgrst.plan+json; for="application/json"; charset=utf-8"#),
        (
            r#"application/vnd.pgrst.plan+json; for="application/vnd.pgrst.object"; options=verbose"#,
            r#"application/vnd.pgrst.plan+json; for="application/vnd.pgrst.object+json"; options=verbose; charset=utf-8"#,
        ),
        (
            r#"application/vnd.pgrst.plan; for="application/vnd.pgrst.object+json;nulls=stripped""#,
            r#"application/vnd.pgrst.plan+text; for="application/vnd.pgrst.object+json;nulls=stripped"; charset=utf-8"#,
        ),
        (
            r#"application/vnd.pgrst.plan+json; for="application/vnd.pgrst.array;nulls=stripped""#,
            r#"application/vnd.pgrst.plan+json; for="application/vnd.pgrst.array+json;nulls=stripped"; charset=utf-8"#,
        ),
        (r#"application/vnd.pgrst.plan+json; for="TEXT/CSV""#, r#"application/vnd.pgrst.plan+json; for="text/csv"; charset=utf-8"#),
        // the known options, in PostgREST's order whatever the request's
        (
            r#"application/vnd.pgrst.plan+json; for="application/json"; options=wal|analyze|nope"#,
            r#"application/vnd.pgrst.plan+json; for="application/json"; options=analyze|wal; charset=utf-8"#,
        ),
    ] {
        let r = request("GET", "/products?id=eq.1", &[("Accept", accept)]).unwrap();
        assert_eq!(r.status, 200, "{accept}: {}", r.body);
        assert_eq!(r.header("Content-Type"), Some(content_type), "{accept}");
    }
    // a custom handler's media type is named as written
    let r = request("GET", "/texts", &[("Accept", r#"application/vnd.pgrst.plan+text; for="text/tab-separated-values""#)]).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("Content-Type"), Some(r#"application/vnd.pgrst.plan+text; for="text/tab-separated-values"; charset=utf-8"#));
}

/// PostgreSQL's refusal of a number past bigint given as a bigint parameter, as PostgREST
/// gets it (it sends limit and offset as parameters of unknown type).
fn out_of_range(value: &str) -> serde_json::Value {
    serde_json::json!({"code": "22003", "details": null, "hint": null, "message": format!("value \"{value}\" is out of range for type bigint")})
}

#[test]
fn numbers_past_bigint_are_postgresql_errors() {
    const HUGE: &str = "99999999999999999999999";
    for (path, range, refused) in [
        (format!("/products?limit={HUGE}"), None, HUGE.to_string()),
        (format!("/products?offset={HUGE}"), None, HUGE.to_string()),
        (format!("/products?limit=1&offset={HUGE}"), None, HUGE.to_string()),
        (format!("/products?select=id,categories(id)&categories.limit={HUGE}"), None, HUGE.to_string()),
        (format!("/rpc/products_under?max_price=100&limit={HUGE}"), None, HUGE.to_string()),
        // the Range header's numbers are Integers too: the limit is upper - lower + 1
        ("/products".to_string(), Some(format!("0-{HUGE}")), "100000000000000000000000".to_string()),
        ("/products".to_string(), Some(format!("{HUGE}-")), HUGE.to_string()),
        ("/products".to_string(), Some("0-9223372036854775807".to_string()), "9223372036854775808".to_string()),
    ] {
        let headers: Vec<(&str, &str)> = range.iter().map(|r| ("Range", r.as_str())).collect();
        let r = request("GET", &path, &headers).unwrap();
        assert_eq!(r.status, 400, "{path} {range:?}: {}", r.body);
        assert_eq!(r.json(), out_of_range(&refused), "{path} {range:?}");
    }
    // numbers that fit, however big, are PostgreSQL's to take
    let r = get("/products?select=id&limit=9223372036854775807&offset=1&order=id");
    assert_eq!(r.status, 200, "{}", r.body);
    let r = request("GET", "/products?select=id", &[("Range", &format!("0-{HUGE}"))]).unwrap();
    assert_eq!(r.status, 400);
    // the limit param narrows a huge Range to a fitting limit
    let r = request("GET", "/products?select=id&limit=2&order=id", &[("Range", &format!("0-{HUGE}"))]).unwrap();
    assert_eq!((r.status, r.header("Content-Range")), (200, Some("0-1/*")), "{}", r.body);
    // a lower bound past the upper one is PostgREST's 416, whatever the size
    let r = request("GET", "/products", &[("Range", &format!("{HUGE}-1"))]).unwrap();
    assert_eq!(r.status, 416, "{}", r.body);
    assert_eq!(r.json()["code"], "PGRST103");
    // negative ones too: PGRST103 for a negative limit
    let r = get(&format!("/products?limit=-{HUGE}"));
    assert_eq!((r.status, r.json()["code"].as_str()), (416, Some("PGRST103")), "{}", r.body);
    assert_cluster_never_restarted();
}

fn max_rows_is(n: usize) -> bool {
    request("GET", "/products?select=id", &[]).is_ok_and(|r| r.status == 200 && r.json().as_array().map(Vec::len) == Some(n))
}

#[test]
fn db_max_rows_caps_a_huge_limit_but_not_a_huge_offset() {
    let all = get("/products?select=id").json().as_array().map(Vec::len).unwrap_or(0);
    assert!(all > 2);
    let _max = Setting::set("db_max_rows", "2", || max_rows_is(2), || !max_rows_is(2));
    // PostgREST's restrictRange: the limit becomes 2, the offset stays and is refused
    let r = get("/products?select=id&limit=99999999999999999999999");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json().as_array().map(Vec::len), Some(2));
    let r = get("/products?select=id&offset=99999999999999999999999");
    assert_eq!(r.json(), out_of_range("99999999999999999999999"));
}

#[test]
fn kept_plans_are_not_prepared_statements() {
    // PostgREST's PreparedStatementsSpec expects its statements in pg_prepared_statements;
    // ours are SPI plans kept per backend (conformance/DEVIATIONS.md), not listed there
    let r = request_with_body("POST", "/rpc/uses_prepared_statements", &[], None).unwrap();
    assert_eq!((r.status, r.body.as_str()), (200, "false"));
    // ...but kept: the backend running this call holds a cached plan named by its SQL, the
    // call's own statement among them
    for _ in 0..2 {
        let r = get("/rpc/kept_plans_naming?fragment=kept_plans_naming");
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(r.body.parse::<i64>().is_ok_and(|n| n >= 1), "{}", r.body);
    }
}
