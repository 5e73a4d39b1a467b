//! `/rpc/<function>`: arguments from the query string and the body, overloads, set-returning
//! functions read like tables, volatility and read-only transactions, hoisted settings.

use postgrest_ext_e2e::*;
use serde_json::json;

fn send(method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Response {
    request_with_body(method, path, headers, body).unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

#[test]
fn a_scalar_function_by_get_and_by_post() {
    let r = get("/rpc/order_total?order_id=1");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, "34.00");
    assert_eq!(r.header("Content-Type"), Some("application/json; charset=utf-8"));
    let r = send("POST", "/rpc/order_total", &[("Content-Type", "application/json")], Some(r#"{"order_id": 3}"#));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, "69.97");
}

#[test]
fn set_returning_functions_take_select_filters_order_and_embedding() {
    let r = get("/rpc/products_under?max_price=10&select=name,categories(name)&order=price.desc&limit=2");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json(),
        json!([{"name": "Novel", "categories": {"name": "books"}}, {"name": "Screwdriver", "categories": {"name": "tools"}}])
    );
    assert_eq!(r.header("Content-Range"), Some("0-1/*"));
    let r = get("/rpc/products_under?max_price=10&select=id&name=like.D*");
    assert_eq!(r.json(), json!([{"id": 3}]));
    let r = send("HEAD", "/rpc/products_under?max_price=10", &[("Prefer", "count=exact")], None);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Range"), Some("0-2/3"));
}

#[test]
fn get_runs_read_only_and_post_may_write() {
    let r = get("/rpc/record_visit?note=by-get");
    assert_eq!(r.status, 405, "{}", r.body);
    assert_eq!(r.json()["code"], json!("25006"));
    let r = send("POST", "/rpc/record_visit", &[], Some(r#"{"note": "by-post"}"#));
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.body.clone();
    assert_eq!(psql(&format!("SELECT note FROM api.visits WHERE id = {id}")), "by-post");
}

#[test]
fn variadic_arguments_repeat_in_the_query_string() {
    assert_eq!(get("/rpc/sum_all?nums=1&nums=2&nums=3").body, "6");
    let r = send("POST", "/rpc/sum_all", &[], Some(r#"{"nums": [4, 5]}"#));
    assert_eq!(r.body, "9");
    let r = send("POST", "/rpc/sum_all", &[("Content-Type", "application/x-www-form-urlencoded")], Some("nums=1&nums=10"));
    assert_eq!(r.body, "11");
}

#[test]
fn a_statement_timeout_set_on_the_function_applies_to_the_call() {
    let r = get("/rpc/hurried");
    assert_eq!(r.status, 500, "{}", r.body);
    assert_eq!(r.json()["code"], json!("57014"));
}

#[test]
fn void_functions_answer_204_and_unnamed_json_takes_the_body() {
    let r = send("POST", "/rpc/noop", &[], Some("{}"));
    assert_eq!(r.status, 204);
    assert_eq!(r.body, "");
    assert_eq!(r.header("Content-Type"), None);
    let r = send("POST", "/rpc/echo_json", &[("Content-Type", "application/json")], Some(r#"{"a": [1, 2]}"#));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json(), json!({"a": [1, 2]}));
}

#[test]
fn unknown_functions_and_arguments_are_postgrests_errors() {
    let r = get("/rpc/order_totl?order_id=1");
    assert_eq!(r.status, 404);
    assert_eq!(
        r.json(),
        json!({
            "code": "PGRST202",
            "message": "Could not find the function api.order_totl(order_id) in the schema cache",
            "details": "Searched for the function api.order_totl with parameter order_id, but no matches were found in the schema cache.",
            "hint": "Perhaps you meant to call the function api.order_total"
        })
    );
    let r = get("/rpc/order_total?orderid=1");
    assert_eq!(r.status, 404, "{}", r.body);
    let r = send("PATCH", "/rpc/order_total", &[], Some("{}"));
    assert_eq!(r.status, 405);
    assert_eq!(r.json()["code"], json!("PGRST101"));
}

#[test]
fn hoisted_function_settings_and_prefer_timezone_apply_together() {
    let r = send("GET", "/rpc/zone_in_a_hurry", &[("Prefer", "timezone=Asia/Tokyo")], None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, r#""Asia/Tokyo""#);
    // the function's statement_timeout still bites with a time zone asked for
    let r = send("GET", "/rpc/hurried", &[("Prefer", "timezone=Asia/Tokyo")], None);
    assert_eq!(r.json()["code"], serde_json::json!("57014"), "{}", r.body);
}
