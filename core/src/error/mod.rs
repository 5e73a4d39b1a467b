//! The one error table: every error the API can answer with, and for each, in one arm of
//! [`Error::describe`], its PGRST code, HTTP status, message, details and hint (PostgREST's
//! `Error.hs`; the status and body are declared with the variant, as in axum's rejections).
//! Errors raised by the database are read in `pg.rs`: the SQLSTATE → status table and
//! `RAISE SQLSTATE 'PGRST'`.
//!
//! Codes are PostgREST's. Retired codes stay listed as comments so numbers are never reused.

mod pg;

use std::fmt;

use serde_json::{json, Value};

pub use pg::{raise_pgrst, sqlstate_status, PgError, RaiseError, RaisedError};

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
    // PGRST000: ConnectionUsageError, no pool connection to lose here
    /// PGRST001: the executor running the request went away (details: what happened)
    ExecutorLost(String),
    /// PGRST002
    NoSchemaCache,
    /// PGRST003: no executor became free within `db-pool-acquisition-timeout`
    PoolTimeout,
    /// PGRST004 (ours, not PostgREST's): the bodies and results in flight used up
    /// `server-inflight-body-mb` for longer than `db-pool-acquisition-timeout` (budget in MB)
    BodyBudget(u64),

    // ---- PGRST1xx: API request
    /// PGRST100: message, details
    QueryParam { message: String, details: String },
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
    /// PGRST121: a `RAISE SQLSTATE 'PGRST'` whose MESSAGE or DETAIL could not be read
    PgrstParse(RaiseError),
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
    NoRelBetween { parent: String, child: String, hint: Option<String>, schema: String, suggestion: Option<String> },
    /// PGRST201: parent, child, candidates (details objects), hint names
    AmbiguousRelBetween { parent: String, child: String, details: Vec<Value>, hints: Vec<String> },
    /// PGRST202: no function matches the name and arguments
    NoRpc(Box<NoRpc>),
    /// PGRST203: the overloads that match, as `schema.name(arg => type, ...)`
    AmbiguousRpc(Vec<String>),
    /// PGRST204: relation, column
    ColumnNotFound(String, String),
    /// PGRST205: schema, table, suggestion
    TableNotFound { schema: String, table: String, suggestion: Option<String> },

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
    /// Build it with [`Error::from_pg`], which reads a `RAISE SQLSTATE 'PGRST'` once.
    Pg { error: PgError, authenticated: bool },
    /// `RAISE SQLSTATE 'PGRST'`: the function chose the code, status, headers and body.
    Raised(Box<RaisedError>),

    // ---- PGRSTX00: internal
    /// Something that should not happen (a caught panic): 500 without leaking internals.
    Internal(String),
}

/// What an error answers with, apart from its headers.
#[derive(Debug, Clone, PartialEq)]
pub struct Description {
    pub code: String,
    pub status: u16,
    pub message: String,
    /// a string, an array (PGRST201) or null
    pub details: Value,
    /// a string or null
    pub hint: Value,
}

impl Description {
    fn with_details(self, details: impl Into<Value>) -> Description {
        Description { details: details.into(), ..self }
    }

    fn with_hint(self, hint: impl Into<Value>) -> Description {
        Description { hint: hint.into(), ..self }
    }
}

impl Error {
    pub fn query_param(message: impl Into<String>, details: impl Into<String>) -> Error {
        Error::QueryParam { message: message.into(), details: details.into() }
    }

    /// A database error caught while running the transaction. `RAISE SQLSTATE 'PGRST'` is
    /// parsed here, once: into `Raised`, or PGRST121 when its MESSAGE or DETAIL is unreadable.
    pub fn from_pg(error: PgError, authenticated: bool) -> Error {
        if error.sqlstate != "PGRST" {
            return Error::Pg { error, authenticated };
        }
        match raise_pgrst(&error) {
            Ok(raised) => Error::Raised(Box::new(raised)),
            Err(e) => Error::PgrstParse(e),
        }
    }

