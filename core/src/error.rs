//! The one error table: every error the API can answer with, and for each its PGRST code,
//! HTTP status, message, details and hint (PostgREST's `Error.hs`).
//!
//! Codes are PostgREST's. Retired codes stay listed as comments so numbers are never reused.

use serde_json::{json, Value};

/// A database error as PostgreSQL reported it (SQLSTATE and the error fields).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgError {
    pub sqlstate: String,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RangeError {
    NegativeLimit,
    LowerGtUpper,
    /// requested offset, total rows
    OutOfBounds(i64, i64),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    // ---- PGRST0xx: connection
    /// PGRST002
    NoSchemaCache,

    // ---- PGRST1xx: API request
    /// PGRST100: message, details
    QueryParam {
        message: String,
        details: String,
    },
    /// PGRST101
    InvalidRpcMethod(String),
    /// PGRST102
    InvalidBody(String),
    /// PGRST103
    InvalidRange(RangeError),
    // PGRST104: ParseRequestError, no longer used
    /// PGRST105
    InvalidFilters,
    /// PGRST106: schema asked for, exposed schemas
    UnacceptableSchema(String, Vec<String>),
    /// PGRST107: the media types that could not be produced
    MediaType(Vec<String>),
    /// PGRST108: resource, (name, alias) when the filter used a name that has an alias
    NotEmbedded(String, Option<(String, String)>),
    // PGRST109: LimitNoOrderError / SpreadNotToOne, no longer used
    // PGRST110: OffLimitsChangesError, no longer used
    /// PGRST111
    GucHeaders,
    /// PGRST112
    GucStatus,
    // PGRST113: BinaryFieldError, no longer used
    /// PGRST114
    PutLimitNotAllowed,
    /// PGRST115
    PutMatchingPk,
    /// PGRST116: number of rows
    Singularity(i64),
    /// PGRST117
    UnsupportedMethod(String),
    /// PGRST118: origin, target
    RelatedOrderNotToOne(String, String),
    // PGRST119: unused
    /// PGRST120
    UnacceptableFilter(String),
    /// PGRST122: the invalid preferences
    InvalidPreferences(Vec<String>),
    /// PGRST123
    AggregatesNotAllowed,
    /// PGRST124
    MaxAffectedViolation(i64),
    /// PGRST125
    InvalidResourcePath,
    /// PGRST126
    OpenApiDisabled,
    /// PGRST127: details
    NotImplemented(String),
    /// PGRST128
    MaxAffectedRpcViolation,

    // ---- PGRST2xx: schema cache
    /// PGRST200: parent, child, hint, schema, suggestion (hint text)
    NoRelBetween {
        parent: String,
        child: String,
        hint: Option<String>,
        schema: String,
        suggestion: Option<String>,
    },
    /// PGRST201: parent, child, candidates (details objects), hint names
    AmbiguousRelBetween {
        parent: String,
        child: String,
        details: Vec<Value>,
        hints: Vec<String>,
    },
    /// PGRST202: no function matches the name and arguments
    NoRpc(Box<NoRpc>),
    /// PGRST203: the overloads that match, as `schema.name(arg => type, ...)`
    AmbiguousRpc(Vec<String>),
    /// PGRST204: relation, column
    ColumnNotFound(String, String),
    /// PGRST205: schema, table, suggestion
    TableNotFound {
        schema: String,
        table: String,
        suggestion: Option<String>,
    },

    // ---- PGRST3xx: JWT
    /// PGRST300
    JwtSecretMissing,
    /// PGRST301: the token could not be decoded or verified
    JwtDecode(JwtDecodeError),
    /// PGRST302
    JwtTokenRequired,
    /// PGRST303: the token's claims are not acceptable
    JwtClaims(JwtClaimsError),

    // ---- SQL errors: the SQLSTATE is the code
    Pg {
        error: PgError,
        authenticated: bool,
    },

    // ---- PGRSTX00: internal
    /// Something that should not happen (a caught panic): 500 without leaking internals.
    Internal(String),
}

impl Error {
    pub fn query_param(message: impl Into<String>, details: impl Into<String>) -> Error {
        Error::QueryParam { message: message.into(), details: details.into() }
    }

