//! GET on tables and views: select, filters, order, limit/offset, errors.

use postgrest_ext_e2e::*;
use serde_json::json;

#[test]
fn the_readme_example_returns_the_right_rows() {
    let r = get("/products?select=id,name&price=gt.10&order=name");
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!([{"id": 1, "name": "Atlas"}, {"id": 2, "name": "Chess set"}, {"id": 4, "name": "Hammer"}]));
    assert_eq!(r.header("Content-Range"), Some("0-2/*"));
    assert_eq!(r.header("Content-Type"), Some("application/json; charset=utf-8"));
}

#[test]
fn comparison_filters() {
    let ids = |path: &str| -> Vec<i64> {
        let r = get(path);
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        r.json().as_array().unwrap().iter().map(|o| o["id"].as_i64().unwrap()).collect()
    };
    assert_eq!(ids("/products?select=id&id=eq.3"), vec![3]);
    assert_eq!(ids("/products?select=id&id=neq.3&order=id"), vec![1, 2, 4, 5, 6]);
    assert_eq!(ids("/products?select=id&price=gte.12.9&order=id"), vec![1, 2, 4]);
    assert_eq!(ids("/products?select=id&price=lt.7.25&order=id"), vec![3]);
    assert_eq!(ids("/products?select=id&price=lte.7.25&order=id"), vec![3, 6]);
    assert_eq!(ids("/texts?select=id&body=like.*World"), vec![1]);
    assert_eq!(ids("/texts?select=id&body=ilike.hello*&order=id"), vec![1, 2]);
    assert_eq!(ids("/texts?select=id&note=is.null&order=id"), vec![1, 3]);
    assert_eq!(ids("/texts?select=id&note=not.is.null&order=id"), vec![2, 4]);
    assert_eq!(ids("/products?select=id&id=in.(1,3,5)&order=id"), vec![1, 3, 5]);
    assert_eq!(ids("/products?select=id&id=not.in.(1,3,5)&order=id"), vec![2, 4, 6]);
    assert_eq!(ids("/texts?select=id&body=in.(\"quote \\\"this\\\", please\",Bye)&order=id"), vec![3, 4]);
}

#[test]
fn order_limit_offset() {
    let r = get("/products?select=name&order=price.desc&limit=2&offset=1");
    assert_eq!(r.json(), json!([{"name": "Atlas"}, {"name": "Hammer"}]));
    assert_eq!(r.header("Content-Range"), Some("1-2/*"));
    let r = get("/products?select=id&order=category_id.asc,id.desc&limit=3");
    assert_eq!(r.json(), json!([{"id": 5}, {"id": 1}, {"id": 3}]));
}

#[test]
fn views_are_served() {
    let r = get("/product_catalog?select=name,category&category=eq.tools&order=name");
    assert_eq!(r.json(), json!([{"name": "Hammer", "category": "tools"}, {"name": "Screwdriver", "category": "tools"}]));
}

#[test]
fn row_level_security_applies_to_the_anonymous_role() {
    let r = get("/orders?select=id&order=id");
    assert_eq!(r.json(), json!([{"id": 1}, {"id": 3}]));
}

#[test]
fn unknown_table_is_postgrests_404() {
    let r = get("/nope");
    assert_eq!(r.status, 404);
    assert_eq!(
        r.json(),
        json!({"code": "PGRST205", "message": "Could not find the table 'api.nope' in the schema cache", "details": null, "hint": null})
    );
}

#[test]
fn root_answers() {
    assert_eq!(get("/").status, 200);
}

#[test]
fn bad_filter_value_is_a_400_with_the_sqlstate() {
    let r = get("/products?id=eq.notanumber");
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["code"], "22P02");
}

#[test]
fn unparsable_query_is_pgrst100() {
    let r = get("/products?select=id,,name(");
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["code"], "PGRST100");
}