    /// The error table: one arm per variant.
    pub fn describe(&self) -> Description {
        use Error::*;
        fn d(code: impl Into<String>, status: u16, message: impl Into<String>) -> Description {
            Description { code: code.into(), status, message: message.into(), details: Value::Null, hint: Value::Null }
        }
        match self {
            ExecutorLost(what) => d("PGRST001", 503, "Database client error. Retrying the connection.").with_details(what.clone()),
            NoSchemaCache => d("PGRST002", 503, "Could not query the database for the schema cache. Retrying."),
            PoolTimeout => d("PGRST003", 504, "Timed out acquiring connection from connection pool."),
            BodyBudget(mb) => d("PGRST004", 503, "Too many request bodies in flight.")
                .with_details(format!("The request bodies and results in flight at once may use {mb} MB (server-inflight-body-mb)."))
                .with_hint("Retry later."),
            QueryParam { message, details } => d("PGRST100", 400, message.clone()).with_details(details.clone()),
            InvalidRpcMethod(m) => d("PGRST101", 405, format!("Cannot use the {m} method on RPC")),
            InvalidBody(m) => d("PGRST102", 400, m.clone()),
            InvalidRange(range) => d("PGRST103", 416, "Requested range not satisfiable").with_details(match range {
                RangeError::NegativeLimit => "Limit should be greater than or equal to zero.".to_string(),
                RangeError::LowerGtUpper => {
                    "The lower boundary must be lower than or equal to the upper boundary in the Range header.".into()
                }
                RangeError::OutOfBounds(lower, total) => format!("An offset of {lower} was requested, but there are only {total} rows."),
            }),
            InvalidFilters => d("PGRST105", 405, "Filters must include all and only primary key columns with 'eq' operators"),
            UnacceptableSchema(s, schemas) => d("PGRST106", 406, format!("Invalid schema: {s}"))
                .with_hint(format!("Only the following schemas are exposed: {}", schemas.join(", "))),
            MediaType(types) => d("PGRST107", 406, format!("None of these media types are available: {}", types.join(", "))),
            NotEmbedded(r, alias) => {
                let e = d("PGRST108", 400, format!("'{r}' is not an embedded resource in this request"));
                match alias {
                    None => e.with_hint(format!("Verify that '{r}' is included in the 'select' query parameter.")),
                    Some((name, alias)) => e
                        .with_details("Target names are not allowed in filters if they have an alias")
                        .with_hint(format!("Change '{name}' to '{alias}' in filters, orders or limits.")),
                }
            }
            GucHeaders => d(
                "PGRST111",
                500,
                "response.headers guc must be a JSON array composed of objects with a single key and a string value",
            ),
            GucStatus => d("PGRST112", 500, "response.status guc must be a valid status code"),
            PutLimitNotAllowed => d("PGRST114", 400, "limit/offset querystring parameters are not allowed for PUT"),
            PutMatchingPk => d("PGRST115", 400, "Payload values do not match URL in primary key column(s)"),
            Singularity(n) => {
                d("PGRST116", 406, "Cannot coerce the result to a single JSON object").with_details(format!("The result contains {n} rows"))
            }
            UnsupportedMethod(m) => d("PGRST117", 405, format!("Unsupported HTTP method: {m}")),
            RelatedOrderNotToOne(origin, target) => d("PGRST118", 400, format!("A related order on '{target}' is not possible"))
                .with_details(format!("'{origin}' and '{target}' do not form a many-to-one or one-to-one relationship")),
            UnacceptableFilter(t) => d("PGRST120", 400, format!("Bad operator on the '{t}' embedded resource"))
                .with_details("Only is null or not is null filters are allowed on embedded resources"),
            PgrstParse(e) => {
                let (details, hint) = match e {
                    RaiseError::Message(m) => (
                        format!("Invalid JSON value for MESSAGE: '{m}'"),
                        "MESSAGE must be a JSON object with obligatory keys: 'code', 'message' and optional keys: 'details', 'hint'.",
                    ),
                    RaiseError::Detail(det) => (format!("Invalid JSON value for DETAIL: '{det}'"), RAISE_DETAIL_HINT),
                    RaiseError::NoDetail => ("DETAIL is missing in the RAISE statement".into(), RAISE_DETAIL_HINT),
                };
                d("PGRST121", 500, "Could not parse JSON in the \"RAISE SQLSTATE 'PGRST'\" error").with_details(details).with_hint(hint)
            }
            InvalidPreferences(prefs) => d("PGRST122", 400, "Invalid preferences given with handling=strict")
                .with_details(format!("Invalid preferences: {}", prefs.join(", "))),
            AggregatesNotAllowed => d("PGRST123", 400, "Use of aggregate functions is not allowed"),
            MaxAffectedViolation(n) => d("PGRST124", 400, "Query result exceeds max-affected preference constraint")
                .with_details(format!("The query affects {n} rows")),
            InvalidResourcePath => d("PGRST125", 404, "Invalid path specified in request URL"),
            OpenApiDisabled => d("PGRST126", 404, "Root endpoint metadata is disabled"),
            NotImplemented(details) => d("PGRST127", 400, "Feature not implemented").with_details(details.clone()),
            MaxAffectedRpcViolation => {
                d("PGRST128", 400, "Function must return SETOF or TABLE when max-affected preference is used with handling=strict")
            }
            NoRelBetween { parent, child, hint, schema, suggestion } => d(
                "PGRST200",
                400,
                format!("Could not find a relationship between '{parent}' and '{child}' in the schema cache"),
            )
            .with_details(format!(
                "Searched for a foreign key relationship between '{parent}' and '{child}'{} in the schema '{schema}', but no matches were found.",
                hint.as_ref().map(|h| format!(" using the hint '{h}'")).unwrap_or_default()
            ))
            .with_hint(suggestion.clone()),
            AmbiguousRelBetween { parent, child, details, hints } => d(
                "PGRST201",
                300,
                format!("Could not embed because more than one relationship was found for '{parent}' and '{child}'"),
            )
            .with_details(details.clone())
            .with_hint(format!(
                "Try changing '{child}' to one of the following: {}. Find the desired relationship in the 'details' key.",
                hints.join(", ")
            )),
            // raw text, XML or bytes can only mean a single unnamed parameter: no name to suggest
            NoRpc(e) => d("PGRST202", 404, e.message()).with_details(e.details()).with_hint(e.hint.clone().filter(|_| !e.only_single_param())),
            AmbiguousRpc(procs) => d("PGRST203", 300, format!("Could not choose the best candidate function between: {}", procs.join(", ")))
                .with_hint("Try renaming the parameters or the function itself in the database so function overloading can be resolved"),
            ColumnNotFound(rel, col) => d("PGRST204", 400, format!("Could not find the '{col}' column of '{rel}' in the schema cache")),
            TableNotFound { schema, table, suggestion } => {
                d("PGRST205", 404, format!("Could not find the table '{schema}.{table}' in the schema cache"))
                    .with_hint(suggestion.as_ref().map(|t| format!("Perhaps you meant the table '{schema}.{t}'")))
            }
            JwtSecretMissing => d("PGRST300", 500, "Server lacks JWT secret"),
            JwtDecode(e) => {
                let (message, details) = match e {
                    JwtDecodeError::EmptyAuthHeader => ("Empty JWT is sent in Authorization header".to_string(), None),
                    JwtDecodeError::UnexpectedParts(n) => (format!("Expected 3 parts in JWT; got {n}"), None),
                    JwtDecodeError::KeyError(details) => ("No suitable key or wrong key type".into(), Some(details)),
                    JwtDecodeError::BadAlgorithm(details) => ("Wrong or unsupported encoding algorithm".into(), Some(details)),
                    JwtDecodeError::BadCrypto => ("JWT cryptographic operation failed".into(), None),
                };
                d("PGRST301", 401, message).with_details(details.cloned())
            }
            JwtTokenRequired => d("PGRST302", 401, "Anonymous access is disabled"),
            JwtClaims(e) => d("PGRST303", 401, e.message()),
            Pg { error, authenticated } => {
                d(error.sqlstate.clone(), sqlstate_status(&error.sqlstate, &error.message, *authenticated), error.message.clone())
                    .with_details(error.detail.clone())
                    .with_hint(error.hint.clone())
            }
            Raised(r) => d(r.code.clone(), r.status, r.message.clone()).with_details(r.details.clone()).with_hint(r.hint.clone()),
            Internal(_) => d("PGRSTX00", 500, "Internal server error"),
        }
    }