    pub fn code(&self) -> String {
        use Error::*;
        match self {
            NoSchemaCache => "PGRST002",
            QueryParam { .. } => "PGRST100",
            InvalidRpcMethod(_) => "PGRST101",
            InvalidBody(_) => "PGRST102",
            InvalidRange(_) => "PGRST103",
            InvalidFilters => "PGRST105",
            UnacceptableSchema(..) => "PGRST106",
            MediaType(_) => "PGRST107",
            NotEmbedded(..) => "PGRST108",
            GucHeaders => "PGRST111",
            GucStatus => "PGRST112",
            PutLimitNotAllowed => "PGRST114",
            PutMatchingPk => "PGRST115",
            Singularity(_) => "PGRST116",
            UnsupportedMethod(_) => "PGRST117",
            RelatedOrderNotToOne(..) => "PGRST118",
            UnacceptableFilter(_) => "PGRST120",
            InvalidPreferences(_) => "PGRST122",
            AggregatesNotAllowed => "PGRST123",
            MaxAffectedViolation(_) => "PGRST124",
            InvalidResourcePath => "PGRST125",
            OpenApiDisabled => "PGRST126",
            NotImplemented(_) => "PGRST127",
            MaxAffectedRpcViolation => "PGRST128",
            NoRelBetween { .. } => "PGRST200",
            AmbiguousRelBetween { .. } => "PGRST201",
            NoRpc(_) => "PGRST202",
            AmbiguousRpc(_) => "PGRST203",
            ColumnNotFound(..) => "PGRST204",
            TableNotFound { .. } => "PGRST205",
            JwtSecretMissing => "PGRST300",
            JwtDecode(_) => "PGRST301",
            JwtTokenRequired => "PGRST302",
            JwtClaims(_) => "PGRST303",
            Pg { error, .. } if error.sqlstate == "PGRST" => return raise_pgrst(error).map_or_else(|_| "PGRST121".into(), |r| r.code),
            Pg { error, .. } => return error.sqlstate.clone(),
            Internal(_) => "PGRSTX00",
        }
        .to_string()
    }

    pub fn status(&self) -> u16 {
        use Error::*;
        match self {
            NoSchemaCache => 503,
            QueryParam { .. } | InvalidBody(_) | NotEmbedded(..) | NotImplemented(_) => 400,
            PutLimitNotAllowed | RelatedOrderNotToOne(..) | UnacceptableFilter(_) => 400,
            PutMatchingPk | InvalidPreferences(_) | AggregatesNotAllowed | MaxAffectedViolation(_) => 400,
            MaxAffectedRpcViolation => 400,
            NoRpc(_) => 404,
            AmbiguousRpc(_) => 300,
            InvalidRpcMethod(_) | InvalidFilters | UnsupportedMethod(_) => 405,
            InvalidRange(_) => 416,
            UnacceptableSchema(..) | MediaType(_) | Singularity(_) => 406,
            GucHeaders | GucStatus => 500,
            InvalidResourcePath | OpenApiDisabled => 404,
            NoRelBetween { .. } | ColumnNotFound(..) => 400,
            AmbiguousRelBetween { .. } => 300,
            TableNotFound { .. } => 404,
            JwtSecretMissing => 500,
            JwtDecode(_) | JwtTokenRequired | JwtClaims(_) => 401,
            Pg { error, .. } if error.sqlstate == "PGRST" => raise_pgrst(error).map_or(500, |r| r.status),
            Pg { error, authenticated } => sqlstate_status(&error.sqlstate, &error.message, *authenticated),
            Internal(_) => 500,
        }
    }

