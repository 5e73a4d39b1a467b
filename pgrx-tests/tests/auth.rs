//! JWT authentication over HTTP: a valid token switches the role (and row level security
//! follows the claims); every kind of bad token gets PostgREST's 401/403 and error body,
//! never a 5xx. The e2e cluster's `postgrest.jwt_secret` is `SECRET` (scripts/e2e.sh).

use base64::Engine;
use jsonwebtoken::{crypto, encode, Algorithm, EncodingKey, Header};
use postgrest_ext_e2e::*;
use serde_json::{json, Value};

const SECRET: &str = "e2e-jwt-secret-that-is-long-enough-0123";
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

fn token(claims: Value) -> String {
    encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(SECRET.as_bytes())).expect("encodes")
}

/// A token with any header, HMAC-SHA256-signed with `key`.
fn signed_raw(header: &str, claims: &str, key: &[u8]) -> String {
    let message = format!("{}.{}", B64.encode(header), B64.encode(claims));
    let sig = crypto::sign(message.as_bytes(), &EncodingKey::from_secret(key), Algorithm::HS256).expect("signs");
    format!("{message}.{sig}")
}

fn get_with(path: &str, authorization: &str) -> Response {
    request("GET", path, &[("Authorization", authorization)]).unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

fn bearer(path: &str, token: &str) -> Response {
    get_with(path, &format!("Bearer {token}"))
}

/// A 401 with PostgREST's body and `WWW-Authenticate: Bearer error="invalid_token", ...`.
fn assert_invalid_token(r: &Response, code: &str, message: &str) {
    assert_eq!(r.status, 401, "{}", r.body);
    let body = r.json();
    assert_eq!((body["code"].as_str(), body["message"].as_str()), (Some(code), Some(message)), "{}", r.body);
    assert_eq!(r.header("WWW-Authenticate"), Some(format!("Bearer error=\"invalid_token\", error_description=\"{message}\"").as_str()));
}

#[test]
fn a_valid_token_switches_role_and_rls_applies() {
    let alice = token(json!({"role": "shop_user", "sub": "alice", "exp": now() + 300}));
    let r = bearer("/notes?select=id,owner&order=id", &alice);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json(), json!([{"id": 1, "owner": "alice"}, {"id": 3, "owner": "alice"}]));
    let bob = token(json!({"role": "shop_user", "sub": "bob"}));
    assert_eq!(bearer("/notes?select=id", &bob).json(), json!([{"id": 2}]));
    // the same token again comes from the cache and still works
    assert_eq!(bearer("/notes?select=id", &bob).json(), json!([{"id": 2}]));
}

#[test]
fn claims_are_visible_to_sql() {
    let t = token(json!({"role": "shop_user", "sub": "alice", "n": 1}));
    let r = bearer("/rpc/whoami", &t);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json(), json!({"user": "shop_user", "claims": {"n": 1, "role": "shop_user", "sub": "alice"}}));
    let r = get("/rpc/whoami");
    assert_eq!(r.json(), json!({"user": "web_anon", "claims": {"role": "web_anon"}}));
}