    pub fn code(&self) -> String {
        self.describe().code
    }

    pub fn status(&self) -> u16 {
        self.describe().status
    }

    pub fn message(&self) -> String {
        self.describe().message
    }

    pub fn details(&self) -> Value {
        self.describe().details
    }

    pub fn hint(&self) -> Value {
        self.describe().hint
    }

    /// Headers that belong to the error itself (e.g. `WWW-Authenticate` on 401).
    pub fn headers(&self) -> Vec<(String, String)> {
        match self {
            Error::JwtDecode(_) | Error::JwtClaims(_) => {
                // PostgREST's invalidTokenHeader: the message as a Haskell string literal
                let description = format!("{:?}", self.message());
                vec![("WWW-Authenticate".into(), format!("Bearer error=\"invalid_token\", error_description={description}"))]
            }
            // the function's own headers, even on a 401
            Error::Raised(r) => r.headers.clone(),
            _ if self.status() == 401 => vec![("WWW-Authenticate".into(), "Bearer".into())],
            _ => vec![],
        }
    }

    /// The JSON body; `verbose` is `client-error-verbosity = verbose` (minimal drops details/hint).
    pub fn body(&self, verbose: bool) -> Value {
        let d = self.describe();
        if verbose {
            json!({"code": d.code, "message": d.message, "details": d.details, "hint": d.hint})
        } else {
            json!({"code": d.code, "message": d.message})
        }
    }
}