    pub fn message(&self) -> String {
        use Error::*;
        match self {
            NoSchemaCache => "Could not query the database for the schema cache. Retrying.".into(),
            QueryParam { message, .. } => message.clone(),
            InvalidRpcMethod(m) => format!("Cannot use the {m} method on RPC"),
            InvalidBody(m) => m.clone(),
            InvalidRange(_) => "Requested range not satisfiable".into(),
            InvalidFilters => "Filters must include all and only primary key columns with 'eq' operators".into(),
            UnacceptableSchema(s, _) => format!("Invalid schema: {s}"),
            MediaType(types) => format!("None of these media types are available: {}", types.join(", ")),
            NotEmbedded(r, _) => format!("'{r}' is not an embedded resource in this request"),
            GucHeaders => "response.headers guc must be a JSON array composed of objects with a single key and a string value".into(),
            GucStatus => "response.status guc must be a valid status code".into(),
            PutLimitNotAllowed => "limit/offset querystring parameters are not allowed for PUT".into(),
            PutMatchingPk => "Payload values do not match URL in primary key column(s)".into(),
            Singularity(_) => "Cannot coerce the result to a single JSON object".into(),
            UnsupportedMethod(m) => format!("Unsupported HTTP method: {m}"),
            RelatedOrderNotToOne(_, target) => format!("A related order on '{target}' is not possible"),
            UnacceptableFilter(t) => format!("Bad operator on the '{t}' embedded resource"),
            InvalidPreferences(_) => "Invalid preferences given with handling=strict".into(),
            AggregatesNotAllowed => "Use of aggregate functions is not allowed".into(),
            MaxAffectedViolation(_) => "Query result exceeds max-affected preference constraint".into(),
            InvalidResourcePath => "Invalid path specified in request URL".into(),
            OpenApiDisabled => "Root endpoint metadata is disabled".into(),
            NotImplemented(_) => "Feature not implemented".into(),
            MaxAffectedRpcViolation => {
                "Function must return SETOF or TABLE when max-affected preference is used with handling=strict".into()
            }
            NoRpc(e) => e.message(),
            AmbiguousRpc(procs) => format!("Could not choose the best candidate function between: {}", procs.join(", ")),
            NoRelBetween { parent, child, .. } => {
                format!("Could not find a relationship between '{parent}' and '{child}' in the schema cache")
            }
            AmbiguousRelBetween { parent, child, .. } => {
                format!("Could not embed because more than one relationship was found for '{parent}' and '{child}'")
            }
            ColumnNotFound(rel, col) => format!("Could not find the '{col}' column of '{rel}' in the schema cache"),
            TableNotFound { schema, table, .. } => {
                format!("Could not find the table '{schema}.{table}' in the schema cache")
            }
            JwtSecretMissing => "Server lacks JWT secret".into(),
            JwtDecode(e) => e.message(),
            JwtTokenRequired => "Anonymous access is disabled".into(),
            JwtClaims(e) => e.message().into(),
            Pg { error, .. } if error.sqlstate == "PGRST" => match raise_pgrst(error) {
                Ok(r) => r.message,
                Err(_) => "Could not parse JSON in the \"RAISE SQLSTATE 'PGRST'\" error".into(),
            },
            Pg { error, .. } => error.message.clone(),
            Internal(_) => "Internal server error".into(),
        }
    }

    pub fn details(&self) -> Value {
        use Error::*;
        match self {
            QueryParam { details, .. } => json!(details),
            InvalidRange(RangeError::NegativeLimit) => json!("Limit should be greater than or equal to zero."),
            InvalidRange(RangeError::LowerGtUpper) => {
                json!("The lower boundary must be lower than or equal to the upper boundary in the Range header.")
            }
            InvalidRange(RangeError::OutOfBounds(lower, total)) => {
                json!(format!("An offset of {lower} was requested, but there are only {total} rows."))
            }
            Singularity(n) => json!(format!("The result contains {n} rows")),
            RelatedOrderNotToOne(origin, target) => {
                json!(format!("'{origin}' and '{target}' do not form a many-to-one or one-to-one relationship"))
            }
            UnacceptableFilter(_) => json!("Only is null or not is null filters are allowed on embedded resources"),
            InvalidPreferences(prefs) => json!(format!("Invalid preferences: {}", prefs.join(", "))),
            MaxAffectedViolation(n) => json!(format!("The query affects {n} rows")),
            NotImplemented(d) => json!(d),
            NotEmbedded(_, Some(_)) => json!("Target names are not allowed in filters if they have an alias"),
            NoRelBetween { parent, child, hint, schema, .. } => json!(format!(
                "Searched for a foreign key relationship between '{parent}' and '{child}'{} in the schema '{schema}', but no matches were found.",
                hint.as_ref().map(|h| format!(" using the hint '{h}'")).unwrap_or_default()
            )),
            AmbiguousRelBetween { details, .. } => Value::Array(details.clone()),
            Pg { error, .. } if error.sqlstate == "PGRST" => match raise_pgrst(error) {
                Ok(r) => r.details.map_or(Value::Null, Value::String),
                Err(RaiseError::Message(m)) => json!(format!("Invalid JSON value for MESSAGE: '{m}'")),
                Err(RaiseError::Detail(d)) => json!(format!("Invalid JSON value for DETAIL: '{d}'")),
                Err(RaiseError::NoDetail) => json!("DETAIL is missing in the RAISE statement"),
            },
            Pg { error, .. } => error.detail.as_ref().map_or(Value::Null, |d| json!(d)),
            NoRpc(e) => json!(e.details()),
            JwtDecode(JwtDecodeError::KeyError(d) | JwtDecodeError::BadAlgorithm(d)) => json!(d),
            _ => Value::Null,
        }
    }

