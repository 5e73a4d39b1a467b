//! Decoding a compact JWS and checking its claims, with PostgREST's errors
//! (`Auth/Jwt.hs`, and jose-jwt's `decode` whose failure texts PostgREST passes on).
//!
//! The order of the checks is PostgREST's, because it decides which error a bad token gets:
//! three parts; the header (base64url, JSON, a known `alg`); `alg: none` refused; the payload
//! and signature decode; a key that fits the header; a signature that verifies; the payload is
//! a JSON object. The algorithm always comes from the header, but a key is only tried for the
//! algorithms of its type (and its own `alg`), so neither `none` nor HMAC-with-a-public-key
//! can pass. Signatures are checked by `jsonwebtoken` (ring).

use crate::config::jwk::{Jwk, B64URL, JWS_ALGS};
use crate::error::{Error, JwtClaimsError, JwtDecodeError};
use base64::Engine;
use jsonwebtoken::Algorithm;
use serde_json::{Map, Value};

/// PostgREST's allowed clock skew for `exp`, `nbf` and `iat`.
pub const ALLOWED_SKEW_SECONDS: i64 = 30;

fn decode_error(e: JwtDecodeError) -> Error {
    Error::JwtDecode(e)
}

/// Verify `token` against `keys`; its claims on success.
pub fn decode(keys: &[Jwk], token: &str) -> Result<Map<String, Value>, Error> {
    let parts: Vec<&str> = token.split('.').collect();
    let [header_b64, payload_b64, signature_b64] = parts[..] else {
        return Err(decode_error(JwtDecodeError::UnexpectedParts(parts.len())));
    };
    let crypto = || decode_error(JwtDecodeError::BadCrypto);
    let header: Value = B64URL.decode(header_b64).ok().and_then(|h| serde_json::from_slice(&h).ok()).ok_or_else(crypto)?;
    let header = header.as_object().ok_or_else(crypto)?;
    let payload = B64URL.decode(payload_b64).map_err(|_| crypto())?;
    if header.get("alg").and_then(Value::as_str) == Some("none") {
        return Err(decode_error(JwtDecodeError::BadAlgorithm("JWT is unsecured but expected 'alg' was not 'none'".into())));
    }
    // a JWE header: an encrypted token has five parts, so three parts cannot be one
    if header.contains_key("enc") {
        return Err(crypto());
    }
    let alg = header.get("alg").and_then(Value::as_str).filter(|a| JWS_ALGS.contains(a)).ok_or_else(crypto)?;
    let optional_text = |name: &str| -> Result<Option<&str>, Error> {
        match header.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(crypto()),
        }
    };
    let kid = optional_text("kid")?;
    optional_text("typ")?;
    optional_text("cty")?;
    B64URL.decode(signature_b64).map_err(|_| crypto())?;

    let candidates: Vec<&Jwk> = keys.iter().filter(|k| k.can_verify(alg, kid)).collect();
    if candidates.is_empty() {
        return Err(decode_error(JwtDecodeError::KeyError("No suitable key was found to decode the JWT".into())));
    }
    let message = &token[..header_b64.len() + 1 + payload_b64.len()];
    let verified = algorithm(alg).is_some_and(|algorithm| {
        candidates.iter().any(|k| {
            k.key
                .as_ref()
                .is_some_and(|key| jsonwebtoken::crypto::verify(signature_b64, message.as_bytes(), key, algorithm).unwrap_or(false))
        })
    });
    if !verified {
        return Err(decode_error(JwtDecodeError::KeyError("None of the keys was able to decode the JWT".into())));
    }
    match serde_json::from_slice::<Value>(&payload) {
        Ok(Value::Object(claims)) => Ok(claims),
        _ => Err(Error::JwtClaims(JwtClaimsError::ParsingClaimsFailed)),
    }
}

/// The algorithms `jsonwebtoken` verifies; ES512 (and Ed448 keys) are not among them.
fn algorithm(alg: &str) -> Option<Algorithm> {
    Some(match alg {
        "HS256" => Algorithm::HS256,
        "HS384" => Algorithm::HS384,
        "HS512" => Algorithm::HS512,
        "RS256" => Algorithm::RS256,
        "RS384" => Algorithm::RS384,
        "RS512" => Algorithm::RS512,
        "ES256" => Algorithm::ES256,
        "ES384" => Algorithm::ES384,
        "EdDSA" => Algorithm::EdDSA,
        _ => return None,
    })
}

/// PostgREST's `checkForErrors`: the first failing check of `exp`, `nbf`, `iat`, `aud`.
/// `now` is seconds since the epoch; `aud` is `jwt-aud` (None: any audience).
pub fn validate_claims(claims: &Map<String, Value>, now: i64, aud: Option<&str>) -> Result<(), Error> {
    let time = |name: &str, not_number: JwtClaimsError, bad: JwtClaimsError, invalid: &dyn Fn(i64) -> bool| match claims.get(name) {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Number(n)) if invalid(seconds(n)) => Err(Error::JwtClaims(bad)),
        Some(Value::Number(_)) => Ok(()),
        Some(_) => Err(Error::JwtClaims(not_number)),
    };
    time("exp", JwtClaimsError::ExpNotNumber, JwtClaimsError::Expired, &|exp| now - ALLOWED_SKEW_SECONDS > exp)?;
    time("nbf", JwtClaimsError::NbfNotNumber, JwtClaimsError::NotYetValid, &|nbf| now + ALLOWED_SKEW_SECONDS < nbf)?;
    time("iat", JwtClaimsError::IatNotNumber, JwtClaimsError::IssuedAtFuture, &|iat| now + ALLOWED_SKEW_SECONDS < iat)?;
    let matches = |a: &str| aud.is_none_or(|want| want == a);
    let valid = match claims.get("aud") {
        None | Some(Value::Null) => true,
        Some(Value::String(a)) => matches(a),
        Some(Value::Array(items)) => {
            let names: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
            let names = names.ok_or(Error::JwtClaims(JwtClaimsError::AudNotStringOrArray))?;
            names.is_empty() || names.into_iter().any(matches)
        }
        Some(_) => return Err(Error::JwtClaims(JwtClaimsError::AudNotStringOrArray)),
    };
    if valid {
        Ok(())
    } else {
        Err(Error::JwtClaims(JwtClaimsError::NotInAudience))
    }
}

/// A JSON number as whole seconds the way PostgREST reads it (`toBoundedInteger`): an
/// integral value that fits 64 bits, otherwise 0.
fn seconds(n: &serde_json::Number) -> i64 {
    if let Some(i) = n.as_i64() {
        return i;
    }
    match n.as_f64() {
        Some(f) if f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64 => f as i64,
        _ => 0,
    }
}