#[test]
fn permission_denied_is_401_anonymous_and_403_authenticated() {
    let r = get("/notes");
    assert_eq!((r.status, r.json()["code"].clone()), (401, json!("42501")), "{}", r.body);
    assert_eq!(r.header("WWW-Authenticate"), Some("Bearer"));
    // shop_user may read notes but not write them
    let t = token(json!({"role": "shop_user", "sub": "alice"}));
    let r =
        request_with_body("POST", "/notes", &[("Authorization", &format!("Bearer {t}"))], Some(r#"{"id":9,"owner":"x"}"#)).expect("POST");
    assert_eq!((r.status, r.json()["code"].clone()), (403, json!("42501")), "{}", r.body);
}

#[test]
fn tampered_signature_is_rejected() {
    let t = token(json!({"role": "shop_user", "sub": "alice"}));
    let parts: Vec<&str> = t.split('.').collect();
    let forged = format!("{}.{}.{}", parts[0], B64.encode(r#"{"role":"shop_user","sub":"bob"}"#), parts[2]);
    let r = bearer("/notes", &forged);
    assert_invalid_token(&r, "PGRST301", "No suitable key or wrong key type");
    assert_eq!(r.json()["details"], json!("None of the keys was able to decode the JWT"));
    let wrong_key = encode(
        &Header::new(Algorithm::HS256),
        &json!({"role": "shop_user"}),
        &EncodingKey::from_secret(b"some-other-secret-of-32-characters!!"),
    )
    .expect("encodes");
    assert_invalid_token(&bearer("/notes", &wrong_key), "PGRST301", "No suitable key or wrong key type");
}

#[test]
fn expired_and_not_yet_valid_tokens_are_rejected() {
    let expired = token(json!({"role": "shop_user", "exp": now() - 60}));
    assert_invalid_token(&bearer("/notes", &expired), "PGRST303", "JWT expired");
    let future = token(json!({"role": "shop_user", "nbf": now() + 600}));
    assert_invalid_token(&bearer("/notes", &future), "PGRST303", "JWT not yet valid");
    let issued_later = token(json!({"role": "shop_user", "iat": now() + 600}));
    assert_invalid_token(&bearer("/notes", &issued_later), "PGRST303", "JWT issued at future");
    // within the 30 s of allowed clock skew
    let just_expired = token(json!({"role": "shop_user", "sub": "alice", "exp": now() - 5}));
    assert_eq!(bearer("/notes?select=id", &just_expired).status, 200);
}

#[test]
fn wrong_audience_is_rejected_when_jwt_aud_is_set() {
    psql("ALTER SYSTEM SET postgrest.jwt_aud = 'shop'");
    psql("SELECT pg_reload_conf()");
    std::thread::sleep(std::time::Duration::from_millis(500));
    let wrong = bearer("/notes?select=id", &token(json!({"role": "shop_user", "sub": "bob", "aud": "elsewhere"})));
    let right = bearer("/notes?select=id", &token(json!({"role": "shop_user", "sub": "bob", "aud": ["x", "shop"]})));
    psql("ALTER SYSTEM RESET postgrest.jwt_aud");
    psql("SELECT pg_reload_conf()");
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_invalid_token(&wrong, "PGRST303", "JWT not in audience");
    assert_eq!(right.status, 200, "{}", right.body);
}

#[test]
fn alg_none_is_rejected() {
    let unsigned = format!("{}.{}.", B64.encode(r#"{"alg":"none","typ":"JWT"}"#), B64.encode(r#"{"role":"shop_user"}"#));
    let r = bearer("/notes", &unsigned);
    assert_invalid_token(&r, "PGRST301", "Wrong or unsupported encoding algorithm");
    assert_eq!(r.json()["details"], json!("JWT is unsecured but expected 'alg' was not 'none'"));
}

#[test]
fn algorithm_confusion_is_rejected() {
    // claims to be RS256 but is an HMAC made with the server's secret: no RSA key, no access
    let t = signed_raw(r#"{"alg":"RS256","typ":"JWT"}"#, r#"{"role":"shop_user"}"#, SECRET.as_bytes());
    let r = bearer("/notes", &t);
    assert_invalid_token(&r, "PGRST301", "No suitable key or wrong key type");
    assert_eq!(r.json()["details"], json!("No suitable key was found to decode the JWT"));
    // an unknown algorithm
    let t = signed_raw(r#"{"alg":"XS256"}"#, r#"{"role":"shop_user"}"#, SECRET.as_bytes());
    assert_invalid_token(&bearer("/notes", &t), "PGRST301", "JWT cryptographic operation failed");
}

#[test]
fn unknown_role_is_401() {
    let r = bearer("/products", &token(json!({"role": "no_such_role"})));
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(r.json()["code"], json!("22023"));
    assert_eq!(r.json()["message"], json!("role \"no_such_role\" does not exist"));
}

#[test]
fn a_superuser_role_in_a_token_is_refused() {
    let r = bearer("/products", &token(json!({"role": "postgres"})));
    assert_eq!((r.status, r.json()["code"].clone()), (403, json!("42501")), "{}", r.body);
}

#[test]
fn garbage_in_the_header_is_a_401_never_a_5xx() {
    for (auth, message) in [
        ("Bearer not-a-jwt", "Expected 3 parts in JWT; got 1"),
        ("Bearer a.b", "Expected 3 parts in JWT; got 2"),
        ("Bearer a.b.c.d.e", "Expected 3 parts in JWT; got 5"),
        ("Bearer %%%.%%%.%%%", "JWT cryptographic operation failed"),
        ("Bearer ....", "Expected 3 parts in JWT; got 5"),
        ("Bearer e30.e30.e30", "JWT cryptographic operation failed"),
        ("Bearer ", "Empty JWT is sent in Authorization header"),
    ] {
        let r = get_with("/products?select=id&limit=1", auth);
        assert!(r.status < 500, "{auth}: {}", r.status);
        assert_eq!(r.json()["message"], json!(message), "{auth}");
    }
    // another scheme carries no token: anonymous
    assert_eq!(get_with("/products?select=id&limit=1", "Basic dXNlcjpwYXNz").status, 200);
}

#[test]
fn a_10_kb_token_is_rejected_cleanly() {
    let big = token(json!({"role": "shop_user", "sub": "alice", "pad": "x".repeat(10_000)}));
    let (message, sig) = big.rsplit_once('.').expect("three parts");
    let first = if sig.starts_with('A') { 'B' } else { 'A' };
    let tampered = format!("{message}.{first}{}", &sig[1..]);
    let r = bearer("/products?select=id&limit=1", &tampered);
    assert_eq!(r.status, 401, "{}", r.body);
    let junk = "y".repeat(10_000);
    let r = bearer("/products?select=id&limit=1", &junk);
    assert_eq!(r.status, 401);
    // and a valid big one works (shop_user reads notes, not products)
    let r = bearer("/notes?select=id&limit=1", &big);
    assert_eq!(r.status, 200, "{}", r.body);
}