    pub fn hint(&self) -> Value {
        use Error::*;
        match self {
            NotEmbedded(r, None) => json!(format!("Verify that '{r}' is included in the 'select' query parameter.")),
            NotEmbedded(_, Some((name, alias))) => {
                json!(format!("Change '{name}' to '{alias}' in filters, orders or limits."))
            }
            UnacceptableSchema(_, schemas) => {
                json!(format!("Only the following schemas are exposed: {}", schemas.join(", ")))
            }
            NoRelBetween { suggestion, .. } => suggestion.as_ref().map_or(Value::Null, |s| json!(s)),
            AmbiguousRelBetween { child, hints, .. } => json!(format!(
                "Try changing '{child}' to one of the following: {}. Find the desired relationship in the 'details' key.",
                hints.join(", ")
            )),
            TableNotFound { schema, suggestion, .. } => {
                suggestion.as_ref().map_or(Value::Null, |t| json!(format!("Perhaps you meant the table '{schema}.{t}'")))
            }
            Pg { error, .. } if error.sqlstate == "PGRST" => match raise_pgrst(error) {
                Ok(r) => r.hint.map_or(Value::Null, Value::String),
                Err(RaiseError::Message(_)) => {
                    json!("MESSAGE must be a JSON object with obligatory keys: 'code', 'message' and optional keys: 'details', 'hint'.")
                }
                Err(_) => json!("DETAIL must be a JSON object with obligatory keys: 'status', 'headers' and optional key: 'status_text'."),
            },
            Pg { error, .. } => error.hint.as_ref().map_or(Value::Null, |h| json!(h)),
            NoRpc(e) if !e.only_single_param() => e.hint.as_ref().map_or(Value::Null, |h| json!(h)),
            AmbiguousRpc(_) => {
                json!("Try renaming the parameters or the function itself in the database so function overloading can be resolved")
            }
            _ => Value::Null,
        }
    }

    /// Headers that belong to the error itself (e.g. `WWW-Authenticate` on 401).
    pub fn headers(&self) -> Vec<(String, String)> {
        if let Error::JwtDecode(_) | Error::JwtClaims(_) = self {
            // PostgREST's invalidTokenHeader: the message as a Haskell string literal
            let description = format!("{:?}", self.message());
            return vec![("WWW-Authenticate".into(), format!("Bearer error=\"invalid_token\", error_description={description}"))];
        }
        if let Error::Pg { error, .. } = self {
            if let Ok(r) = raise_pgrst(error) {
                return r.headers;
            }
        }
        if self.status() == 401 {
            vec![("WWW-Authenticate".into(), "Bearer".into())]
        } else {
            vec![]
        }
    }

    /// The JSON body; `verbose` is `client-error-verbosity = verbose` (minimal drops details/hint).
    pub fn body(&self, verbose: bool) -> Value {
        if verbose {
            json!({"code": self.code(), "message": self.message(), "details": self.details(), "hint": self.hint()})
        } else {
            json!({"code": self.code(), "message": self.message()})
        }
    }
}

/// Why a JWT could not be decoded (PostgREST's `JwtDecodeError`; the texts of KeyError and
/// BadAlgorithm are those of the jose-jwt library PostgREST uses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwtDecodeError {
    EmptyAuthHeader,
    UnexpectedParts(usize),
    KeyError(String),
    BadAlgorithm(String),
    BadCrypto,
}

impl JwtDecodeError {
    fn message(&self) -> String {
        match self {
            JwtDecodeError::EmptyAuthHeader => "Empty JWT is sent in Authorization header".into(),
            JwtDecodeError::UnexpectedParts(n) => format!("Expected 3 parts in JWT; got {n}"),
            JwtDecodeError::KeyError(_) => "No suitable key or wrong key type".into(),
            JwtDecodeError::BadAlgorithm(_) => "Wrong or unsupported encoding algorithm".into(),
            JwtDecodeError::BadCrypto => "JWT cryptographic operation failed".into(),
        }
    }
}

/// Why verified claims were refused (PostgREST's `JwtClaimsError`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtClaimsError {
    Expired,
    NotYetValid,
    IssuedAtFuture,
    NotInAudience,
    ParsingClaimsFailed,
    ExpNotNumber,
    NbfNotNumber,
    IatNotNumber,
    AudNotStringOrArray,
}

