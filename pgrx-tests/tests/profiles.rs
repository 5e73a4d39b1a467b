//! Schemas negotiated by `Accept-Profile` / `Content-Profile`: the response names the schema
//! once (`Content-Profile`), for reads, writes and calls alike. The test exposes a second
//! schema for its duration (one test in this file: the files run one after another).

use postgrest_ext_e2e::*;
use std::time::Duration;

fn send(method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Response {
    request_with_body(method, path, headers, body).unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

fn profiles(r: &Response) -> Vec<&str> {
    r.headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case("content-profile")).map(|(_, v)| v.as_str()).collect()
}

fn expose(schemas: Option<&str>) {
    match schemas {
        Some(s) => psql(&format!("ALTER SYSTEM SET postgrest.db_schemas = '{s}'")),
        None => psql("ALTER SYSTEM RESET postgrest.db_schemas"),
    };
    psql("SELECT pg_reload_conf()");
    let wanted = if schemas.is_some() { 200 } else { 406 };
    for _ in 0..50 {
        if request("GET", "/notes", &[("Accept-Profile", "e2e_v2")]).map(|r| r.status).ok() == Some(wanted) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the server did not pick up db_schemas = {schemas:?}");
}

#[test]
fn writes_and_calls_name_their_schema_once() {
    expose(Some("api, e2e_v2"));
    let json = ("Content-Type", "application/json");
    let r =
        send("POST", "/notes", &[("Content-Profile", "e2e_v2"), ("Prefer", "return=representation"), json], Some(r#"{"id":1,"body":"a"}"#));
    let write = (r.status, profiles(&r).iter().map(|s| s.to_string()).collect::<Vec<_>>());
    let r = send("POST", "/rpc/shout", &[("Content-Profile", "e2e_v2"), json], Some(r#"{"msg":"hi"}"#));
    let call = (r.status, r.body.clone(), profiles(&r).iter().map(|s| s.to_string()).collect::<Vec<_>>());
    let r = send("GET", "/notes?select=body", &[("Accept-Profile", "e2e_v2")], None);
    let read = (r.status, r.body.clone(), profiles(&r).iter().map(|s| s.to_string()).collect::<Vec<_>>());
    // the default schema is named too once several are exposed (PostgREST's negotiatedByProfile)
    let r = get("/products?select=id&limit=1");
    let default = profiles(&r).iter().map(|s| s.to_string()).collect::<Vec<_>>();
    psql("DELETE FROM e2e_v2.notes");
    expose(None);

    assert_eq!(write, (201, vec!["e2e_v2".to_string()]));
    assert_eq!(call, (200, r#""HI""#.to_string(), vec!["e2e_v2".to_string()]));
    assert_eq!(read, (200, r#"[{"body":"a"}]"#.to_string(), vec!["e2e_v2".to_string()]));
    assert_eq!(default, ["api"]);
    assert!(profiles(&get("/products?select=id&limit=1")).is_empty(), "one exposed schema: no Content-Profile");
}
