//! The whole pipeline against a fake database: what it asks the database to run, and what
//! it answers for the database's results and errors. The schema cache is PostgREST's test
//! fixtures (`schema_cache/testdata`).

use super::*;
use crate::config::TxEnd;
use crate::error::PgError;
use crate::sql::Statement;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, OnceLock};

const SECRET: &str = "reallyreallyreallyreallyverysafe";

fn fixture() -> Arc<SchemaCache> {
    static CACHE: OnceLock<Arc<SchemaCache>> = OnceLock::new();
    CACHE.get_or_init(|| Arc::new(SchemaCache::fixture())).clone()
}

fn config(settings: &[(&str, &str)]) -> Config {
    let mut s: HashMap<String, String> = HashMap::from([("db_schemas".into(), "test".into()), ("db_anon_role".into(), "anon".into())]);
    s.extend(settings.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Config::from_settings(&s).expect("valid config")
}

/// What the fake answers to `run`, in order; and what it was asked.
#[derive(Default)]
struct Fake {
    answers: Vec<Result<Ran, Error>>,
    stale_answers: Vec<bool>,
    ran: Vec<(MainTx, bool)>,
    cache_reads: usize,
}

impl Database for Fake {
    async fn schema_cache(&mut self, _config: &Config) -> Result<Arc<SchemaCache>, Error> {
        self.cache_reads += 1;
        Ok(fixture())
    }

    async fn stale(&mut self) -> Result<bool, Error> {
        Ok(if self.stale_answers.is_empty() { false } else { self.stale_answers.remove(0) })
    }

    async fn run(&mut self, main: &MainTx, check_fresh: bool) -> Result<Ran, Error> {
        self.ran.push((main.clone(), check_fresh));
        if self.answers.is_empty() {
            return Ok(Ran::Done(result_row(0, "[]")));
        }
        self.answers.remove(0)
    }
}

/// PostgREST's result row: (total, page_total, body, response_headers, response_status).
fn result_row(page_total: i64, body: &str) -> Output {
    let col = |s: &str| Some(bytes::Bytes::copy_from_slice(s.as_bytes()));
    Output { rows: vec![vec![None, col(&page_total.to_string()), col(body), None, None]], explain: None }
}

fn request(method: &str, path: &str, query: &str, headers: &[(&str, &str)], body: &str) -> HttpRequest {
    HttpRequest {
        method: method.into(),
        path: path.into(),
        query: query.into(),
        headers: headers.iter().map(|(k, v)| (*k, *v)).collect(),
        body: body.into(),
    }
}

fn get(path: &str, query: &str) -> HttpRequest {
    request("GET", path, query, &[], "")
}

fn run(config: &Config, db: &mut Fake, req: &HttpRequest) -> Handled {
    block_on(handle(config, &JwtCache::new(), db, req))
}

/// The fake answers at once: its futures are ready on the first poll.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return value;
        }
    }
}

fn permission_denied() -> Error {
    Error::Pg {
        error: PgError { sqlstate: "42501".into(), message: "permission denied for table clients".into(), detail: None, hint: None },
        authenticated: false,
    }
}

fn token(role: &str) -> String {
    use jsonwebtoken::{encode, EncodingKey, Header};
    encode(&Header::default(), &serde_json::json!({ "role": role }), &EncodingKey::from_secret(SECRET.as_bytes())).expect("encodes")
}

