//! SQL injection: hostile text in every position a client controls. Identifiers reach SQL
//! only through `sql::fragment::ident` (quoted), values only as `$n` parameters; so each
//! request must answer with a clean 4xx or with exactly the data the text asks for, never a
//! 5xx, and the canary tables (pgrx-tests/fixtures.sql) must keep their rows.
//!
//! Every test collects all failures before asserting, so one run reports every bad position.

use postgrest_ext_e2e::*;

/// Text that would change the meaning of SQL built by pasting it in.
const PAYLOADS: &[&str] = &[
    "'",
    "''",
    "\"",
    "\\\"",
    "\";--",
    "';--",
    "'; drop table api.canary; --",
    "\"; drop table api.canary; --",
    "x\"); drop table api.canary; --",
    ") OR 1=1",
    "') OR ('1'='1",
    "1) OR (1=1",
    "1 OR 1=1",
    "$1",
    "$2::text",
    "$$",
    "$q$; drop table api.canary; $q$",
    "\\",
    "\\\\'",
    "E'\\x27'",
    "U&\"\\0027\"",
    "a\u{0}b",
    "\u{0}",
    "ünïcødé",
    "𝄞 \u{202e}rtl",
    "\u{FEFF}bom",
    "/*",
    "*/",
    "/* comment */ id",
    "--",
    "-- comment",
    ";",
    "; select pg_sleep(5)",
    "; delete from api.canary",
    "%",
    "*",
    ",",
    ".",
    ":",
    "()",
    "text;drop table canary",
    "(select secret from canary_private.canary)",
    "secret",
    "\ttab\nnewline\r\n",
];

/// Payloads that can be sent in an HTTP header value (no CR, LF or NUL).
fn header_safe(p: &str) -> bool {
    !p.contains(['\r', '\n', '\0'])
}

/// The canary tables hold exactly their fixture rows, and the injection target its two rows.
fn assert_canaries_intact() {
    assert_eq!(psql("select string_agg(id || ':' || secret, ',' order by id) from api.canary"), "1:alpha,2:beta,3:gamma");
    assert_eq!(psql("select string_agg(id || ':' || secret, ',' order by id) from canary_private.canary"), "1:hidden");
    assert_eq!(
        psql("select string_agg(id || ':' || name || ':' || coalesce(note, '-'), ',' order by id) from api.inj_target where id in (1, 2)"),
        "1:one:-,2:two:x"
    );
    assert_eq!(psql("select count(*) from pg_tables where schemaname = 'api' and tablename in ('canary', 'products', 'inj_target')"), "3");
}

/// Collects what went wrong over many requests.
#[derive(Default)]
struct Failures(Vec<String>);

impl Failures {
    /// The response must be a 4xx: the payload is not something that exists.
    fn client_error(&mut self, what: &str, r: std::io::Result<Response>) {
        match r {
            Ok(r) if (400..500).contains(&r.status) => {}
            Ok(r) => self.0.push(format!("{what}: expected a 4xx, got {} {}", r.status, r.body)),
            Err(e) => self.0.push(format!("{what}: no response: {e}")),
        }
    }

    /// The response must be a 4xx, or a 2xx whose body satisfies `ok`.
    fn clean(&mut self, what: &str, r: std::io::Result<Response>, ok: impl Fn(&Response) -> bool) {
        match r {
            Ok(r) if (400..500).contains(&r.status) => {}
            Ok(r) if (200..300).contains(&r.status) && ok(&r) => {}
            Ok(r) => self.0.push(format!("{what}: got {} {}", r.status, r.body)),
            Err(e) => self.0.push(format!("{what}: no response: {e}")),
        }
    }