impl JwtClaimsError {
    fn message(self) -> &'static str {
        match self {
            JwtClaimsError::Expired => "JWT expired",
            JwtClaimsError::NotYetValid => "JWT not yet valid",
            JwtClaimsError::IssuedAtFuture => "JWT issued at future",
            JwtClaimsError::NotInAudience => "JWT not in audience",
            JwtClaimsError::ParsingClaimsFailed => "Parsing claims failed",
            JwtClaimsError::ExpNotNumber => "The JWT 'exp' claim must be a number",
            JwtClaimsError::NbfNotNumber => "The JWT 'nbf' claim must be a number",
            JwtClaimsError::IatNotNumber => "The JWT 'iat' claim must be a number",
            JwtClaimsError::AudNotStringOrArray => "The JWT 'aud' claim must be a string or an array of strings",
        }
    }
}

/// PGRST202: what was looked for (PostgREST's `NoRpc`).
#[derive(Debug, Clone, PartialEq)]
pub struct NoRpc {
    pub schema: String,
    pub name: String,
    /// the argument names given, sorted
    pub arg_keys: Vec<String>,
    /// the request's Content-Type essence (`application/json`, `text/plain`, ...)
    pub content_type: String,
    /// a POST (arguments in the body) rather than a GET/HEAD
    pub is_inv_post: bool,
    /// "Perhaps you meant to call the function ..."
    pub hint: Option<String>,
}

impl NoRpc {
    /// A POST of raw text, XML or bytes can only mean a single unnamed parameter.
    fn only_single_param(&self) -> bool {
        self.is_inv_post && matches!(self.content_type.as_str(), "text/plain" | "text/xml" | "application/octet-stream")
    }

    fn message(&self) -> String {
        let params = if self.only_single_param() {
            String::new()
        } else if self.arg_keys.is_empty() {
            " without parameters".into()
        } else {
            format!("({})", self.arg_keys.join(", "))
        };
        format!("Could not find the function {}.{}{params} in the schema cache", self.schema, self.name)
    }

    fn details(&self) -> String {
        let params = if self.arg_keys.is_empty() {
            " without parameters".to_string()
        } else {
            let s = if self.arg_keys.len() > 1 { "s" } else { "" };
            format!(" with parameter{s} {}", self.arg_keys.join(", "))
        };
        let searched = match (self.is_inv_post, self.content_type.as_str()) {
            (true, "text/plain") => " with a single unnamed text parameter".to_string(),
            (true, "text/xml") => " with a single unnamed xml parameter".to_string(),
            (true, "application/octet-stream") => " with a single unnamed bytea parameter".to_string(),
            (true, "application/json") => format!("{params} or with a single unnamed json/jsonb parameter"),
            _ => params,
        };
        format!("Searched for the function {}.{}{searched}, but no matches were found in the schema cache.", self.schema, self.name)
    }
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

/// Why a PGRST raise could not be read (PGRST121).
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
    use super::*;

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
        let pg = |message: &str, detail: Option<&str>| Error::Pg {
            error: PgError { sqlstate: "PGRST".into(), message: message.into(), detail: detail.map(String::from), hint: None },
            authenticated: false,
        };
        let e = pg(
            r#"{"code":"123","message":"Payment Required","details":"Quota exceeded","hint":"Upgrade"}"#,
            Some(r#"{"status":402,"headers":{"X-Powered-By":"Nerd Rage"}}"#),
        );
        assert_eq!((e.status(), e.code()), (402, "123".to_string()));
        assert_eq!(e.body(true), json!({"code":"123","message":"Payment Required","details":"Quota exceeded","hint":"Upgrade"}));
        assert_eq!(e.headers(), vec![("X-Powered-By".to_string(), "Nerd Rage".to_string())]);
        let e = pg(r#"{"code":"123","message":"x"}"#, None);
        assert_eq!((e.status(), e.code()), (500, "PGRST121".to_string()));
        assert_eq!(e.details(), json!("DETAIL is missing in the RAISE statement"));
    }

    #[test]
    fn table_not_found_body() {
        let e = Error::TableNotFound { schema: "test".into(), table: "nope".into(), suggestion: None };
        assert_eq!(e.status(), 404);
        assert_eq!(
            e.body(true),
            json!({"code": "PGRST205", "message": "Could not find the table 'test.nope' in the schema cache", "details": null, "hint": null})
        );
    }
}
