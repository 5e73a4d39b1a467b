//! Tests of authentication, with tokens from PostgREST's own spec where possible.

use super::*;
use crate::config::jspath::RoleClaimKey;
use crate::config::jwk;
use crate::error::JwtClaimsError;
use base64::Engine;
use jsonwebtoken::{encode, EncodingKey, Header};
use serde_json::json;

const SECRET: &str = "reallyreallyreallyreallyverysafe";
const NOW: i64 = 1_700_000_000;
/// PostgREST's AsymmetricJwtSpec key and token
const RSA_JWK: &str = r#"{"alg":"RS256","e":"AQAB","key_ops":["verify"],"kty":"RSA","n":"0etQ2Tg187jb04MWfpuogYGV75IFrQQBxQaGH75eq_FpbkyoLcEpRUEWSbECP2eeFya2yZ9vIO5ScD-lPmovePk4Aa4SzZ8jdjhmAbNykleRPCxMg0481kz6PQhnHRUv3nF5WP479CnObJKqTVdEagVL66oxnX9VhZG9IZA7k0Th5PfKQwrKGyUeTGczpOjaPqbxlunP73j9AfnAt4XCS8epa-n3WGz1j-wfpr_ys57Aq-zBCfqP67UYzNpeI1AoXsJhD9xSDOzvJgFRvc3vm2wjAW4LEMwi48rCplamOpZToIHEPIaPzpveYQwDnB1HFTR1ove9bpKJsHmi-e2uzQ","use":"sig"}"#;
const RSA_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJyb2xlIjogInBvc3RncmVzdF90ZXN0X2F1dGhvciJ9Cg.CBOYWDvqgAR0YYnZnyDGTQi6AJLc2Pds6_eV3YuBG6I36mj_h05eLhkEKNEDA5ZteMzCiY83P60rC_xtxVd7B6vo3BeF5uoanPS3rrbuHzKPwzsrgrD_CqvEuJ4n7Q9epkQiLsNkcexneENZDRqFjbwZx3DrXiCWwlK3Ytr5NAIGxmy0od-0xNpb2U1nXQyO_Q3mumWFViRt4tmFn_3goDHNKG3Ha_AzImfUNvHnWL78kAc4rbn15vLtWXD8PwtSnZaB4lY4V6RfsaW937srQsmRetvytM1i_bHBnjkjQLAqGbXPyItjtlXPs0uGNBadE8-wgkLtfmSCC4v2DjUthw";

fn config(secret: Option<&str>, anon: Option<&str>) -> Config {
    config_with(secret, anon, &[])
}

fn config_with(secret: Option<&str>, anon: Option<&str>, more: &[(&str, &str)]) -> Config {
    let mut s: std::collections::HashMap<String, String> = more.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    s.extend(secret.map(|v| ("jwt_secret".to_string(), v.to_string())));
    s.extend(anon.map(|v| ("db_anon_role".to_string(), v.to_string())));
    Config::from_settings(&s).expect("valid config")
}

fn hs(alg: jsonwebtoken::Algorithm, claims: serde_json::Value, secret: &str) -> String {
    encode(&Header::new(alg), &claims, &EncodingKey::from_secret(secret.as_bytes())).expect("encodes")
}

fn hs256(claims: serde_json::Value) -> String {
    hs(jsonwebtoken::Algorithm::HS256, claims, SECRET)
}

fn auth(c: &Config, token: Option<&str>) -> Result<Auth, Error> {
    authenticate_at(c, token, NOW)
}

fn decode_err(c: &Config, token: &str) -> (String, serde_json::Value, Vec<(String, String)>) {
    let e = auth(c, Some(token)).expect_err("must fail");
    (e.message(), e.details(), e.headers())
}

#[test]
fn bearer_scheme_is_case_insensitive() {
    let h = |v: &str| vec![("Authorization".to_string(), v.to_string())];
    assert_eq!(bearer_token(&h("Bearer abc")), Some("abc"));
    assert_eq!(bearer_token(&h("bearer   abc")), Some("abc"));
    assert_eq!(bearer_token(&h("Bearer")), Some(""));
    assert_eq!(bearer_token(&h("Basic abc")), None);
    assert_eq!(bearer_token(&[]), None);
}

