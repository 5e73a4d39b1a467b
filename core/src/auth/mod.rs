//! Authentication: the `Authorization: Bearer` token → the role and claims of the request
//! (PostgREST's `Auth.hs`, `Auth/Jwt.hs`, `Auth/JwtCache.hs`).
//!
//! A request without a token runs as `db-anon-role` (PGRST302 when there is none). A token is
//! decoded and its signature verified against the keys of `jwt-secret` (`config::jwk`, `jwt`); that
//! result is kept in the caller's [`JwtCache`], so a repeated token costs one hash lookup. Its claims
//! are then checked (`exp`/`nbf`/`iat` with 30 s of skew, `aud`) on every request, and the role
//! is read from the claim at `jwt-role-claim-key` (`config::jspath`).

pub mod cache;
pub mod jwt;

use crate::config::jwk::JwtKeys;
use crate::config::Config;
use crate::error::{Error, JwtDecodeError};
use crate::http::Headers;
use serde_json::{Map, Value};
use std::sync::Mutex;

/// Who the request runs as.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Auth {
    pub role: String,
    /// the value of `request.jwt.claims`: the token's claims with `role` set to the role
    pub claims: String,
    /// PostgREST's notion: the role differs from the anonymous role. It decides whether a
    /// permission error (42501) is a 401 or a 403.
    pub authenticated: bool,
}

/// The token of an `Authorization` header (wai-extra's `extractBearerAuth`): the scheme is
/// `bearer` in any case, the token what follows the whitespace after it. Other schemes carry
/// no token.
pub fn bearer_token(headers: &[(String, String)]) -> Option<&str> {
    let value = crate::http::field(headers, "authorization")?;
    let (scheme, rest) = value.split_at(value.find(char::is_whitespace).unwrap_or(value.len()));
    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim_start())
}

/// Authenticate one request: PostgREST runs this before anything else.
pub fn authenticate(config: &Config, cache: &JwtCache, headers: &Headers) -> Result<Auth, Error> {
    authenticate_with(config, Some(cache), bearer_token(headers), now())
}

/// `authenticate` with the token and the clock given (seconds since the epoch), no cache.
pub fn authenticate_at(config: &Config, token: Option<&str>, now: i64) -> Result<Auth, Error> {
    authenticate_with(config, None, token, now)
}

fn authenticate_with(config: &Config, cache: Option<&JwtCache>, token: Option<&str>, now: i64) -> Result<Auth, Error> {
    let claims = match token {
        None => Map::new(),
        Some(token) => verified_claims(config, cache, token)?,
    };
    jwt::validate_claims(&claims, now, config.jwt_aud.as_deref())?;
    let mut claims = Value::Object(claims);
    let role = match config.jwt_role_claim_key.evaluate(&claims) {
        // PostgREST's `unquoted`: a string is the role, anything else its JSON text
        Some(Value::String(s)) => s,
        Some(other) => other.to_string(),
        None => config.db_anon_role.clone().ok_or(Error::JwtTokenRequired)?,
    };
    // a role claim with NUL (`"role": "a\u0000b"`) cannot name a role: answer as PostgreSQL
    // does for such a text parameter (400), not with the 500 of a failed C string conversion
    if role.contains('\0') {
        return Err(Error::Pg {
            error: crate::error::PgError {
                sqlstate: "22021".into(),
                message: "invalid byte sequence for encoding \"UTF8\": 0x00".into(),
                detail: None,
                hint: None,
            },
            authenticated: true,
        });
    }
    let authenticated = Some(&role) != config.db_anon_role.as_ref();
    if let Value::Object(map) = &mut claims {
        map.insert("role".into(), Value::String(role.clone()));
    }
    Ok(Auth { role, claims: claims.to_string(), authenticated })
}

/// The decoded and verified claims of a token, from the cache when it was seen before.
/// Failures are not cached: an attacker cannot fill the cache with garbage.
fn verified_claims(config: &Config, cache: Option<&JwtCache>, token: &str) -> Result<Map<String, Value>, Error> {
    let keys = config.jwt_keys.as_ref().ok_or(Error::JwtSecretMissing)?;
    if token.is_empty() {
        return Err(Error::JwtDecode(JwtDecodeError::EmptyAuthHeader));
    }
    let Some(cache) = cache else { return jwt::decode(keys.keys(), token) };
    let mut state = cache.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    // tokens verified with another secret (before a reload) are forgotten
    if state.keys.as_ref() != Some(keys) {
        *state = State { keys: Some(keys.clone()), tokens: cache::Cache::new(config.jwt_cache_max_entries) };
    }
    state.tokens.set_capacity(config.jwt_cache_max_entries);
    if let Some(claims) = state.tokens.get(token) {
        return Ok(claims.clone());
    }
    let claims = jwt::decode(keys.keys(), token)?;
    state.tokens.insert(token.to_string(), claims.clone());
    Ok(claims)
}

/// The tokens verified so far, kept by whoever serves requests (`jwt-cache-max-entries`),
/// with the keys they were verified with. Shared by reference: the lock is held for one
/// lookup or insert.
#[derive(Default)]
pub struct JwtCache {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    keys: Option<JwtKeys>,
    tokens: cache::Cache<String, Map<String, Value>>,
}

impl JwtCache {
    pub fn new() -> JwtCache {
        JwtCache::default()
    }

    /// Number of tokens kept (for tests and stats).
    pub fn len(&self) -> usize {
        self.state.lock().map_or(0, |s| s.tokens.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests;