const RAISE_DETAIL_HINT: &str = "DETAIL must be a JSON object with obligatory keys: 'status', 'headers' and optional key: 'status_text'.";

/// `CODE: message`, for logs. An internal error shows what happened, which its body hides.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.describe();
        match self {
            Error::Internal(what) => write!(f, "{}: {what}", d.code),
            _ => write!(f, "{}: {}", d.code, d.message),
        }
    }
}

impl std::error::Error for Error {}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_not_found_body() {
        let e = Error::TableNotFound { schema: "test".into(), table: "nope".into(), suggestion: None };
        assert_eq!(e.status(), 404);
        assert_eq!(
            e.body(true),
            json!({"code": "PGRST205", "message": "Could not find the table 'test.nope' in the schema cache", "details": null, "hint": null})
        );
    }

    #[test]
    fn accessors_read_the_description() {
        let e = Error::NotEmbedded("clients".into(), Some(("clients".into(), "c".into())));
        let d = e.describe();
        assert_eq!((e.code(), e.status(), e.message()), (d.code.clone(), d.status, d.message.clone()));
        assert_eq!((e.details(), e.hint()), (d.details, d.hint));
        assert_eq!(e.hint(), json!("Change 'clients' to 'c' in filters, orders or limits."));
        assert_eq!(e.body(false), json!({"code": "PGRST108", "message": "'clients' is not an embedded resource in this request"}));
    }

    #[test]
    fn display_is_code_and_message() {
        assert_eq!(
            Error::TableNotFound { schema: "test".into(), table: "nope".into(), suggestion: None }.to_string(),
            "PGRST205: Could not find the table 'test.nope' in the schema cache"
        );
        assert_eq!(Error::JwtClaims(JwtClaimsError::Expired).to_string(), "PGRST303: JWT expired");
        let pg = PgError { sqlstate: "23505".into(), message: "duplicate key".into(), detail: None, hint: None };
        assert_eq!(Error::from_pg(pg, false).to_string(), "23505: duplicate key");
        let raised = PgError {
            sqlstate: "PGRST".into(),
            message: r#"{"code":"123","message":"Payment Required"}"#.into(),
            detail: Some(r#"{"status":402,"headers":{}}"#.into()),
            hint: None,
        };
        assert_eq!(Error::from_pg(raised, false).to_string(), "123: Payment Required");
    }

    #[test]
    fn display_of_internal_error_shows_what_the_body_hides() {
        let e = Error::Internal("SPI_connect failed".into());
        assert_eq!(e.to_string(), "PGRSTX00: SPI_connect failed");
        assert_eq!(e.body(true)["message"], json!("Internal server error"));
    }

    #[test]
    fn is_a_std_error() {
        fn fails() -> Result<(), Box<dyn std::error::Error>> {
            Err(Error::JwtTokenRequired)?
        }
        assert_eq!(fails().unwrap_err().to_string(), "PGRST302: Anonymous access is disabled");
    }
}
