//! The schema cache follows the catalogs: DDL is visible to the next request without a
//! reload, through PostgreSQL's own invalidation messages.

use postgrest_ext_e2e::*;
use serde_json::json;
use std::time::Duration;

fn eventually(path: &str, status: u16) -> Response {
    for _ in 0..50 {
        let r = get(path);
        if r.status == status {
            return r;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    get(path)
}

#[test]
fn a_new_table_and_column_are_served_without_reload() {
    psql("drop table if exists api.fresh");
    assert_eq!(get("/fresh").status, 404);
    psql("create table api.fresh (id int primary key); insert into api.fresh values (1); grant select on api.fresh to web_anon");
    // the very next request sees it: no reload, no retry
    let r = get("/fresh");
    assert_eq!(r.json(), json!([{"id": 1}]));
    psql("alter table api.fresh add column note text default 'hi'");
    let r = get("/fresh?select=id,note");
    assert_eq!(r.json(), json!([{"id": 1, "note": "hi"}]));
    psql("drop table api.fresh");
    assert_eq!(eventually("/fresh", 404).status, 404);
}

#[test]
fn a_new_foreign_key_becomes_embeddable() {
    psql("drop table if exists api.reviews");
    psql(
        "create table api.reviews (id int primary key, product_id int, stars int); \
         insert into api.reviews values (1, 1, 5); grant select on api.reviews to web_anon",
    );
    assert_eq!(eventually("/reviews?select=id", 200).status, 200);
    assert_eq!(get("/reviews?select=id,products(name)").status, 400);
    psql("alter table api.reviews add foreign key (product_id) references api.products(id)");
    let r = eventually("/reviews?select=id,products(name)", 200);
    assert_eq!(r.json(), json!([{"id": 1, "products": {"name": "Atlas"}}]));
    psql("drop table api.reviews");
}
