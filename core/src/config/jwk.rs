//! `jwt-secret` → the keys tokens are verified with (PostgREST's `parseSecret` and the JWK
//! rules of the jose-jwt library it uses).
//!
//! The secret is a JWK Set (`{"keys": [...]}`), a single JWK, or else a text secret of at least
//! 32 characters, which becomes an HMAC key restricted to HS256 exactly as in PostgREST (a
//! `kty: oct` JWK without `alg` accepts HS384/HS512 too). A JWK with an algorithm or key type
//! that is not understood is kept but never matches, as jose-jwt's `UnsupportedJwk`.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use jsonwebtoken::DecodingKey;
use serde_json::{Map, Value};
use std::sync::Arc;

/// JWS algorithms a token header may name (jose-jwt's `JwsAlg` without `none`).
pub const JWS_ALGS: [&str; 10] = ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "EdDSA"];
const JWE_ALGS: [&str; 6] = ["RSA1_5", "RSA-OAEP", "RSA-OAEP-256", "A128KW", "A192KW", "A256KW"];

/// base64url without padding, lenient about trailing bits (as `convertFromBase Base64URLUnpadded`).
pub const B64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone),
);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyType {
    Hmac,
    Rsa,
    Ec,
    Ed25519,
    /// understood but not verifiable here (Ed448)
    Ed448,
    Unsupported,
}

pub struct Jwk {
    pub key_type: KeyType,
    pub kid: Option<String>,
    /// `use: enc`: never used to verify a signature
    pub for_encryption: bool,
    /// `alg`, when the key is restricted to one algorithm
    pub alg: Option<String>,
    pub key: Option<DecodingKey>,
}

impl Jwk {
    /// jose-jwt's `canDecodeJws`: may this key verify a token with this header?
    pub fn can_verify(&self, alg: &str, kid: Option<&str>) -> bool {
        let type_fits = match alg {
            "EdDSA" => matches!(self.key_type, KeyType::Ed25519 | KeyType::Ed448),
            "RS256" | "RS384" | "RS512" => self.key_type == KeyType::Rsa,
            "HS256" | "HS384" | "HS512" => self.key_type == KeyType::Hmac,
            "ES256" | "ES384" | "ES512" => self.key_type == KeyType::Ec,
            _ => false,
        };
        !self.for_encryption
            && kid.is_none_or(|k| self.kid.as_deref() == Some(k))
            && self.alg.as_deref().is_none_or(|a| a == alg)
            && type_fits
    }
}

/// The parsed keys of `jwt-secret`, shared by every copy of the configuration. Two are equal
/// when they come from the same secret; `Debug` never shows it.
#[derive(Clone)]
pub struct JwtKeys {
    source: Arc<(String, bool)>,
    keys: Arc<Vec<Jwk>>,
}

impl JwtKeys {
    pub fn parse(secret: &str, is_base64: bool) -> Result<JwtKeys, String> {
        Ok(JwtKeys { keys: Arc::new(key_set(secret, is_base64)?), source: Arc::new((secret.to_string(), is_base64)) })
    }

    pub fn keys(&self) -> &[Jwk] {
        &self.keys
    }
}

impl PartialEq for JwtKeys {
    fn eq(&self, other: &JwtKeys) -> bool {
        self.source == other.source
    }
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JwtKeys({} keys)", self.keys.len())
    }
}

/// The keys of `jwt-secret` (decoded from base64 first when `jwt-secret-is-base64`).
pub fn key_set(secret: &str, is_base64: bool) -> Result<Vec<Jwk>, String> {
    let bytes = if is_base64 {
        // PostgREST accepts the URL-safe alphabet and '.' for padding, and strips whitespace
        let s: String = secret
            .trim()
            .chars()
            .map(|c| match c {
                '_' => '/',
                '-' => '+',
                '.' => '=',
                c => c,
            })
            .collect();
        STANDARD.decode(s).map_err(|e| format!("invalid base64 secret: {e}"))?
    } else {
        secret.as_bytes().to_vec()
    };
    if let Ok(Value::Object(o)) = serde_json::from_slice::<Value>(&bytes) {
        if let Some(Value::Array(keys)) = o.get("keys") {
            if let Some(set) = keys.iter().map(jwk).collect::<Option<Vec<_>>>() {
                return Ok(set);
            }
        }
        if let Some(k) = jwk(&Value::Object(o)) {
            return Ok(vec![k]);
        }
    }
    if bytes.len() < 32 {
        return Err("The JWT secret must be at least 32 characters long.".into());
    }
    Ok(vec![Jwk {
        key_type: KeyType::Hmac,
        kid: None,
        for_encryption: false,
        alg: Some("HS256".into()),
        key: Some(DecodingKey::from_secret(&bytes)),
    }])
}

/// One JWK (jose-jwt's `parseJwk`); None when it is malformed.
fn jwk(v: &Value) -> Option<Jwk> {
    let o = v.as_object()?;
    let alg = match o.get("alg") {
        None | Some(Value::Null) => None,
        Some(Value::String(a)) if JWS_ALGS.contains(&a.as_str()) || JWE_ALGS.contains(&a.as_str()) || a == "none" => Some(a.clone()),
        Some(_) => return Some(unsupported()),
    };
    let key_type = match o.get("kty") {
        None | Some(Value::Null) => return None,
        Some(Value::String(t)) => match t.as_str() {
            "oct" => KeyType::Hmac,
            "RSA" => KeyType::Rsa,
            "EC" => KeyType::Ec,
            "OKP" => match str_field(o, "crv")? {
                "Ed25519" => KeyType::Ed25519,
                "Ed448" => KeyType::Ed448,
                _ => return None,
            },
            _ => return Some(unsupported()),
        },
        Some(_) => return Some(unsupported()),
    };
    let b64 = |name: &str| -> Option<&str> { str_field(o, name).filter(|s| B64URL.decode(s).is_ok()) };
    let key = match key_type {
        KeyType::Hmac => Some(DecodingKey::from_secret(&B64URL.decode(b64("k")?).ok()?)),
        KeyType::Rsa => Some(DecodingKey::from_rsa_components(b64("n")?, b64("e")?).ok()?),
        KeyType::Ec => {
            if !matches!(str_field(o, "crv")?, "P-256" | "P-384" | "P-521") {
                return None;
            }
            Some(DecodingKey::from_ec_components(b64("x")?, b64("y")?).ok()?)
        }
        KeyType::Ed25519 => Some(DecodingKey::from_ed_components(b64("x")?).ok()?),
        KeyType::Ed448 => {
            b64("x")?;
            None
        }
        KeyType::Unsupported => None,
    };
    let kid = match o.get("kid") {
        None | Some(Value::Null) => None,
        Some(Value::String(k)) => Some(k.clone()),
        Some(_) => return None,
    };
    let for_encryption = match o.get("use") {
        None | Some(Value::Null) => false,
        Some(Value::String(u)) if u == "sig" => false,
        Some(Value::String(u)) if u == "enc" => true,
        Some(_) => return None,
    };
    Some(Jwk { key_type, kid, for_encryption, alg, key })
}

fn str_field<'a>(o: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    o.get(name).and_then(Value::as_str)
}

fn unsupported() -> Jwk {
    Jwk { key_type: KeyType::Unsupported, kid: None, for_encryption: false, alg: None, key: None }
}