#[test]
fn a_read_runs_one_read_only_transaction_as_the_anonymous_role() {
    let mut db = Fake { answers: vec![Ok(Ran::Done(result_row(1, r#"[{"id":1}]"#)))], ..Fake::default() };
    let handled = run(&config(&[]), &mut db, &get("/clients", "select=id&id=eq.1"));
    assert_eq!(handled.response.status, 200);
    assert_eq!(handled.response.body, &br#"[{"id":1}]"#[..]);
    assert_eq!(handled.response.headers.get("content-range"), Some("0-0/*"));
    assert_eq!(handled.response.headers.get("vary"), Some("Accept, Prefer, Range"));
    let (main, check_fresh) = &db.ran[0];
    assert!(main.job.read_only && *check_fresh);
    assert_eq!(main.job.role, "anon");
    assert_eq!(main.job.statement.params, vec![Some(crate::text::Text::from("1"))], "values are parameters");
    assert!(handled.error.is_none());
}

#[test]
fn server_timing_names_every_phase() {
    let config = config(&[("server_timing_enabled", "true")]);
    let handled = run(&config, &mut Fake::default(), &get("/clients", ""));
    let header = handled.response.headers.get("server-timing").expect("Server-Timing");
    let phases: Vec<&str> = header.split(", ").map(|p| p.split(';').next().unwrap_or("")).collect();
    assert_eq!(phases, ["jwt", "parse", "plan", "transaction", "response"]);
    assert!(header.split(", ").all(|p| p.contains(";dur=")), "{header}");
    assert!(run(&self::config(&[]), &mut Fake::default(), &get("/clients", "")).response.headers.get("server-timing").is_none());
}

#[test]
fn permission_denied_is_401_for_the_anonymous_role_and_403_with_a_token() {
    let config = config(&[("jwt_secret", SECRET)]);
    let mut db = Fake { answers: vec![Err(permission_denied())], ..Fake::default() };
    let anon = run(&config, &mut db, &get("/clients", ""));
    assert_eq!(anon.response.status, 401);
    assert!(anon.response.headers.get("www-authenticate").is_some_and(|v| v.starts_with("Bearer")));

    let bearer = format!("Bearer {}", token("postgrest_test_author"));
    let mut db = Fake { answers: vec![Err(permission_denied())], ..Fake::default() };
    let authed = run(&config, &mut db, &request("GET", "/clients", "", &[("Authorization", &bearer)], ""));
    assert_eq!(authed.response.status, 403);
    assert_eq!(db.ran[0].0.job.role, "postgrest_test_author");
}

#[test]
fn a_bad_token_is_refused_before_the_database_is_asked() {
    let config = config(&[("jwt_secret", SECRET)]);
    let mut db = Fake::default();
    let handled = run(&config, &mut db, &request("GET", "/clients", "", &[("Authorization", "Bearer not.a.token")], ""));
    assert_eq!(handled.response.status, 401);
    assert_eq!((db.cache_reads, db.ran.len()), (0, 0));
}

#[test]
fn a_stale_cache_is_read_again_and_the_request_planned_once_more() {
    let mut db = Fake { answers: vec![Ok(Ran::Stale), Ok(Ran::Done(result_row(0, "[]")))], ..Fake::default() };
    let handled = run(&config(&[]), &mut db, &get("/clients", ""));
    assert_eq!(handled.response.status, 200);
    assert_eq!(db.cache_reads, 2);
    assert_eq!(db.ran.iter().map(|(_, fresh)| *fresh).collect::<Vec<_>>(), [true, false]);
}

#[test]
fn a_missing_relation_is_only_reported_after_the_cache_was_confirmed_fresh() {
    let mut db = Fake { stale_answers: vec![true], ..Fake::default() };
    let handled = run(&config(&[]), &mut db, &get("/no_such_table", ""));
    assert_eq!(handled.response.status, 404);
    assert_eq!(db.cache_reads, 2, "read again after the database said it was stale");
    assert!(db.ran.is_empty());
}

#[test]
fn a_panic_becomes_a_500() {
    let config = config(&[("testing_panic_path", "/boom")]);
    let handled = run(&config, &mut Fake::default(), &get("/boom", ""));
    assert_eq!(handled.response.status, 500);
    assert!(matches!(handled.error, Some(Error::Internal(_))));
}

#[test]
fn a_write_sends_content_profile_once() {
    let config = config(&[("db_schemas", "test,v1")]);
    let mut db = Fake { answers: vec![Ok(Ran::Done(result_row(1, r#"[{"id":9,"name":"x"}]"#)))], ..Fake::default() };
    let headers = [("Content-Profile", "test"), ("Prefer", "return=representation"), ("Content-Type", "application/json")];
    let handled = run(&config, &mut db, &request("POST", "/clients", "", &headers, r#"{"id":9,"name":"x"}"#));
    assert_eq!(handled.response.status, 201);
    assert_eq!(handled.response.headers.get_all("content-profile").collect::<Vec<_>>(), ["test"]);
}

#[test]
fn function_settings_come_after_the_time_zone_and_before_app_settings() {
    let mut config = config(&[]);
    let req = request("GET", "/clients", "", &[("Prefer", "timezone=America/Los_Angeles")], "");
    let api = parse_request(&config, &req, Auth::default()).expect("parses");
    config.app_settings = vec![("app.settings.a".into(), "1".into())];
    let names: Vec<String> =
        main_tx::settings(&config, &api, "anon", &[("statement_timeout".into(), "7s".into())]).into_iter().map(|(k, _)| k).collect();
    let at = |n: &str| names.iter().position(|k| k == n).unwrap_or(usize::MAX);
    assert_eq!(names[0], "search_path");
    assert!(at("request.cookies") < at("timezone"));
    assert!(at("timezone") < at("statement_timeout"));
    assert_eq!(at("statement_timeout") + 1, at("app.settings.a"));
}

/// A transaction that records what `execute` does.
#[derive(Default)]
struct Recorder {
    log: Vec<String>,
    rows: Rows,
}

impl Transaction for Recorder {
    fn set_read_only(&mut self) {
        self.log.push("read only".into());
    }
    fn set_role(&mut self, role: &str) -> Result<(), Error> {
        self.log.push(format!("role {role}"));
        Ok(())
    }
    fn set_local(&mut self, name: &str, _value: &str) -> Result<(), Error> {
        self.log.push(format!("set {name}"));
        Ok(())
    }
    fn query(&mut self, statement: &Statement, _read_only: bool, _binary: Option<usize>) -> Result<Rows, Error> {
        self.log.push(statement.sql.chars().take(24).collect());
        Ok(self.rows.clone())
    }
}

fn planned(config: &Config, req: &HttpRequest) -> MainTx {
    let api = parse_request(config, req, crate::auth::authenticate_at(config, None, 0).expect("anon")).expect("parses");
    match main_tx(config, &fixture(), &api).expect("plans") {
        Planned::Run(main) => *main,
        Planned::Respond(_) => panic!("expected a transaction"),
    }
}

#[test]
fn execute_sets_the_role_then_the_gucs_then_runs_and_rolls_back_when_asked() {
    let config = config(&[("db_tx_end", "rollback-allow-override"), ("db_pre_request", "test.switch_role")]);
    assert_eq!(config.db_tx_end, TxEnd::RollbackAllowOverride);
    let main = planned(&config, &request("DELETE", "/clients", "id=eq.1", &[("Prefer", "tx=rollback")], ""));
    let mut tx = Recorder { rows: result_row(1, "").rows, ..Recorder::default() };
    let (_, end) = execute(&mut tx, &main.job).expect("runs");
    assert_eq!(end, End::Rollback);
    assert_eq!(tx.log[0], "role anon");
    assert!(tx.log[1].starts_with("set search_path"));
    let pre = tx.log.iter().position(|l| l.starts_with("SELECT \"test\".\"switch_r")).expect("pre-request ran");
    assert!(tx.log[pre + 1].starts_with("WITH") || tx.log[pre + 1].starts_with("DELETE"), "{:?}", tx.log);
    assert_eq!(tx.log.last().map(String::as_str), Some("SET CONSTRAINTS ALL IMME"));
}

#[test]
fn execute_fails_a_singular_write_that_touched_two_rows_inside_the_transaction() {
    let config = config(&[]);
    let req = request("PATCH", "/clients", "", &[("Accept", "application/vnd.pgrst.object+json")], r#"{"name":"x"}"#);
    let main = planned(&config, &req);
    let mut tx = Recorder { rows: result_row(2, "[]").rows, ..Recorder::default() };
    assert_eq!(execute(&mut tx, &main.job).map(|(_, end)| end), Err(Error::Singularity(2)));
}

#[test]
fn request_headers_and_cookies_are_json_objects_in_key_order() {
    let config = config(&[]);
    let headers = [("X-B", "2"), ("X-A", "say \"hi\""), ("Cookie", "z=1; a=2; a=3")];
    let api = parse_request(&config, &request("GET", "/clients", "", &headers, ""), Auth::default()).expect("parses");
    let settings = main_tx::settings(&config, &api, "anon", &[]);
    let get = |n: &str| settings.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()).unwrap_or_default();
    // the cookies are a setting of their own
    assert_eq!(get("request.headers"), r#"{"x-a":"say \"hi\"","x-b":"2"}"#);
    // a repeated cookie: its last value, as PostgREST's map of them
    assert_eq!(get("request.cookies"), r#"{"a":"3","z":"1"}"#);
}
