//! The schema cache follows the catalogs: DDL is visible to the next request without a
//! reload, through PostgreSQL's own invalidation messages.

use postgrest_ext_e2e::*;
use serde_json::json;
use std::sync::Mutex;
use std::time::Duration;

/// The build counts are the whole server's: one test at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

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
    let _one = serial();
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
    assert_eq!(get("/fresh").status, 404, "a dropped table is gone on the very next request");
}

#[test]
fn a_new_foreign_key_becomes_embeddable() {
    let _one = serial();
    psql("drop table if exists api.reviews");
    psql(
        "create table api.reviews (id int primary key, product_id int, stars int); \
         insert into api.reviews values (1, 1, 5); grant select on api.reviews to web_anon",
    );
    assert_eq!(eventually("/reviews?select=id", 200).status, 200);
    assert_eq!(get("/reviews?select=id,products(name)").status, 400);
    psql("alter table api.reviews add foreign key (product_id) references api.products(id)");
    let r = get("/reviews?select=id,products(name)");
    assert_eq!(r.json(), json!([{"id": 1, "products": {"name": "Atlas"}}]));
    psql("drop table api.reviews");
}

fn builds() -> i64 {
    psql("select postgrest_ext.schema_cache_builds()").parse().expect("a count")
}

/// Reads of the schema cache caused by `change`, seen over a few requests.
fn builds_caused_by(change: &str) -> i64 {
    assert_eq!(get("/products?select=id&id=eq.1").status, 200);
    let before = builds();
    psql(change);
    for _ in 0..3 {
        assert_eq!(get("/products?select=id&id=eq.1").status, 200);
    }
    builds() - before
}

#[test]
fn what_cannot_change_the_api_causes_no_rebuild() {
    let _one = serial();
    psql("drop schema if exists elsewhere cascade; create schema elsewhere; create table elsewhere.t (id int primary key)");
    // a temporary table in another session, created and dropped with it
    assert_eq!(builds_caused_by("create temp table scratch (id int primary key, note text); insert into scratch values (1, 'x')"), 0);
    assert_eq!(builds_caused_by("drop role if exists someone_new; create role someone_new"), 0);
    assert_eq!(builds_caused_by("insert into elsewhere.t select generate_series(1, 100); analyze elsewhere.t"), 0);
    assert_eq!(builds_caused_by("alter table elsewhere.t add column c int; drop table elsewhere.t"), 0);
    psql("drop role someone_new; drop schema elsewhere cascade");
}

#[test]
fn what_changes_the_api_is_read_once_for_the_whole_server() {
    let _one = serial();
    psql("drop table if exists api.counted");
    assert_eq!(builds_caused_by("create table api.counted (id int primary key); grant select on api.counted to web_anon"), 1);
    assert_eq!(get("/counted").status, 200);
    psql("drop table api.counted");
}

#[test]
fn a_comment_reaches_the_openapi_document_on_the_next_request() {
    let _one = serial();
    psql("comment on table api.products is 'before'");
    let _ = get("/");
    psql("comment on table api.products is 'Things we sell'");
    let doc = get("/").json();
    assert_eq!(doc["definitions"]["products"]["description"], json!("Things we sell"), "{}", doc["definitions"]["products"]);
    psql("comment on table api.products is null");
}

#[test]
fn statistics_of_exposed_tables_cause_no_rebuild() {
    let _one = serial();
    // ANALYZE and VACUUM write pg_class in place: no new row version, the same fingerprint
    assert_eq!(builds_caused_by("analyze api.products"), 0);
    assert_eq!(builds_caused_by("vacuum api.products"), 0);
    // a change of the table right after still is one
    assert_eq!(builds_caused_by("alter table api.products add column pgrst_scratch int"), 1);
    assert_eq!(builds_caused_by("alter table api.products drop column pgrst_scratch"), 1);
}

#[test]
fn one_change_is_one_build_however_many_executors_see_it() {
    let _one = serial();
    // five executors at least, each of which receives the invalidation
    let naps: Vec<_> = (0..5).map(|_| std::thread::spawn(|| request("GET", "/rpc/nap?seconds=0.5", &[]))).collect();
    for n in naps {
        assert_eq!(n.join().unwrap().map(|r| r.status).ok(), Some(200));
    }
    psql("drop table if exists api.counted_once");
    let _ = get("/products?select=id&id=eq.1");
    let before = builds();
    psql("create table api.counted_once (id int primary key); grant select on api.counted_once to web_anon");
    // bursts of requests at once, so that every executor runs a transaction after the change
    for _ in 0..4 {
        let burst: Vec<_> = (0..5).map(|_| std::thread::spawn(|| get("/counted_once").status)).collect();
        for b in burst {
            assert_eq!(b.join().unwrap(), 200);
        }
    }
    assert_eq!(builds() - before, 1, "one change, one build");
    psql("drop table api.counted_once");
}
