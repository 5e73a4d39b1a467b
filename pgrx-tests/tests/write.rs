//! POST, PATCH, PUT and DELETE over HTTP: each request is one transaction, so a failing row
//! or a failed response check leaves nothing behind. Every test works on its own id range
//! of `api.ledger` and cleans it first.

use postgrest_ext_e2e::*;
use serde_json::json;

fn send(method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Response {
    request_with_body(method, path, headers, body).unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

fn count(range: &str) -> String {
    psql(&format!("SELECT count(*) FROM api.ledger WHERE id BETWEEN {range}"))
}

#[test]
fn a_bulk_insert_failing_on_its_last_row_leaves_no_row() {
    psql("DELETE FROM api.ledger WHERE id BETWEEN 100 AND 199");
    let body = r#"[{"id":100,"amount":1},{"id":101,"amount":2},{"id":102,"amount":-3}]"#;
    let r = send("POST", "/ledger", &[("Content-Type", "application/json")], Some(body));
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json()["code"], json!("23514"));
    assert_eq!(r.header("Proxy-Status"), Some("PostgREST; error=23514"));
    assert_eq!(count("100 AND 199"), "0");
}

#[test]
fn insert_returns_representation_location_and_defaults() {
    psql("DELETE FROM api.ledger WHERE id BETWEEN 200 AND 299");
    let r = send("POST", "/ledger?select=id,note", &[("Prefer", "return=representation")], Some(r#"{"id":200,"amount":5}"#));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json(), json!([{"id": 200, "note": "none"}]));
    assert_eq!(r.header("Content-Range"), Some("*/*"));
    assert_eq!(r.header("Preference-Applied"), Some("return=representation"));

    let r = send("POST", "/ledger", &[("Prefer", "return=headers-only")], Some(r#"{"id":201,"amount":5}"#));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.header("Location"), Some("/ledger?id=eq.201"));
    assert_eq!(r.body, "");

    // with ?columns= only the named keys are read, the others get their default
    let r = send(
        "POST",
        "/ledger?columns=id,amount,note&select=id,note",
        &[("Prefer", "return=representation, missing=default")],
        Some(r#"[{"id":202,"amount":1},{"id":203,"amount":1,"note":"x","ignored":true}]"#),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json(), json!([{"id": 202, "note": "none"}, {"id": 203, "note": "x"}]));
    assert_eq!(r.header("Preference-Applied"), Some("missing=default, return=representation"));

    let r = send("POST", "/ledger", &[], Some(r#"[{"id":204,"amount":1},{"id":205}]"#));
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["code"], json!("PGRST102"));
    let r = send("POST", "/ledger", &[], Some(r#"{"id":204,"nope":1}"#));
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["code"], json!("PGRST204"));
    assert_eq!(count("200 AND 299"), "4");
}

#[test]
fn update_and_delete_touch_only_the_filtered_rows() {
    psql("DELETE FROM api.ledger WHERE id BETWEEN 300 AND 399; INSERT INTO api.ledger VALUES (300, 1), (301, 2), (302, 3)");
    let r = send("PATCH", "/ledger?id=gte.300&id=lt.302", &[("Prefer", "count=exact")], Some(r#"{"amount":9}"#));
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(r.header("Content-Range"), Some("0-1/2"));
    assert_eq!(psql("SELECT string_agg(amount::text, ',' ORDER BY id) FROM api.ledger WHERE id BETWEEN 300 AND 399"), "9,9,3");

    let r = send("DELETE", "/ledger?id=eq.302&select=id,amount", &[("Prefer", "return=representation")], None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json(), json!([{"id": 302, "amount": 3}]));
    assert_eq!(count("300 AND 399"), "2");
}

#[test]
fn failed_response_checks_roll_the_write_back() {
    psql("DELETE FROM api.ledger WHERE id BETWEEN 400 AND 499; INSERT INTO api.ledger VALUES (400, 1), (401, 2)");
    // a singular response asked for, two rows changed: 406 and nothing changes
    let r = send("PATCH", "/ledger?id=gte.400&id=lt.500", &[("Accept", "application/vnd.pgrst.object+json")], Some(r#"{"amount":7}"#));
    assert_eq!(r.status, 406, "{}", r.body);
    assert_eq!(r.json()["code"], json!("PGRST116"));
    // max-affected with handling=strict
    let r = send("DELETE", "/ledger?id=gte.400&id=lt.500", &[("Prefer", "handling=strict, max-affected=1")], None);
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json()["code"], json!("PGRST124"));
    assert_eq!(psql("SELECT string_agg(amount::text, ',' ORDER BY id) FROM api.ledger WHERE id BETWEEN 400 AND 499"), "1,2");
}

#[test]
fn put_upserts_one_row_by_primary_key() {
    psql("DELETE FROM api.ledger WHERE id BETWEEN 500 AND 599");
    let r = send("PUT", "/ledger?id=eq.500", &[("Prefer", "return=representation")], Some(r#"{"id":500,"amount":1,"note":"a"}"#));
    assert_eq!(r.status, 201, "{}", r.body);
    let r = send("PUT", "/ledger?id=eq.500", &[("Prefer", "return=representation")], Some(r#"{"id":500,"amount":2,"note":"b"}"#));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json(), json!([{"id": 500, "amount": 2, "note": "b"}]));
    // the body's key must match the URL's
    let r = send("PUT", "/ledger?id=eq.501", &[], Some(r#"{"id":502,"amount":1,"note":"c"}"#));
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json()["code"], json!("PGRST115"));
    let r = send("PUT", "/ledger?amount=eq.1", &[], Some(r#"{"id":503,"amount":1,"note":"c"}"#));
    assert_eq!(r.status, 405, "{}", r.body);
    assert_eq!(count("500 AND 599"), "1");
}
