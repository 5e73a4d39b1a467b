//! `GET /`: the OpenAPI document of the demo shop — paths for tables, views and functions,
//! definitions with types and key notes, the schema comment as title, privileges followed
//! per request, and the ignore-privileges / disabled modes.

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use postgrest_ext_e2e::*;
use serde_json::{json, Value};
use std::time::Duration;

const SECRET: &str = "e2e-jwt-secret-that-is-long-enough-0123";

fn root(headers: &[(&str, &str)]) -> Response {
    request("GET", "/", headers).unwrap_or_else(|e| panic!("GET /: {e}"))
}

fn paths(doc: &Value) -> Vec<String> {
    doc["paths"].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default()
}

fn bearer(role: &str) -> String {
    let token =
        encode(&Header::new(Algorithm::HS256), &json!({"role": role, "sub": "alice"}), &EncodingKey::from_secret(SECRET.as_bytes()))
            .expect("encodes");
    format!("Bearer {token}")
}

/// Sets `postgrest.openapi_mode` and waits until `GET /` satisfies `applied` (a reload takes
/// effect a moment later).
fn set_mode(mode: Option<&str>, applied: impl Fn(&Response) -> bool) {
    match mode {
        Some(m) => psql(&format!("ALTER SYSTEM SET postgrest.openapi_mode = '{m}'")),
        None => psql("ALTER SYSTEM RESET postgrest.openapi_mode"),
    };
    psql("SELECT pg_reload_conf()");
    for _ in 0..50 {
        if request("GET", "/", &[]).map(|r| applied(&r)).unwrap_or(false) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("openapi_mode {mode:?} was not applied");
}

fn lists_notes(r: &Response) -> bool {
    r.status == 200 && paths(&r.json()).contains(&"/notes".to_string())
}

/// Puts the default mode back even when an assertion fails.
struct ResetMode;
impl Drop for ResetMode {
    fn drop(&mut self) {
        set_mode(None, |r| r.status == 200 && !lists_notes(r));
    }
}

#[test]
fn the_document_lists_tables_views_and_functions() {
    let r = root(&[]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("Content-Type"), Some("application/openapi+json; charset=utf-8"));
    let doc = r.json();
    assert_eq!(doc["swagger"], json!("2.0"));
    let p = paths(&doc);
    for path in ["/", "/categories", "/products", "/customers", "/orders", "/order_items", "/product_catalog", "/rpc/order_total"] {
        assert!(p.contains(&path.to_string()), "{path} missing from {p:?}");
    }
    assert!(doc["paths"]["/products"]["post"].is_object());
    assert!(doc["paths"]["/product_catalog"]["get"].is_object());
    // a stable function is callable by GET and POST, with its argument as a query parameter
    let total = &doc["paths"]["/rpc/order_total"];
    assert_eq!(
        total["get"]["parameters"][0],
        json!({"format": "int32", "in": "query", "name": "order_id", "required": true, "type": "integer"})
    );
    assert_eq!(total["post"]["tags"], json!(["(rpc) order_total"]));
}

#[test]
fn definitions_carry_column_types_and_key_notes() {
    let doc = root(&[]).json();
    let products = &doc["definitions"]["products"];
    assert_eq!(products["type"], json!("object"));
    assert_eq!(
        products["properties"]["id"],
        json!({"description": "Note:\nThis is a Primary Key.<pk/>", "format": "int32", "type": "integer"})
    );
    assert_eq!(products["properties"]["price"], json!({"format": "numeric", "type": "number"}));
    assert_eq!(products["properties"]["tags"]["items"], json!({"type": "string"}));
    assert_eq!(products["properties"]["details"], json!({"format": "jsonb"}));
    assert_eq!(
        products["properties"]["category_id"]["description"],
        json!("Note:\nThis is a Foreign Key to `categories.id`.<fk table='categories' column='id'/>")
    );
    assert_eq!(products["required"], json!(["id", "name", "price", "tags"]));
    assert_eq!(doc["definitions"]["orders"]["properties"]["status"]["default"], json!("new"));
}

#[test]
fn only_what_the_role_may_use_is_listed() {
    // api.notes is granted to shop_user only
    let anon = root(&[]).json();
    assert!(!paths(&anon).contains(&"/notes".to_string()));
    assert!(anon["definitions"].get("notes").is_none());
    let auth = bearer("shop_user");
    let user = root(&[("Authorization", &auth)]).json();
    assert_eq!(user["paths"]["/notes"]["post"]["tags"], json!(["notes"]));
    // functions follow EXECUTE
    psql("REVOKE EXECUTE ON FUNCTION api.noop() FROM PUBLIC");
    let without = paths(&root(&[]).json());
    psql("GRANT EXECUTE ON FUNCTION api.noop() TO PUBLIC");
    assert!(!without.contains(&"/rpc/noop".to_string()));
    assert!(paths(&root(&[]).json()).contains(&"/rpc/noop".to_string()));
}

#[test]
fn the_schema_comment_gives_title_and_description() {
    psql("COMMENT ON SCHEMA api IS 'Shop API\n\nEverything the shop sells'");
    let doc = root(&[]).json();
    psql("COMMENT ON SCHEMA api IS NULL");
    assert_eq!(doc["info"]["title"], json!("Shop API"));
    assert_eq!(doc["info"]["description"], json!("Everything the shop sells"));
    assert_eq!(root(&[]).json()["info"]["title"], json!("PostgREST API"));
}

#[test]
fn head_and_media_types() {
    let r = request("HEAD", "/", &[("Accept", "application/openapi+json")]).expect("HEAD /");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, "");
    assert_eq!(r.header("Content-Type"), Some("application/openapi+json; charset=utf-8"));
    assert_eq!(root(&[("Accept", "application/json")]).status, 200);
    assert_eq!(root(&[("Accept", "text/csv")]).status, 406);
}

#[test]
fn ignore_privileges_and_disabled_modes() {
    let _reset = ResetMode;
    // the anonymous role cannot read api.notes, ignore-privileges lists it anyway
    set_mode(Some("ignore-privileges"), lists_notes);
    set_mode(Some("disabled"), |r| r.status == 404);
    let r = root(&[]);
    assert_eq!(r.json(), json!({"code": "PGRST126", "details": null, "hint": null, "message": "Root endpoint metadata is disabled"}));
}
