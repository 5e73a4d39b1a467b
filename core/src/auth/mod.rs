//! Authentication: the `Authorization: Bearer` token → the role and claims of the request
//! (PostgREST's `Auth.hs`, `Auth/Jwt.hs`, `Auth/JwtCache.hs`).
//!
//! A request without a token runs as `db-anon-role` (PGRST302 when there is none). A token is
//! decoded and its signature verified against the keys of `jwt-secret` (`jwk`, `jwt`); that
//! result is cached per worker (`cache`), so a repeated token costs one hash lookup. Its claims
//! are then checked (`exp`/`nbf`/`iat` with 30 s of skew, `aud`) on every request, and the role
//! is read from the claim at `jwt-role-claim-key` (`jspath`).

pub mod cache;
pub mod jspath;
pub mod jwk;
pub mod jwt;
pub mod old_jspath;

use crate::config::Config;
use crate::error::{Error, JwtDecodeError};
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
    let (_, value) = headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("authorization"))?;
    let (scheme, rest) = value.split_at(value.find(char::is_whitespace).unwrap_or(value.len()));
    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim_start())
}

/// Authenticate one request: PostgREST runs this before anything else.
pub fn authenticate(config: &Config, headers: &[(String, String)]) -> Result<Auth, Error> {
    authenticate_at(config, bearer_token(headers), now())
}

/// `authenticate` with the token and the clock given (seconds since the epoch).
pub fn authenticate_at(config: &Config, token: Option<&str>, now: i64) -> Result<Auth, Error> {
    let claims = match token {
        None => Map::new(),
        Some(token) => verified_claims(config, token)?,
    };
    jwt::validate_claims(&claims, now, config.jwt_aud.as_deref())?;
    let mut claims = Value::Object(claims);
    let role = match role_claim(&config.jwt_role_claim_key, &claims)? {
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

/// The value at `jwt-role-claim-key`; the parsed key is kept until the setting changes.
fn role_claim(key: &str, claims: &Value) -> Result<Option<Value>, Error> {
    static PARSED: Mutex<Option<(String, jspath::RoleClaimKey)>> = Mutex::new(None);
    let mut parsed = PARSED.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if parsed.as_ref().is_none_or(|(k, _)| k != key) {
        *parsed = Some((key.to_string(), jspath::RoleClaimKey::parse(key).map_err(Error::Internal)?));
    }
    Ok(parsed.as_ref().and_then(|(_, path)| path.evaluate(claims)))
}

/// The decoded and verified claims of a token, from the cache when it was seen before.
/// Failures are not cached: an attacker cannot fill the cache with garbage.
fn verified_claims(config: &Config, token: &str) -> Result<Map<String, Value>, Error> {
    let secret = config.jwt_secret.as_deref().ok_or(Error::JwtSecretMissing)?;
    if token.is_empty() {
        return Err(Error::JwtDecode(JwtDecodeError::EmptyAuthHeader));
    }
    // one worker is one thread: the lock is never contended, it only makes the static safe
    let mut state = STATE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let state = state.get_or_insert_with(|| State::new(secret, config));
    if state.secret != secret || state.secret_is_base64 != config.jwt_secret_is_base64 {
        *state = State::new(secret, config);
    }
    state.cache.set_capacity(config.jwt_cache_max_entries);
    if let Some(claims) = state.cache.get(token) {
        return Ok(claims.clone());
    }
    let keys = state.keys.as_ref().map_err(|e| Error::Internal(e.clone()))?;
    let claims = jwt::decode(keys, token)?;
    state.cache.insert(token.to_string(), claims.clone());
    Ok(claims)
}

/// Per worker: the parsed key set of the current secret and the tokens verified with it.
struct State {
    secret: String,
    secret_is_base64: bool,
    keys: Result<Vec<jwk::Jwk>, String>,
    cache: cache::Cache<String, Map<String, Value>>,
}

impl State {
    fn new(secret: &str, config: &Config) -> State {
        State {
            secret: secret.to_string(),
            secret_is_base64: config.jwt_secret_is_base64,
            keys: jwk::key_set(secret, config.jwt_secret_is_base64),
            cache: cache::Cache::new(config.jwt_cache_max_entries),
        }
    }
}

static STATE: Mutex<Option<State>> = Mutex::new(None);

/// Number of tokens in this worker's cache (for tests and stats).
pub fn cached_tokens() -> usize {
    STATE.lock().map(|s| s.as_ref().map_or(0, |s| s.cache.len())).unwrap_or(0)
}

/// Config-time checks, as PostgREST makes when it loads its configuration.
pub fn check_config(secret: Option<&str>, secret_is_base64: bool, role_claim_key: &str) -> Result<(), String> {
    jspath::RoleClaimKey::parse(role_claim_key)?;
    if let Some(secret) = secret {
        jwk::key_set(secret, secret_is_base64).map_err(|e| format!("postgrest.jwt_secret: {e}"))?;
    }
    Ok(())
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests;
