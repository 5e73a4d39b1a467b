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
fn a_composite_type_moved_out_of_an_exposed_schema_is_read_again() {
    let _one = serial();
    psql("drop schema if exists elsewhere cascade; create schema elsewhere; drop type if exists api.moved_t");
    // functions name it in their signatures: its move changes them, though no function changed
    assert_eq!(builds_caused_by("create type api.moved_t as (a int)"), 1);
    assert_eq!(builds_caused_by("alter type api.moved_t set schema elsewhere"), 1);
    psql("drop schema elsewhere cascade");
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
    let full = full_builds();
    psql("comment on table api.products is 'Things we sell'");
    let doc = get("/").json();
    assert_eq!(doc["definitions"]["products"]["description"], json!("Things we sell"), "{}", doc["definitions"]["products"]);
    assert_eq!(full_builds(), full, "a comment on a table reads the table again, not everything");
    // a comment on a function is not a relation's: everything is read again
    psql("comment on function api.order_total(int) is 'The total of an order'");
    let doc = get("/").json();
    assert_eq!(doc["paths"]["/rpc/order_total"]["get"]["summary"], json!("The total of an order"), "{}", doc["paths"]["/rpc/order_total"]);
    assert_eq!(full_builds(), full + 1);
    psql("comment on table api.products is null; comment on function api.order_total(int) is null");
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

/// Builds caused by `change` with five executors at least, each of which receives the
/// invalidation and runs a transaction after it: bursts of GETs of `path`, each answered 200.
fn builds_across_executors(change: &str, path: &'static str) -> i64 {
    let naps: Vec<_> = (0..5).map(|_| std::thread::spawn(|| request("GET", "/rpc/nap?seconds=0.5", &[]))).collect();
    for n in naps {
        assert_eq!(n.join().unwrap().map(|r| r.status).ok(), Some(200));
    }
    let _ = get("/products?select=id&id=eq.1");
    let before = builds();
    psql(change);
    for _ in 0..4 {
        let burst: Vec<_> = (0..5).map(|_| std::thread::spawn(move || get(path))).collect();
        for b in burst {
            let r = b.join().unwrap();
            assert_eq!(r.status, 200, "{path}: {}", r.body);
        }
    }
    builds() - before
}

#[test]
fn one_change_is_one_build_however_many_executors_see_it() {
    let _one = serial();
    psql("drop table if exists api.counted_once");
    let change = "create table api.counted_once (id int primary key); grant select on api.counted_once to web_anon";
    assert_eq!(builds_across_executors(change, "/counted_once"), 1, "one change, one build");
    psql("drop table api.counted_once");
    // a change of functions only is checked against the functions' fingerprint, and read
    // again without the relations
    psql("drop function if exists api.pgrst_counted(int)");
    let full = full_builds();
    let change = "create function api.pgrst_counted(n int) returns int language sql as 'select n + 1'";
    assert_eq!(builds_across_executors(change, "/rpc/pgrst_counted?n=41"), 1, "one new function, one build");
    assert_eq!(get("/rpc/pgrst_counted?n=41").json(), json!(42));
    // its new signature is seen on the very next request
    let change =
        "drop function api.pgrst_counted(int); create function api.pgrst_counted(n int, m int) returns int language sql as 'select n + m'";
    assert_eq!(builds_across_executors(change, "/rpc/pgrst_counted?n=40&m=3"), 1, "one change of functions, one build");
    assert_eq!(get("/rpc/pgrst_counted?n=40&m=3").json(), json!(43));
    assert_eq!(full_builds(), full, "functions are read again alone");
    // a function of a schema that is not exposed changes nothing
    psql("drop schema if exists elsewhere cascade; create schema elsewhere");
    assert_eq!(builds_caused_by("create function elsewhere.f() returns int language sql as 'select 1'"), 0);
    psql("drop schema elsewhere cascade");
    // taken in here, not by the next test's first request
    assert_eq!(builds_caused_by("drop function api.pgrst_counted(int, int)"), 1);
}

fn full_builds() -> i64 {
    psql("select postgrest_ext.schema_cache_full_builds()").parse().expect("a count")
}

#[test]
fn a_change_of_one_relation_reads_only_it_again() {
    let _one = serial();
    psql("drop table if exists api.partly");
    psql("create table api.partly (id int primary key); insert into api.partly values (1); grant select on api.partly to web_anon");
    assert_eq!(eventually("/partly", 200).status, 200);
    let (all, full) = (builds(), full_builds());
    psql("alter table api.partly add column note text default 'x'");
    assert_eq!(get("/partly?select=id,note").json(), json!([{"id": 1, "note": "x"}]));
    assert_eq!((builds() - all, full_builds() - full), (1, 0), "one build, from a read of api.partly alone");
    psql("drop table api.partly");
    assert_eq!(get("/partly").status, 404);
    assert_eq!(full_builds() - full, 0);
}

/// What the API looks like: the OpenAPI document and embeddings through the tables under test.
const SHAPE: [&str; 7] = [
    "/",
    "/inc_b?select=id,inc_a(id)",
    "/inc_a?select=id,inc_b(id)",
    "/inc_v?select=id,inc_a(id)",
    "/inc_v2?select=*",
    // through the foreign key, by its name, to a view of the table it references
    "/inc_b?select=id,inc_av!inc_b_a(id)",
    // a computed relationship
    "/inc_a?select=id,inc_bs(id)",
];

fn api_shape() -> Vec<(u16, String)> {
    SHAPE
        .iter()
        .map(|path| {
            let r = get(path);
            (r.status, r.body)
        })
        .collect()
}

/// The shape after a full read of the catalogs (a reload reads everything again).
fn api_shape_after_a_full_read() -> Vec<(u16, String)> {
    let before = full_builds();
    psql("select pg_reload_conf()");
    for _ in 0..50 {
        let _ = get("/inc_a?select=id");
        if full_builds() > before {
            return api_shape();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("no full read after a reload");
}

#[test]
fn reading_the_changed_relations_builds_what_a_full_read_builds() {
    let _one = serial();
    psql("drop view if exists api.inc_v, api.inc_v2, api.inc_av; drop table if exists api.inc_b, api.inc_a, api.inc_a2, api.inc_s cascade");
    let steps = [
        "create table api.inc_a (id int primary key, name text); create table api.inc_b (id int primary key, a_id int); \
         insert into api.inc_a values (1, 'one'); insert into api.inc_b values (10, 1); \
         grant select on api.inc_a, api.inc_b to web_anon; create table api.inc_s (id serial primary key, note text)",
        "alter table api.inc_b add constraint inc_b_a foreign key (a_id) references api.inc_a (id)",
        // a view's relationships come from its rules' target lists (read from the relation
        // cache): asserted to embed below, not only to match a full read
        "create view api.inc_v as select b.id, b.a_id from api.inc_b b; grant select on api.inc_v to web_anon",
        "create view api.inc_av as select id from api.inc_a; grant select on api.inc_av to web_anon",
        // invalidates inc_b alone: the key inc_av exposes is inc_a's, under the new name
        "alter table api.inc_b rename constraint inc_b_a to inc_b_r",
        "alter table api.inc_b rename constraint inc_b_r to inc_b_a",
        // the column default names the sequence: its table is read again
        "alter sequence api.inc_s_id_seq rename to inc_s_seq",
        "create view api.inc_v2 as select v.id as vid, v.a_id from api.inc_v v; grant select on api.inc_v2 to web_anon",
        "alter table api.inc_a add column extra int default 7",
        // functions alone are read again: a computed relationship comes and goes
        "create function api.inc_bs(api.inc_a) returns setof api.inc_b language sql stable as 'select * from api.inc_b where a_id = $1.id'",
        "drop function api.inc_bs(api.inc_a)",
        "alter table api.inc_b drop constraint inc_b_a",
        "alter table api.inc_b add constraint inc_b_a foreign key (a_id) references api.inc_a (id); alter table api.inc_a drop column name",
        "drop view api.inc_v2",
        "drop view api.inc_v, api.inc_av; drop table api.inc_b, api.inc_s",
    ];
    // embeddings through views that each step must leave working
    let embeds = |step: &str| match step {
        s if s.starts_with("create view api.inc_v ") => vec!["/inc_v?select=id,inc_a(id)"],
        s if s.starts_with("create view api.inc_av ") => vec!["/inc_b?select=id,inc_av!inc_b_a(id)"],
        s if s.starts_with("create view api.inc_v2 ") => vec!["/inc_v2?select=vid,inc_a(id)", "/inc_v?select=id,inc_a(id)"],
        _ => vec![],
    };
    for step in steps {
        let full = full_builds();
        psql(step);
        let partial = api_shape();
        assert_eq!(full_builds(), full, "{step}: read partially");
        for path in embeds(step) {
            let r = get(path);
            assert_eq!(r.status, 200, "{step}: GET {path}: {}", r.body);
        }
        for ((path, partial), full) in SHAPE.iter().zip(partial).zip(api_shape_after_a_full_read()) {
            // the first difference, not two OpenAPI documents
            let at = partial.1.bytes().zip(full.1.bytes()).position(|(a, b)| a != b).unwrap_or(partial.1.len().min(full.1.len()));
            let around = |s: &str| s.get(at.saturating_sub(80)..(at + 80).min(s.len())).unwrap_or_default().to_string();
            assert!(
                partial == full,
                "{step}: GET {path} differs from a full read's: {} vs {}: ...{}... vs ...{}...",
                partial.0,
                full.0,
                around(&partial.1),
                around(&full.1)
            );
        }
    }
    // a rename takes a full read (functions and types name relations too)
    let full = full_builds();
    psql("alter table api.inc_a rename to inc_a2");
    assert_eq!(get("/inc_a2?select=id").status, 200);
    assert_eq!(get("/inc_a?select=id").status, 404);
    assert_eq!(full_builds() - full, 1);
    psql("drop table api.inc_a2");
}
