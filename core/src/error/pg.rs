//! Errors raised by the database: how a SQLSTATE becomes an HTTP status (PostgREST's
//! `mapSQLtoHTTP`), and `RAISE SQLSTATE 'PGRST'`, with which a function chooses the whole
//! response. The raise is read once, by [`Error::from_pg`](super::Error::from_pg).

use serde_json::Value;

/// A database error as PostgreSQL reported it (SQLSTATE and the error fields).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgError {
    pub sqlstate: String,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
}

/// `RAISE SQLSTATE 'PGRST' USING MESSAGE = '{"code":..,"message":..,"details":..,"hint":..}',
/// DETAIL = '{"status":..,"headers":{..}}'`: the function chooses the whole error response.
#[derive(Debug, Clone, PartialEq)]
pub struct RaisedError {
    pub code: String,
    pub message: String,
    pub details: Option<String>,
    pub hint: Option<String>,
    pub status: u16,
    pub headers: Vec<(String, String)>,
}

/// Why a PGRST raise could not be read (PGRST121), with the text that could not.
#[derive(Debug, Clone, PartialEq)]
pub enum RaiseError {
    Message(String),
    NoDetail,
    Detail(String),
}

/// PostgREST's `parseRaisePGRST` (Err also for other SQLSTATEs: the caller checks first).
pub fn raise_pgrst(e: &PgError) -> Result<RaisedError, RaiseError> {
    if e.sqlstate != "PGRST" {
        return Err(RaiseError::NoDetail);
    }
    let text = |v: Option<&Value>| -> Result<Option<String>, ()> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(()),
        }
    };
    // MESSAGE is checked before DETAIL, so a raise with both wrong reports MESSAGE
    let msg_err = || RaiseError::Message(e.message.clone());
    let msg: Value = serde_json::from_str(&e.message).map_err(|_| msg_err())?;
    let msg = msg.as_object().ok_or_else(msg_err)?;
    let code = text(msg.get("code")).ok().flatten().ok_or_else(msg_err)?;
    let message = text(msg.get("message")).ok().flatten().ok_or_else(msg_err)?;
    let details = text(msg.get("details")).map_err(|_| msg_err())?;
    let hint = text(msg.get("hint")).map_err(|_| msg_err())?;
    let det = e.detail.as_ref().ok_or(RaiseError::NoDetail)?;
    let det_err = || RaiseError::Detail(det.clone());
    let d: Value = serde_json::from_str(det).map_err(|_| det_err())?;
    let status = d.get("status").and_then(Value::as_u64).and_then(|s| u16::try_from(s).ok()).ok_or_else(det_err)?;
    let headers = d.get("headers").and_then(Value::as_object).ok_or_else(det_err)?;
    let headers =
        headers.iter().map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string()))).collect::<Option<Vec<_>>>().ok_or_else(det_err)?;
    Ok(RaisedError { code, message, details, hint, status, headers })
}

