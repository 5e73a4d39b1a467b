//! The read API beyond filters: embedding, logic trees, JSON paths, counts and ranges,
//! media types, preferences.

use postgrest_ext_e2e::*;
use serde_json::json;

#[test]
fn embeds_many_to_one_one_to_many_and_many_to_many() {
    let r = get("/orders?select=id,customers(name)&order=id");
    assert_eq!(r.json(), json!([{"id": 1, "customers": {"name": "Ada"}}, {"id": 3, "customers": {"name": "Grace"}}]));
    let r = get("/categories?select=name,products(name)&id=eq.2&products.order=name");
    assert_eq!(r.json(), json!([{"name": "games", "products": [{"name": "Chess set"}, {"name": "Dice"}]}]));
    // orders ↔ products through order_items
    let r = get("/orders?select=id,products(name)&id=eq.1&products.order=id");
    assert_eq!(r.json(), json!([{"id": 1, "products": [{"name": "Atlas"}, {"name": "Dice"}]}]));
}

#[test]
fn embedding_with_alias_inner_join_and_spread() {
    let r = get("/products?select=name,cat:categories!inner(name)&cat.name=eq.tools&order=name");
    assert_eq!(r.json(), json!([{"name": "Hammer", "cat": {"name": "tools"}}, {"name": "Screwdriver", "cat": {"name": "tools"}}]));
    let r = get("/products?select=name,...categories(category:name)&id=eq.1");
    assert_eq!(r.json(), json!([{"name": "Atlas", "category": "books"}]));
}

#[test]
fn unknown_relationship_is_pgrst200() {
    let r = get("/products?select=*,customers(*)");
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["code"], "PGRST200");
}

#[test]
fn logic_trees_and_json_paths() {
    let r = get("/products?select=id&or=(price.lt.5,and(category_id.eq.3,price.gt.10))&order=id");
    assert_eq!(r.json(), json!([{"id": 3}, {"id": 4}]));
    let r = get("/products?select=id,pages:details->pages&details->>pages=gt.300");
    assert_eq!(r.json(), json!([{"id": 1, "pages": 320}]));
}

#[test]
fn exact_count_and_ranges() {
    let r = request("GET", "/products?select=id&order=id", &[("Range", "0-1"), ("Prefer", "count=exact")]).unwrap();
    assert_eq!(r.status, 206);
    assert_eq!(r.header("Content-Range"), Some("0-1/6"));
    let r = request("GET", "/products?offset=10", &[("Prefer", "count=exact")]).unwrap();
    assert_eq!(r.status, 416);
    assert_eq!(r.header("Content-Range"), Some("*/6"));
    assert_eq!(r.json()["code"], "PGRST103");
}

#[test]
fn singular_csv_and_stripped_nulls() {
    let r = request("GET", "/products?select=id,name&id=eq.1", &[("Accept", "application/vnd.pgrst.object+json")]).unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"id": 1, "name": "Atlas"}));
    let r = request("GET", "/products?select=id", &[("Accept", "application/vnd.pgrst.object+json")]).unwrap();
    assert_eq!(r.status, 406);
    assert_eq!(r.json()["code"], "PGRST116");
    let r = request("GET", "/products?select=id,name&id=lte.2&order=id", &[("Accept", "text/csv")]).unwrap();
    assert_eq!(r.body, "id,name\n1,Atlas\n2,\"Chess set\"");
    let r =
        request("GET", "/products?select=id,details&id=eq.3", &[("Accept", "application/vnd.pgrst.array+json;nulls=stripped")]).unwrap();
    assert_eq!(r.json(), json!([{"id": 3}]));
    let r = request("GET", "/products", &[("Accept", "image/png")]).unwrap();
    assert_eq!(r.status, 406);
    assert_eq!(r.json()["code"], "PGRST107");
}

#[test]
fn head_has_headers_and_no_body() {
    let r = request("HEAD", "/products?select=id", &[("Prefer", "count=exact")]).unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Range"), Some("0-5/6"));
    assert!(r.body.is_empty());
}

#[test]
fn aggregates_are_off_by_default() {
    let r = get("/products?select=price.sum()");
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["code"], "PGRST123");
}

#[test]
fn strict_handling_rejects_unknown_preferences() {
    let r = request("GET", "/products", &[("Prefer", "handling=strict, nonsense")]).unwrap();
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["code"], "PGRST122");
}