    /// The response must be a 2xx whose body satisfies `ok` (or a 4xx for NUL, which
    /// PostgreSQL text cannot hold).
    fn data(&mut self, what: &str, payload: &str, r: std::io::Result<Response>, ok: impl Fn(&Response) -> bool) {
        match r {
            Ok(r) if payload.contains('\0') && (400..500).contains(&r.status) => {}
            Ok(r) if (200..300).contains(&r.status) && ok(&r) => {}
            Ok(r) => self.0.push(format!("{what}: expected the right data, got {} {}", r.status, r.body)),
            Err(e) => self.0.push(format!("{what}: no response: {e}")),
        }
    }

    fn assert_none(self) {
        assert!(self.0.is_empty(), "{} bad answers:\n{}", self.0.len(), self.0.join("\n"));
        assert_canaries_intact();
        assert_cluster_never_restarted();
    }
}

fn get_(path: &str) -> std::io::Result<Response> {
    request("GET", path, &[])
}

/// `"..."` with `\` and `"` escaped: the quoted form of a name or value in the URL language.
fn quoted(p: &str) -> String {
    format!("\"{}\"", p.replace('\\', "\\\\").replace('"', "\\\""))
}

fn is_empty_array(r: &Response) -> bool {
    r.body.trim() == "[]"
}

/// Only canary rows, as the anonymous role may read them: never more rows than the table
/// has, never the secret of the canary in the unexposed schema.
fn only_canary_rows(r: &Response) -> bool {
    !r.body.contains("hidden")
        && serde_json::from_str::<serde_json::Value>(&r.body).ok().and_then(|v| v.as_array().cloned()).is_some_and(|rows| rows.len() <= 3)
}

/// A CSV field: quoted, `"` doubled.
fn csv_quote(p: &str) -> String {
    format!("\"{}\"", p.replace('"', "\"\""))
}

// --- names: tables, columns, aliases, casts, JSON keys, order -------------------------------

#[test]
fn table_and_function_names() {
    let mut f = Failures::default();
    for p in PAYLOADS {
        let e = pct(p);
        f.client_error(&format!("table {p:?}"), get_(&format!("/{e}")));
        f.client_error(
            &format!("table {p:?} (POST)"),
            request_with_body("POST", &format!("/{e}"), &[("Content-Type", "application/json")], Some("{}")),
        );
        f.client_error(&format!("table {p:?} (DELETE)"), request("DELETE", &format!("/{e}"), &[]));
        f.client_error(&format!("function {p:?}"), get_(&format!("/rpc/{e}")));
        f.client_error(
            &format!("function {p:?} (POST)"),
            request_with_body("POST", &format!("/rpc/{e}"), &[("Content-Type", "application/json")], Some("{}")),
        );
        // a schema-qualified name is a name, not a path into another schema
        f.client_error(&format!("table canary_private.canary{p:?}"), get_(&format!("/{}", pct(&format!("canary_private.canary{p}")))));
    }
    f.client_error("qualified table", get_("/canary_private.canary"));
    f.client_error("qualified table (encoded dot)", get_("/canary_private%2Ecanary"));
    f.client_error("qualified function", get_("/rpc/pg_catalog.pg_sleep?seconds=3"));
    f.assert_none();
}