/// SQLSTATE → HTTP status (PostgREST's `mapSQLtoHTTP`).
pub fn sqlstate_status(code: &str, message: &str, authenticated: bool) -> u16 {
    let prefix = code.get(..2).unwrap_or("");
    match code {
        "23503" | "23505" => return 409,
        "25006" => return 405,
        "21000" => return if message.ends_with("requires a WHERE clause") { 400 } else { 500 },
        "22023" => return if message.starts_with("role") && message.ends_with("does not exist") { 401 } else { 400 },
        "53400" => return 500,
        "57P01" => return 503,
        "P0001" => return 400,
        "42883" => return if message.starts_with("function xmlagg(") { 406 } else { 404 },
        "42P01" => return 404,
        "42P17" => return 500,
        "42501" => return if authenticated { 403 } else { 401 },
        _ => {}
    }
    match prefix {
        "08" => 503,
        "09" => 500,
        "0L" | "0P" => 403,
        "25" => 500,
        "28" => 403,
        "2D" | "38" | "39" | "3B" | "40" => 500,
        "53" => 503,
        "54" | "55" | "57" | "58" | "F0" | "HV" | "XX" => 500,
        "P0" => 500,
        "PT" => code[2..].parse::<u16>().ok().filter(|s| (100..600).contains(s)).unwrap_or(500),
        _ => 400,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::Error;
    use super::*;

    fn raise(message: &str, detail: Option<&str>) -> PgError {
        PgError { sqlstate: "PGRST".into(), message: message.into(), detail: detail.map(String::from), hint: None }
    }

    const PAYMENT: &str = r#"{"code":"123","message":"Payment Required","details":"Quota exceeded","hint":"Upgrade"}"#;

    #[test]
    fn sqlstate_maps_like_postgrest() {
        assert_eq!(sqlstate_status("23505", "dup", false), 409);
        assert_eq!(sqlstate_status("42501", "denied", false), 401);
        assert_eq!(sqlstate_status("42501", "denied", true), 403);
        assert_eq!(sqlstate_status("57014", "canceling statement due to statement timeout", false), 500);
        assert_eq!(sqlstate_status("PT402", "x", false), 402);
        assert_eq!(sqlstate_status("22P02", "invalid input", false), 400);
    }

    #[test]
    fn raise_pgrst_sets_the_response() {
        let pg = |message: &str, detail: Option<&str>| Error::from_pg(raise(message, detail), false);
        let e = pg(PAYMENT, Some(r#"{"status":402,"headers":{"X-Powered-By":"Nerd Rage"}}"#));
        assert_eq!((e.status(), e.code()), (402, "123".to_string()));
        assert_eq!(e.body(true), json!({"code":"123","message":"Payment Required","details":"Quota exceeded","hint":"Upgrade"}));
        assert_eq!(e.headers(), vec![("X-Powered-By".to_string(), "Nerd Rage".to_string())]);
        let e = pg(r#"{"code":"123","message":"x"}"#, None);
        assert_eq!((e.status(), e.code()), (500, "PGRST121".to_string()));
        assert_eq!(e.details(), json!("DETAIL is missing in the RAISE statement"));
    }

    #[test]
    fn from_pg_parses_the_raise_once() {
        let e = Error::from_pg(raise(PAYMENT, Some(r#"{"status":402,"headers":{"X-Powered-By":"Nerd Rage","Retry-After":"60"}}"#)), false);
        let Error::Raised(raised) = &e else { panic!("{e:?}") };
        assert_eq!(raised.status, 402);
        assert_eq!((e.code(), e.status()), ("123".to_string(), 402));
        assert_eq!(e.body(true), json!({"code":"123","message":"Payment Required","details":"Quota exceeded","hint":"Upgrade"}));
        assert_eq!(e.body(false), json!({"code":"123","message":"Payment Required"}));
        let headers = e.headers();
        assert!(headers.contains(&("X-Powered-By".to_string(), "Nerd Rage".to_string())), "{headers:?}");
        assert!(headers.contains(&("Retry-After".to_string(), "60".to_string())), "{headers:?}");
        assert_eq!(headers.len(), 2);
    }

    #[test]
    fn raised_details_and_hint_are_optional() {
        let e = Error::from_pg(raise(r#"{"code":"PT","message":"m","hint":null}"#, Some(r#"{"status":200,"headers":{}}"#)), true);
        assert_eq!(e.body(true), json!({"code":"PT","message":"m","details":null,"hint":null}));
        assert_eq!(e.status(), 200);
    }

    #[test]
    fn raised_401_keeps_the_functions_headers() {
        // no `WWW-Authenticate: Bearer` added: the function chose the headers
        let e = Error::from_pg(raise(PAYMENT, Some(r#"{"status":401,"headers":{}}"#)), false);
        assert_eq!((e.status(), e.headers()), (401, vec![]));
    }

    #[test]
    fn raise_with_invalid_message_is_pgrst121() {
        for message in
            ["not json", "[1]", r#"{"message":"no code"}"#, r#"{"code":1,"message":"m"}"#, r#"{"code":"1","message":"m","details":3}"#]
        {
            let e = Error::from_pg(raise(message, Some(r#"{"status":402,"headers":{}}"#)), false);
            assert_eq!(e, Error::PgrstParse(RaiseError::Message(message.into())));
            assert_eq!((e.code(), e.status(), e.headers()), ("PGRST121".to_string(), 500, vec![]));
            assert_eq!(
                e.body(true),
                json!({
                    "code": "PGRST121",
                    "message": "Could not parse JSON in the \"RAISE SQLSTATE 'PGRST'\" error",
                    "details": format!("Invalid JSON value for MESSAGE: '{message}'"),
                    "hint": "MESSAGE must be a JSON object with obligatory keys: 'code', 'message' and optional keys: 'details', 'hint'."
                })
            );
        }
    }

    #[test]
    fn raise_with_invalid_detail_is_pgrst121() {
        let hint = json!("DETAIL must be a JSON object with obligatory keys: 'status', 'headers' and optional key: 'status_text'.");
        for detail in ["nope", r#"{"status":"402","headers":{}}"#, r#"{"status":402}"#, r#"{"status":402,"headers":{"a":1}}"#] {
            let e = Error::from_pg(raise(PAYMENT, Some(detail)), false);
            assert_eq!(e, Error::PgrstParse(RaiseError::Detail(detail.into())));
            assert_eq!((e.code(), e.status()), ("PGRST121".to_string(), 500));
            assert_eq!((e.details(), e.hint()), (json!(format!("Invalid JSON value for DETAIL: '{detail}'")), hint.clone()));
        }
        let e = Error::from_pg(raise(PAYMENT, None), false);
        assert_eq!(e, Error::PgrstParse(RaiseError::NoDetail));
        assert_eq!((e.details(), e.hint()), (json!("DETAIL is missing in the RAISE statement"), hint));
    }

    #[test]
    fn from_pg_keeps_other_sqlstates() {
        let denied = PgError { sqlstate: "42501".into(), message: "permission denied".into(), detail: None, hint: Some("h".into()) };
        let e = Error::from_pg(denied.clone(), false);
        assert_eq!(e, Error::Pg { error: denied.clone(), authenticated: false });
        assert_eq!((e.code(), e.status(), e.hint()), ("42501".to_string(), 401, json!("h")));
        assert_eq!(e.headers(), vec![("WWW-Authenticate".to_string(), "Bearer".to_string())]);
        assert_eq!(Error::from_pg(denied, true).status(), 403);
    }
}