#[test]
fn anonymous_and_no_anon_role() {
    let c = config(Some(SECRET), Some("anon"));
    let a = auth(&c, None).expect("anon");
    assert_eq!(a, Auth { role: "anon".into(), claims: r#"{"role":"anon"}"#.into(), authenticated: false });
    let c = config(Some(SECRET), None);
    let e = auth(&c, None).expect_err("no anon role");
    assert_eq!((e.status(), e.code()), (401, "PGRST302".to_string()));
    assert_eq!(e.headers(), vec![("WWW-Authenticate".to_string(), "Bearer".to_string())]);
}

#[test]
fn valid_token_sets_role_and_claims() {
    let c = config(Some(SECRET), Some("anon"));
    let t = hs256(json!({"role": "author", "id": "jdoe", "exp": NOW + 60}));
    let a = auth(&c, Some(&t)).expect("valid");
    assert_eq!(a.role, "author");
    assert!(a.authenticated);
    let claims: serde_json::Value = serde_json::from_str(&a.claims).expect("json");
    assert_eq!(claims, json!({"role": "author", "id": "jdoe", "exp": NOW + 60}));
    // a token whose role is the anonymous role is not "authenticated" (PostgREST)
    let a = auth(&c, Some(&hs256(json!({"id": 1})))).expect("valid");
    assert_eq!((a.role.as_str(), a.authenticated), ("anon", false));
    assert_eq!(a.claims, r#"{"id":1,"role":"anon"}"#);
}

#[test]
fn token_without_secret_is_pgrst300() {
    let c = config(None, Some("anon"));
    let e = auth(&c, Some(&hs256(json!({"role": "x"})))).expect_err("no secret");
    assert_eq!((e.status(), e.code(), e.message()), (500, "PGRST300".into(), "Server lacks JWT secret".into()));
}

#[test]
fn decode_errors_are_postgrests() {
    let c = config(Some(SECRET), Some("anon"));
    let invalid = |m: &str| vec![("WWW-Authenticate".to_string(), format!("Bearer error=\"invalid_token\", error_description=\"{m}\""))];
    assert_eq!(
        decode_err(&c, "ey9zdGdyZXN0X3Rlc3RfYXV0aG9yIiwiaWQiOiJqZG9lIn0.y4vZuu1dDdwAl0-S00MCRWRYMlJ5YAMSir6Es6WtWx0"),
        ("Expected 3 parts in JWT; got 2".into(), serde_json::Value::Null, invalid("Expected 3 parts in JWT; got 2"))
    );
    assert_eq!(decode_err(&c, "").0, "Empty JWT is sent in Authorization header");
    assert_eq!(decode_err(&c, "quifquirndsjagnrgniur.fonvoienqhhdj.iuqvnvhojah").0, "JWT cryptographic operation failed");
    assert_eq!(
        decode_err(&c, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.H3g0RqFzidJC79JOsMrtqpo5I-TDENcFOiIREzFjE08").1,
        json!("None of the keys was able to decode the JWT")
    );
    let (m, d, _) = decode_err(&c, "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.e30.yOBhlOIqn56T-4NvyEXCjfi3UmyQZ-BzXtePMO2NgRI");
    assert_eq!((m.as_str(), d), ("Wrong or unsupported encoding algorithm", json!("JWT is unsecured but expected 'alg' was not 'none'")));
    // alg none with an empty signature, the classic attack
    let none = format!("{}.{}.", jwk::B64URL.encode(r#"{"alg":"none"}"#), jwk::B64URL.encode(r#"{"role":"postgres"}"#));
    assert_eq!(decode_err(&c, &none).0, "Wrong or unsupported encoding algorithm");
    // a text secret is an HS256 key only (PostgREST); HS512 finds no key
    let t = hs(jsonwebtoken::Algorithm::HS512, json!({"role": "x"}), SECRET);
    assert_eq!(decode_err(&c, &t).1, json!("No suitable key was found to decode the JWT"));
    // an RS256 token against an HMAC secret
    assert_eq!(decode_err(&c, RSA_TOKEN).1, json!("No suitable key was found to decode the JWT"));
    // tampered payload
    let t = hs256(json!({"role": "author"}));
    let parts: Vec<&str> = t.split('.').collect();
    let forged = format!("{}.{}.{}", parts[0], jwk::B64URL.encode(r#"{"role":"postgres"}"#), parts[2]);
    assert_eq!(decode_err(&c, &forged).1, json!("None of the keys was able to decode the JWT"));
    // garbage never panics
    for t in ["..", "a.b.c", "....", "eyJhbGciOiJIUzI1NiJ9..", "%%%.%%%.%%%", &"x".repeat(10_000)] {
        let e = auth(&c, Some(t)).expect_err("garbage");
        assert_eq!(e.status(), 401, "{t}");
    }
}

#[test]
fn claims_are_checked_with_skew() {
    let c = config(Some(SECRET), Some("anon"));
    let claims_err = |claims: serde_json::Value| auth(&c, Some(&hs256(claims))).err().map(|e| e.message());
    assert_eq!(claims_err(json!({"exp": NOW - 31})), Some("JWT expired".into()));
    assert_eq!(claims_err(json!({"exp": NOW - 30})), None);
    assert_eq!(claims_err(json!({"exp": 1.5})), Some("JWT expired".into()));
    assert_eq!(claims_err(json!({"exp": null})), None);
    assert_eq!(claims_err(json!({"nbf": NOW + 31})), Some("JWT not yet valid".into()));
    assert_eq!(claims_err(json!({"nbf": NOW + 30})), None);
    assert_eq!(claims_err(json!({"iat": NOW + 31})), Some("JWT issued at future".into()));
    assert_eq!(claims_err(json!({"exp": "x"})), Some("The JWT 'exp' claim must be a number".into()));
    assert_eq!(claims_err(json!({"aud": {"a": 1}})), Some("The JWT 'aud' claim must be a string or an array of strings".into()));
    assert_eq!(claims_err(json!({"aud": [1]})), Some("The JWT 'aud' claim must be a string or an array of strings".into()));
    assert_eq!(claims_err(json!({"aud": "anything"})), None);
    let e = auth(&c, Some(&hs256(json!({"exp": NOW - 100})))).expect_err("expired");
    assert_eq!((e.code(), e.status()), ("PGRST303".to_string(), 401));
    assert_eq!(e, Error::JwtClaims(JwtClaimsError::Expired));
}

#[test]
fn audience() {
    let mut c = config(Some(SECRET), Some("anon"));
    c.jwt_aud = Some("youraudience".into());
    let ok = |claims: serde_json::Value| auth(&c, Some(&hs256(claims))).is_ok();
    assert!(ok(json!({"aud": "youraudience"})));
    assert!(!ok(json!({"aud": ""})));
    assert!(ok(json!({"aud": ["youraudience", "other"]})));
    assert!(!ok(json!({"aud": ["other"]})));
    assert!(ok(json!({"aud": []})));
    assert!(ok(json!({"aud": null})));
    assert!(ok(json!({})));
}

#[test]
fn jwk_and_jwks_secrets() {
    for secret in [RSA_JWK.to_string(), format!(r#"{{"keys": [{RSA_JWK}]}}"#)] {
        let c = config(Some(&secret), Some("anon"));
        let a = auth(&c, Some(RSA_TOKEN)).expect("RS256 verifies");
        assert_eq!(a.role, "postgrest_test_author");
        // HMAC with the public key as secret (algorithm confusion) finds no key
        let t = hs(jsonwebtoken::Algorithm::HS256, json!({"role": "postgres"}), &secret);
        assert_eq!(decode_err(&c, &t).1, json!("No suitable key was found to decode the JWT"));
    }
    // an oct JWK without alg verifies HS384 and HS512
    let k = jwk::B64URL.encode(SECRET);
    let c = config(Some(&format!(r#"{{"kty":"oct","k":"{k}"}}"#)), Some("anon"));
    for alg in [jsonwebtoken::Algorithm::HS256, jsonwebtoken::Algorithm::HS384, jsonwebtoken::Algorithm::HS512] {
        assert_eq!(auth(&c, Some(&hs(alg, json!({"role": "r"}), SECRET))).expect("verifies").role, "r");
    }
}

#[test]
fn base64_secret() {
    let c = config_with(Some(&base64::engine::general_purpose::STANDARD.encode(SECRET)), Some("anon"), &[("jwt_secret_is_base64", "true")]);
    assert_eq!(auth(&c, Some(&hs256(json!({"role": "r"})))).expect("verifies").role, "r");
}

#[test]
fn short_secret_is_a_config_error() {
    let check = |secret: &str, key: &str| {
        let s = [("jwt_secret", secret), ("jwt_role_claim_key", key)].map(|(k, v)| (k.to_string(), v.to_string()));
        Config::from_settings(&s.into_iter().filter(|(_, v)| !v.is_empty()).collect())
    };
    assert!(check("short", ".role").is_err());
    assert!(check(SECRET, ".role").is_ok());
    assert!(check("", "no path").is_err());
}

#[test]
fn role_claim_keys() {
    let claims = json!({
        "role": "top",
        "realm_access": {"roles": ["first", "second"]},
        "https://x.com/role": "namespaced",
        "roles": ["pre_a", "b_post", "other"],
        "n": 5
    });
    let eval = |k: &str| RoleClaimKey::parse(k).expect(k).evaluate(&claims);
    assert_eq!(eval(".role"), Some(json!("top")));
    assert_eq!(eval("$.role"), Some(json!("top")));
    assert_eq!(eval(".realm_access.roles[0]"), Some(json!("first")));
    assert_eq!(eval("$.realm_access.roles[1]"), Some(json!("second")));
    assert_eq!(eval("$.realm_access.roles[-1]"), Some(json!("second")));
    assert_eq!(eval(r#"."https://x.com/role""#), Some(json!("namespaced")));
    assert_eq!(eval(r#"$["https://x.com/role"]"#), Some(json!("namespaced")));
    assert_eq!(eval(r#"$['https://x.com/role']"#), Some(json!("namespaced")));
    assert_eq!(eval(r#".roles[?(@ ^== "pre")]"#), Some(json!("pre_a")));
    assert_eq!(eval(r#".roles[?(@ ==^ "post")]"#), Some(json!("b_post")));
    assert_eq!(eval(r#".roles[?(@ *== "the")]"#), Some(json!("other")));
    assert_eq!(eval(r#".roles[?(@ != "pre_a")]"#), Some(json!("b_post")));
    assert_eq!(eval(r#"$.roles[?@ == "other"]"#), Some(json!("other")));
    assert_eq!(eval(r#"$.roles[?(@ == "x" || @ == "b_post")]"#), Some(json!("b_post")));
    assert_eq!(eval("$.roles[1:]"), Some(json!("b_post")));
    assert_eq!(eval("$.roles[::-1]"), Some(json!("other")));
    assert_eq!(eval("$..roles[0]"), Some(json!("pre_a")));
    assert_eq!(eval("$.n"), Some(json!(5)));
    assert_eq!(eval("$.missing"), None);
    assert_eq!(eval(".missing.deeper"), None);
    assert!(RoleClaimKey::parse("role").is_err());
    assert!(RoleClaimKey::parse(r#".roles[?(@ == "a")].x"#).is_err());
}

#[test]
fn role_from_a_nested_claim_and_non_string_roles() {
    let c = config_with(Some(SECRET), Some("anon"), &[("jwt_role_claim_key", ".realm_access.roles[0]")]);
    let a = auth(&c, Some(&hs256(json!({"realm_access": {"roles": ["editor"]}})))).expect("ok");
    assert_eq!(a.role, "editor");
    assert_eq!(a.claims, r#"{"realm_access":{"roles":["editor"]},"role":"editor"}"#);
    let c = config_with(Some(SECRET), Some("anon"), &[("jwt_role_claim_key", ".n")]);
    assert_eq!(auth(&c, Some(&hs256(json!({"n": 12})))).expect("ok").role, "12");
}

#[test]
fn verified_tokens_are_cached() {
    let secret = "another-secret-for-the-cache-test-0123456789";
    let c = config(Some(secret), Some("anon"));
    let t = hs(jsonwebtoken::Algorithm::HS256, json!({"role": "cached_role_test"}), secret);
    assert!(auth(&c, Some(&t)).is_ok());
    assert!(auth(&c, Some(&t)).is_ok());
    // the expiry is still checked on a cache hit
    let t = hs(jsonwebtoken::Algorithm::HS256, json!({"role": "r", "exp": NOW}), secret);
    assert!(authenticate_at(&c, Some(&t), NOW).is_ok());
    assert!(authenticate_at(&c, Some(&t), NOW + 31).is_err());
}

#[test]
fn a_role_claim_with_nul_is_a_400_not_a_500() {
    // found by pgrx-tests/tests/injection.rs: `{"role": "a\u0000b"}` reached the extension,
    // whose C string conversion failed with an internal error (500)
    let c = config(Some(SECRET), Some("anon"));
    let e = auth(&c, Some(&hs256(json!({"role": "a\u{0}b"})))).expect_err("a NUL role is refused");
    assert_eq!((e.code(), e.status()), ("22021".to_string(), 400));
    // NUL elsewhere in the claims is data: it reaches request.jwt.claims JSON-escaped
    let a = auth(&c, Some(&hs256(json!({"role": "author", "sub": "a\u{0}b"})))).expect("valid");
    assert!(a.claims.contains(r"a\u0000b"), "{}", a.claims);
}