#[test]
fn column_names_in_select_filters_and_order() {
    let mut f = Failures::default();
    for p in PAYLOADS {
        let e = pct(p);
        let q = pct(&quoted(p));
        let ctx = |pos: &str| format!("{pos} {p:?}");
        // text the select grammar cannot start a field with ends the list, as in PostgREST
        // (Parsec's `sepBy` without `eof`): `select='` is an empty select, which reads as `*`
        f.clean(&ctx("select"), get_(&format!("/canary?select={e}")), only_canary_rows);
        // a quoted `"*"` is the star, as in PostgREST: only canary rows may come back
        f.clean(&ctx("select quoted"), get_(&format!("/canary?select={q}")), only_canary_rows);
        f.clean(&ctx("select id, quoted"), get_(&format!("/canary?select=id,{q}")), only_canary_rows);
        f.clean(&ctx("filter column quoted"), get_(&format!("/canary?{q}=eq.1")), is_empty_array);
        f.clean(&ctx("order quoted"), get_(&format!("/canary?order={q}")), only_canary_rows);
        f.clean(&ctx("or column"), get_(&format!("/canary?or=({q}.eq.1,id.eq.0)")), is_empty_array);
        f.client_error(&ctx("embed"), get_(&format!("/canary?select=id,{q}(*)")));
        // writes: the inj_target rows 1 and 2 are checked after the test
        f.clean(
            &ctx("select on write"),
            request_with_body(
                "POST",
                &format!("/inj_target?select={q}"),
                &[("Content-Type", "application/json"), ("Prefer", "return=representation")],
                Some(r#"{"id": 1000, "name": "x"}"#),
            ),
            |r| !r.body.contains("hidden"),
        );
        psql("delete from api.inj_target where id = 1000");
        f.clean(
            &ctx("update filter column"),
            request_with_body(
                "PATCH",
                &format!("/inj_target?{q}=eq.1"),
                &[("Content-Type", "application/json"), ("Prefer", "return=representation")],
                Some(r#"{"name": "changed"}"#),
            ),
            is_empty_array,
        );
        f.clean(
            &ctx("delete filter column"),
            request("DELETE", &format!("/inj_target?{q}=eq.1"), &[("Prefer", "return=representation")]),
            is_empty_array,
        );
        // an unquoted key that is not a reserved word is a column filter
        f.clean(&ctx("filter column"), get_(&format!("/canary?{e}=eq.1")), only_canary_rows);
        f.clean(&ctx("order"), get_(&format!("/canary?order={e}")), only_canary_rows);
        f.clean(&ctx("order direction"), get_(&format!("/canary?order=id.{e}")), only_canary_rows);
        f.clean(&ctx("embedded order"), get_(&format!("/customers?select=id,orders(id)&orders.order={e}")), |_| true);
        f.clean(&ctx("embed hint"), get_(&format!("/customers?select=id,orders!{q}(id)")), |_| true);
        f.clean(&ctx("spread"), get_(&format!("/orders?select=id,...customers({q})")), |_| true);
        f.clean(&ctx("aggregate"), get_(&format!("/canary?select=id.{e}()")), |_| true);
    }
    f.assert_none();
}

#[test]
fn aliases_are_names_of_keys() {
    let mut f = Failures::default();
    for p in PAYLOADS {
        let q = pct(&quoted(p));
        // NUL cannot be in a PostgreSQL identifier: `ident` ends it there (PostgREST's trimNullChars)
        let want = p.split('\0').next().unwrap_or("").to_string();
        f.data(&format!("alias {p:?}"), p, get_(&format!("/canary?select={q}:id&id=eq.1")), |r| {
            let v: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
            v[0].as_object().is_some_and(|o| o.len() == 1 && o.get(&want) == Some(&serde_json::json!(1)))
        });
        f.clean(&format!("alias {p:?} on a JSON path"), get_(&format!("/products?select={q}:details->pages&id=eq.1")), |r| {
            r.body.contains("320")
        });
    }
    f.assert_none();
}

#[test]
fn casts() {
    let mut f = Failures::default();
    let mut casts: Vec<String> = PAYLOADS.iter().map(|p| p.to_string()).collect();
    casts.extend(
        [
            "text;drop table canary",
            "text;drop table api.canary",
            "text); drop table api.canary; --",
            "text $$",
            "$$",
            "text $1",
            "int union select 1",
            "text collate C",
            "pg_catalog.text",
            "regclass",
            "text[]",
        ]
        .map(String::from),
    );
    for (i, c) in casts.iter().enumerate() {
        let e = pct(c);
        let id = 1100 + i;
        f.clean(&format!("cast {c:?}"), get_(&format!("/canary?select=id::{e}")), only_canary_rows);
        f.clean(&format!("cast {c:?} and a second"), get_(&format!("/canary?select=id::{e},secret::{e}")), only_canary_rows);
        f.clean(&format!("aggregate cast {c:?}"), get_(&format!("/canary?select=id.count()::{e}")), |_| true);
        f.clean(
            &format!("cast {c:?} in RETURNING"),
            request_with_body(
                "POST",
                &format!("/inj_target?select=id::{e}"),
                &[("Content-Type", "application/json"), ("Prefer", "return=representation")],
                Some(&format!(r#"{{"id": {id}, "name": "cast"}}"#)),
            ),
            |r| !r.body.contains("hidden"),
        );
    }
    // what a successful cast wrote: clean up
    psql("delete from api.inj_target where id >= 1100 and id < 2000");
    f.assert_none();
}

#[test]
fn json_path_keys() {
    let mut f = Failures::default();
    for p in PAYLOADS {
        let e = pct(p);
        let q = pct(&quoted(p));
        let ctx = |pos: &str| format!("{pos} {p:?}");
        // a key nobody has: null values, or a 4xx for text the grammar refuses
        let all_null = |r: &Response| {
            let v: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
            v.as_array().is_some_and(|rows| {
                rows.len() == 6 && rows.iter().all(|row| row.as_object().is_some_and(|o| o.values().all(|x| x.is_null())))
            })
        };
        f.clean(&ctx("json key ->"), get_(&format!("/products?select=details->{e}")), all_null);
        f.clean(&ctx("json key ->>"), get_(&format!("/products?select=details->>{e}")), all_null);
        f.clean(&ctx("json key quoted"), get_(&format!("/products?select=details->{q}")), all_null);
        f.clean(&ctx("json key nested"), get_(&format!("/products?select=details->{q}->>{q}")), all_null);
        f.clean(&ctx("json key in a filter"), get_(&format!("/products?select=id&details->>{q}=eq.1")), is_empty_array);
        f.clean(&ctx("json key in order"), get_(&format!("/products?select=id&order=details->{q}")), |_| true);
        f.clean(&ctx("json index"), get_(&format!("/products?select=tags->{e}")), |_| true);
    }
    f.assert_none();
}

// --- values -------------------------------------------------------------------------------

#[test]
fn filter_values() {
    let mut f = Failures::default();
    for p in PAYLOADS {
        let e = pct(p);
        let q = pct(&quoted(p));
        let ctx = |pos: &str| format!("{pos} {p:?}");
        f.data(&ctx("eq"), p, get_(&format!("/canary?secret=eq.{e}")), is_empty_array);
        f.data(&ctx("neq count"), p, get_(&format!("/canary?select=id&secret=neq.{e}")), |r| {
            serde_json::from_str::<serde_json::Value>(&r.body).ok() == Some(serde_json::json!([{"id": 1}, {"id": 2}, {"id": 3}]))
        });
        f.clean(&ctx("eq on an int"), get_(&format!("/canary?id=eq.{e}")), is_empty_array);
        f.clean(&ctx("gt"), get_(&format!("/canary?secret=gt.{e}")), only_canary_rows);
        f.clean(&ctx("like"), get_(&format!("/canary?secret=like.{e}")), only_canary_rows);
        f.clean(&ctx("ilike"), get_(&format!("/canary?secret=ilike.{e}")), only_canary_rows);
        f.clean(&ctx("match"), get_(&format!("/canary?secret=match.{e}")), only_canary_rows);
        f.clean(&ctx("in"), get_(&format!("/canary?secret=in.({e})")), is_empty_array);
        f.clean(&ctx("in quoted"), get_(&format!("/canary?secret=in.({q},{q})")), is_empty_array);
        f.clean(&ctx("is"), get_(&format!("/canary?secret=is.{e}")), |_| false);
        f.clean(&ctx("not.eq"), get_(&format!("/canary?select=id&secret=not.eq.{e}")), only_canary_rows);
        f.clean(&ctx("eq(any)"), get_(&format!("/canary?secret=eq(any).{{{e}}}")), is_empty_array);
        f.clean(&ctx("cs"), get_(&format!("/products?tags=cs.{{{e}}}")), is_empty_array);
        f.clean(&ctx("cs quoted"), get_(&format!("/products?tags=cs.{{{q}}}")), is_empty_array);
        f.clean(&ctx("fts"), get_(&format!("/canary?secret=fts.{e}")), is_empty_array);
        f.clean(&ctx("fts language"), get_(&format!("/canary?secret=fts({e}).alpha")), |_| false);
        f.clean(&ctx("or value"), get_(&format!("/canary?or=(secret.eq.{e},id.eq.0)")), is_empty_array);
        f.clean(&ctx("or quoted value"), get_(&format!("/canary?or=(secret.eq.{q},id.eq.0)")), is_empty_array);
        f.clean(&ctx("and nested"), get_(&format!("/canary?and=(or(secret.eq.{q}),id.gt.0)")), is_empty_array);
        f.clean(&ctx("limit"), get_(&format!("/canary?limit={e}")), only_canary_rows);
        f.clean(&ctx("offset"), get_(&format!("/canary?offset={e}")), only_canary_rows);
        f.clean(&ctx("embedded filter"), get_(&format!("/customers?select=id,orders(id)&orders.status=eq.{e}")), |_| true);
        f.data(
            &ctx("update filter"),
            p,
            request_with_body(
                "PATCH",
                &format!("/inj_target?name=eq.{e}"),
                &[("Content-Type", "application/json"), ("Prefer", "return=representation")],
                Some(r#"{"note": "changed"}"#),
            ),
            is_empty_array,
        );
        f.data(
            &ctx("delete filter"),
            p,
            request("DELETE", &format!("/inj_target?name=eq.{e}"), &[("Prefer", "return=representation")]),
            is_empty_array,
        );
    }
    f.assert_none();
}

#[test]
fn written_values_round_trip_exactly() {
    let mut f = Failures::default();
    for (i, p) in PAYLOADS.iter().enumerate() {
        let id = 2000 + i as i64;
        let body = serde_json::json!({"id": id, "name": p, "note": p}).to_string();
        let want = |r: &Response| {
            let v: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
            v == serde_json::json!([{"id": id, "name": p, "note": p}])
        };
        let ctx = |pos: &str| format!("{pos} {p:?}");
        f.data(
            &ctx("insert"),
            p,
            request_with_body(
                "POST",
                "/inj_target",
                &[("Content-Type", "application/json"), ("Prefer", "return=representation")],
                Some(&body),
            ),
            want,
        );
        if !p.contains('\0') {
            f.data(&ctx("read back"), p, get_(&format!("/inj_target?id=eq.{id}&name=eq.{}", pct(p))), want);
            let csv = format!("id,name,note\n{id},{},x\n", csv_quote(p));
            f.clean(
                &ctx("csv upsert"),
                request_with_body(
                    "POST",
                    "/inj_target?on_conflict=id",
                    &[("Content-Type", "text/csv"), ("Prefer", "resolution=merge-duplicates,return=representation")],
                    Some(&csv),
                ),
                |r| r.body.contains(&serde_json::to_string(p).unwrap()),
            );
            let form = format!("id={id}&name={}&note={}", pct(p), pct(p));
            f.data(
                &ctx("form upsert"),
                p,
                request_with_body(
                    "POST",
                    "/inj_target?on_conflict=id",
                    &[
                        ("Content-Type", "application/x-www-form-urlencoded"),
                        ("Prefer", "resolution=merge-duplicates,return=representation"),
                    ],
                    Some(&form),
                ),
                |r| {
                    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
                    v == serde_json::json!([{"id": id, "name": p, "note": p}])
                },
            );
        }
    }
    assert_eq!(psql("select count(*) from api.inj_target where id >= 2000 and name is distinct from note"), "0");
    psql("delete from api.inj_target where id >= 2000");
    f.assert_none();
}

#[test]
fn on_conflict_and_columns() {
    let mut f = Failures::default();
    for p in PAYLOADS {
        let e = pct(p);
        let q = pct(&quoted(p));
        let ctx = |pos: &str| format!("{pos} {p:?}");
        let json = [("Content-Type", "application/json"), ("Prefer", "resolution=merge-duplicates")];
        f.client_error(
            &ctx("on_conflict"),
            request_with_body("POST", &format!("/inj_target?on_conflict={e}"), &json, Some(r#"{"id": 1, "name": "one"}"#)),
        );
        f.client_error(
            &ctx("on_conflict quoted"),
            request_with_body("POST", &format!("/inj_target?on_conflict={q}"), &json, Some(r#"{"id": 1, "name": "one"}"#)),
        );
        f.client_error(
            &ctx("on_conflict second"),
            request_with_body("POST", &format!("/inj_target?on_conflict=id,{q}"), &json, Some(r#"{"id": 1, "name": "one"}"#)),
        );
        let plain = [("Content-Type", "application/json")];
        f.client_error(&ctx("columns"), request_with_body("POST", &format!("/inj_target?columns=id,{e}"), &plain, Some(r#"{"id": 3000}"#)));
        f.client_error(
            &ctx("columns quoted"),
            request_with_body("POST", &format!("/inj_target?columns=id,{q}"), &plain, Some(r#"{"id": 3000}"#)),
        );
        f.client_error(
            &ctx("columns on PATCH"),
            request_with_body("PATCH", &format!("/inj_target?id=eq.1&columns={q}"), &plain, Some(r#"{"name": "one"}"#)),
        );
        // keys of the body are column names
        let body = serde_json::json!({"id": 3000, (*p): 1}).to_string();
        f.client_error(&ctx("body key"), request_with_body("POST", "/inj_target", &plain, Some(&body)));
        f.client_error(&ctx("body key on PATCH"), request_with_body("PATCH", "/inj_target?id=eq.1", &plain, Some(&body)));
        f.client_error(&ctx("body key on PUT"), request_with_body("PUT", "/inj_target?id=eq.3000", &plain, Some(&body)));
        f.client_error(
            &ctx("PUT filter column"),
            request_with_body("PUT", &format!("/inj_target?{q}=eq.3000"), &plain, Some(r#"{"id": 3000}"#)),
        );
        let csv = format!("id,{}\n3000,1\n", csv_quote(p));
        f.client_error(&ctx("csv header"), request_with_body("POST", "/inj_target", &[("Content-Type", "text/csv")], Some(&csv)));
        let form = format!("id=3000&{}=1", pct(p));
        f.client_error(
            &ctx("form key"),
            request_with_body("POST", "/inj_target", &[("Content-Type", "application/x-www-form-urlencoded")], Some(&form)),
        );
    }
    assert_eq!(psql("select count(*) from api.inj_target where id = 3000"), "0");
    f.assert_none();
}

#[test]
fn function_arguments() {
    let mut f = Failures::default();
    for p in PAYLOADS {
        let e = pct(p);
        let ctx = |pos: &str| format!("{pos} {p:?}");
        let echoed = |r: &Response| {
            let v: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
            v == serde_json::json!({"a": p, "b": 0})
        };
        f.data(&ctx("GET argument value"), p, get_(&format!("/rpc/inj_echo?a={e}")), echoed);
        let body = serde_json::json!({"a": p}).to_string();
        f.data(
            &ctx("POST argument value"),
            p,
            request_with_body("POST", "/rpc/inj_echo", &[("Content-Type", "application/json")], Some(&body)),
            echoed,
        );
        f.data(
            &ctx("form argument value"),
            p,
            request_with_body("POST", "/rpc/inj_echo", &[("Content-Type", "application/x-www-form-urlencoded")], Some(&format!("a={e}"))),
            echoed,
        );
        f.client_error(&ctx("int argument value"), get_(&format!("/rpc/inj_echo?a=x&b={e}")));
        // argument names
        if !["a", "b"].contains(p) {
            // a key is read up to the first character a name cannot have, as in PostgREST
            // (`a%00b` is the argument `a`): then the last value of `a` wins
            f.clean(&ctx("GET argument name"), get_(&format!("/rpc/inj_echo?a=x&{e}=1")), |r| {
                r.json() == serde_json::json!({"a": "x", "b": 0}) || r.json() == serde_json::json!({"a": "1", "b": 0})
            });
            let body = serde_json::json!({"a": "x", (*p): 1}).to_string();
            f.client_error(
                &ctx("POST argument name"),
                request_with_body("POST", "/rpc/inj_echo", &[("Content-Type", "application/json")], Some(&body)),
            );
            f.client_error(
                &ctx("POST argument name with columns"),
                request_with_body(
                    "POST",
                    &format!("/rpc/inj_echo?columns=a,{}", pct(&quoted(p))),
                    &[("Content-Type", "application/json")],
                    Some(r#"{"a": "x"}"#),
                ),
            );
            f.client_error(&ctx("argument of a table function"), get_(&format!("/rpc/products_under?{e}=10")));
        }
        // filters and select over a function's result
        f.clean(&ctx("filter over a function"), get_(&format!("/rpc/products_under?max_price=100&name=eq.{e}")), is_empty_array);
        f.clean(&ctx("select over a function"), get_(&format!("/rpc/products_under?max_price=100&select={}", pct(&quoted(p)))), |_| {
            *p == "*"
        });
        // the variadic argument repeated
        f.clean(&ctx("variadic"), get_(&format!("/rpc/sum_all?nums={e}&nums=1")), |_| false);
    }
    f.assert_none();
}

// --- headers --------------------------------------------------------------------------------

#[test]
fn header_and_cookie_values_reach_the_request_gucs_verbatim() {
    let mut f = Failures::default();
    for p in PAYLOADS.iter().filter(|p| header_safe(p)) {
        let ctx = |pos: &str| format!("{pos} {p:?}");
        // header values are trimmed by HTTP itself
        let sent = p.trim_matches([' ', '\t']);
        f.data(&ctx("header value"), p, request("GET", "/rpc/inj_settings", &[("X-Inj", p)]), |r| {
            r.json()["headers"]["x-inj"] == serde_json::json!(sent)
        });
        if !p.contains([';', '=']) {
            let cookie_value = sent;
            f.data(&ctx("cookie value"), p, request("GET", "/rpc/inj_settings", &[("Cookie", &format!("k={cookie_value}"))]), |r| {
                r.json()["cookies"]["k"] == serde_json::json!(cookie_value.trim())
            });
            if !sent.is_empty() {
                f.data(&ctx("cookie name"), p, request("GET", "/rpc/inj_settings", &[("Cookie", &format!("{sent}=v"))]), |r| {
                    r.json()["cookies"][sent.trim()] == serde_json::json!("v")
                });
            }
        }
        f.clean(&ctx("timezone"), request("GET", "/rpc/inj_settings", &[("Prefer", &format!("timezone={sent}"))]), |r| {
            // an unknown zone is ignored: the server's zone stays
            r.json()["tz"].as_str().is_some_and(|tz| !tz.is_empty())
        });
        f.clean(&ctx("Prefer"), request("GET", "/canary", &[("Prefer", sent)]), only_canary_rows);
        f.clean(&ctx("Prefer strict"), request("GET", "/canary", &[("Prefer", &format!("handling=strict, {sent}"))]), |_| {
            sent.split(',').all(|x| x.trim().is_empty())
        });
        f.clean(
            &ctx("Prefer max-affected"),
            request_with_body(
                "PATCH",
                "/inj_target?id=eq.0",
                &[("Content-Type", "application/json"), ("Prefer", &format!("handling=strict, max-affected={sent}"))],
                Some(r#"{"name": "x"}"#),
            ),
            |_| true,
        );
        f.clean(&ctx("Prefer count"), request("GET", "/canary", &[("Prefer", &format!("count={sent}"))]), only_canary_rows);
        f.clean(&ctx("Range"), request("GET", "/canary", &[("Range", sent)]), only_canary_rows);
        f.clean(&ctx("Accept"), request("GET", "/canary", &[("Accept", sent)]), |_| true);
        f.clean(&ctx("Content-Type"), request_with_body("POST", "/inj_target", &[("Content-Type", sent)], Some(r#"{"id": 4000}"#)), |_| {
            false
        });
        if !sent.is_empty() {
            f.client_error(&ctx("Accept-Profile"), request("GET", "/canary", &[("Accept-Profile", sent)]));
            f.client_error(
                &ctx("Content-Profile"),
                request_with_body(
                    "POST",
                    "/inj_target",
                    &[("Content-Type", "application/json"), ("Content-Profile", sent)],
                    Some(r#"{"id": 4000}"#),
                ),
            );
            f.client_error(&ctx("Authorization"), request("GET", "/canary", &[("Authorization", &format!("Bearer {sent}"))]));
        }
    }
    // header names that are legal HTTP tokens but odd in SQL
    for name in ["x-'--", "x-$1", "x-`", "x-%00", "x-a|b"] {
        f.data(&format!("header name {name:?}"), "", request("GET", "/rpc/inj_settings", &[(name, "v")]), |r| {
            r.json()["headers"][name] == serde_json::json!("v")
        });
    }
    assert_eq!(psql("select count(*) from api.inj_target where id = 4000"), "0");
    f.assert_none();
}

#[test]
fn jwt_claims_with_hostile_roles_and_values() {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let token = |claims: serde_json::Value| {
        let key = jsonwebtoken::EncodingKey::from_secret(b"e2e-jwt-secret-that-is-long-enough-0123");
        let msg = format!("{}.{}", b64(r#"{"alg":"HS256","typ":"JWT"}"#), b64(&claims.to_string()));
        let sig = jsonwebtoken::crypto::sign(msg.as_bytes(), &key, jsonwebtoken::Algorithm::HS256).unwrap();
        format!("{msg}.{sig}")
    };
    let mut f = Failures::default();
    for p in PAYLOADS {
        let ctx = |pos: &str| format!("{pos} {p:?}");
        // a role nobody has: refused, never run as someone else
        let t = token(serde_json::json!({"role": p}));
        f.client_error(&ctx("role claim"), request("GET", "/canary", &[("Authorization", &format!("Bearer {t}"))]));
        // other claims are data: they reach request.jwt.claims verbatim
        let t = token(serde_json::json!({"role": "shop_user", "sub": p}));
        f.data(&ctx("sub claim"), p, request("GET", "/rpc/whoami", &[("Authorization", &format!("Bearer {t}"))]), |r| {
            r.json()["claims"]["sub"] == serde_json::json!(p) && r.json()["user"] == "shop_user"
        });
        // row level security reads the claim as a value
        f.data(&ctx("RLS on the sub claim"), p, request("GET", "/notes", &[("Authorization", &format!("Bearer {t}"))]), is_empty_array);
    }
    f.assert_none();
}

#[test]
fn zz_canaries_survived() {
    assert_canaries_intact();
    let r = get("/canary?order=id");
    assert_eq!(r.json(), serde_json::json!([{"id": 1, "secret": "alpha"}, {"id": 2, "secret": "beta"}, {"id": 3, "secret": "gamma"}]));
    assert_cluster_never_restarted();
}
