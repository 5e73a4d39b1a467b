//! Fuzzes authentication (`auth::authenticate`) with an HMAC secret configured:
//! - the `Authorization` header value as given (scheme parsing, the three parts, base64,
//!   header JSON, algorithms, signature check);
//! - a token whose header and claims are fuzz text but which is correctly signed with the
//!   secret, so that claim parsing, `exp`/`nbf`/`iat`/`aud` checks and the role claim key
//!   (several JSONPath forms) are reached;
//! - the role claim key parser itself on fuzz text.
//! The first byte selects the mode; the rest is the text.

#![no_main]

use base64::Engine;
use libfuzzer_sys::fuzz_target;
use postgrest_core::auth;
use postgrest_core::config::jspath::RoleClaimKey;
use postgrest_core::config::Config;
use std::collections::HashMap;
use std::sync::OnceLock;

const SECRET: &str = "reallyreallyreallyreallyverysafe";
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

fn configs() -> &'static [Config] {
    static CONFIGS: OnceLock<Vec<Config>> = OnceLock::new();
    CONFIGS.get_or_init(|| {
        let keys = [".role", ".\"https://example.com/roles\"[0]", "$.realm_access.roles[?(@ == \"admin\")]", "$..role"];
        keys.iter()
            .enumerate()
            .map(|(i, key)| {
                let mut s = HashMap::new();
                s.insert("jwt_secret".to_string(), SECRET.to_string());
                s.insert("jwt_role_claim_key".to_string(), key.to_string());
                s.insert("jwt_cache_max_entries".to_string(), if i % 2 == 0 { "1000" } else { "0" }.to_string());
                if i == 1 {
                    s.insert("jwt_aud".to_string(), "youraudience".to_string());
                    s.insert("db_anon_role".to_string(), "anon".to_string());
                }
                Config::from_settings(&s).unwrap_or_else(|e| panic!("config with role claim key {key}: {e}"))
            })
            .collect()
    })
}

fn sign(header: &str, claims: &str) -> String {
    let message = format!("{}.{}", B64.encode(header), B64.encode(claims));
    let key = jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes());
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &key, jsonwebtoken::Algorithm::HS256).expect("HS256 signs");
    format!("{message}.{signature}")
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let config = &configs()[(selector as usize >> 2) % configs().len()];
    let authorization = match selector & 0x3 {
        // the header value as sent
        0 => text.to_string(),
        // a signed token with fuzz claims (a valid HS256 header)
        1 => format!("Bearer {}", sign(r#"{"alg":"HS256","typ":"JWT"}"#, text)),
        // a signed token with a fuzz header and claims separated by the first newline
        2 => {
            let (header, claims) = text.split_once('\n').unwrap_or((text, "{}"));
            format!("Bearer {}", sign(header, claims))
        }
        // the role claim key parser, evaluated on the text as claims when it is JSON
        _ => {
            let (key, claims) = text.split_once('\n').unwrap_or((text, "{}"));
            if let Ok(path) = RoleClaimKey::parse(key) {
                if let Ok(claims) = serde_json::from_str::<serde_json::Value>(claims) {
                    let _ = path.evaluate(&claims);
                }
            }
            return;
        }
    };
    static CACHE: std::sync::OnceLock<auth::JwtCache> = std::sync::OnceLock::new();
    let headers = [("Authorization", authorization)].into_iter().collect();
    let _ = auth::authenticate(config, CACHE.get_or_init(auth::JwtCache::new), &headers);
});
