//! What one request's transaction must do (PostgREST's `MainTx.hs` and `setPgLocals`): switch
//! role, set the request GUCs, run the pre-request function and the main statement, check the
//! result, then commit or roll back. Built here, in one place, for every kind of action; the
//! database side (`database::execute`) only carries it out.

use super::{call, plan, read, root, write};
use crate::config::{Config, TxEnd};
use crate::error::Error;
use crate::request::preferences::{Handling, Transaction};
use crate::request::ApiRequest;
use crate::response::{self, ResultSet};
use crate::sql::{fragment, Statement};

/// A planned request: what the database runs, and how its result becomes the response.
#[derive(Debug, Clone)]
pub struct MainTx {
    pub job: TxJob,
    /// private: the job's `binary_column` and `spi_read_only` follow it (`set_shape`)
    shape: Shape,
}

/// The part of a [`MainTx`] that the database runs: everything but the response's shape.
/// This is what goes to an executor.
#[derive(Debug, Clone, PartialEq)]
pub struct TxJob {
    pub read_only: bool,
    pub role: String,
    /// set with `set_config(name, value, true)` after the role, in this order
    pub settings: Vec<(String, String)>,
    pub pre_request: Option<Statement>,
    pub statement: Statement,
    /// run after the statement; its JSON plan gives `Prefer: count=planned|estimated`
    pub explain: Option<Statement>,
    /// the checks that abort the transaction after the statement ran
    pub checks: Checks,
    pub rollback: bool,
    /// the column of the statement's rows read in binary ([`binary_column`]); with it, the
    /// rows are PostgREST's result row and the checks apply
    pub binary_column: Option<usize>,
    /// run the statement as SPI's read-only query (not for EXPLAIN, which SPI refuses so)
    pub spi_read_only: bool,
}

impl MainTx {
    pub fn new(job: TxJob, shape: Shape) -> MainTx {
        let mut main = MainTx { job, shape };
        main.follow_shape();
        main
    }

    pub fn shape(&self) -> &Shape {
        &self.shape
    }

    /// Another response for the same transaction (the plan media type).
    pub fn set_shape(&mut self, shape: Shape) {
        self.shape = shape;
        self.follow_shape();
    }

    fn follow_shape(&mut self) {
        self.job.binary_column = binary_column(&self.shape);
        self.job.spi_read_only = self.job.read_only && !matches!(self.shape, Shape::Plan(_));
    }
}

/// What the response of each kind of action needs to know besides the result row.
#[derive(Debug, Clone)]
pub enum Shape {
    Read(read::ReadShape),
    Write(write::WriteShape),
    Call(call::CallShape),
    Plan(plan::PlanShape),
    OpenApi(root::OpenApiShape),
}

/// What planning decided: run a transaction, or answer from the schema cache alone.
pub enum Planned {
    Run(Box<MainTx>),
    Respond(crate::http::HttpResponse),
}

/// Checks on the result row that fail the request *inside* its transaction, so that a write
/// they refuse is rolled back (PostgREST's `failNotSingular`, `failExceedsMaxAffectedPref`,
/// `failPut`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checks {
    /// `vnd.pgrst.object`: exactly one row
    pub singular: bool,
    /// PUT: exactly one row, or the body's key differed from the URL's
    pub put: bool,
    /// `Prefer: max-affected=n` with `handling=strict`
    pub max_affected: Option<i64>,
}

impl Checks {
    pub fn verify(&self, rs: &ResultSet) -> Result<(), Error> {
        if self.put && rs.page_total != 1 {
            return Err(Error::PutMatchingPk);
        }
        if self.singular && rs.page_total != 1 {
            return Err(Error::Singularity(rs.page_total));
        }
        match self.max_affected {
            Some(max) if rs.page_total > max => Err(Error::MaxAffectedViolation(rs.page_total)),
            _ => Ok(()),
        }
    }

    /// `max-affected` as it applies to `api` (only under `handling=strict`).
    pub fn max_affected(api: &ApiRequest) -> Option<i64> {
        api.preferences.max_affected.filter(|_| api.preferences.handling == Some(Handling::Strict))
    }
}

/// A transaction for `statement` with the request's role, GUCs, pre-request and tx end.
/// `routine_settings` are a called function's hoisted settings (empty for other actions).
pub fn main_tx_for(
    config: &Config,
    api: &ApiRequest,
    read_only: bool,
    statement: Statement,
    routine_settings: &[(String, String)],
    shape: Shape,
) -> MainTx {
    let role = api.auth.role.clone();
    let job = TxJob {
        read_only,
        settings: settings(config, api, &role, routine_settings),
        role,
        pre_request: pre_request(config),
        statement,
        explain: None,
        checks: Checks::default(),
        rollback: rollback(config, api),
        binary_column: None,
        spi_read_only: read_only,
    };
    MainTx::new(job, shape)
}

/// PostgREST's per-request GUCs, in its order (`Query/PreQuery.hs`): search_path, claims,
/// method, path, headers, cookies, the time zone, a called function's settings, then
/// `app.settings.*`.
pub fn settings(config: &Config, api: &ApiRequest, role: &str, routine_settings: &[(String, String)]) -> Vec<(String, String)> {
    // a JSON object of the pairs, keys in order, the last value of a repeated key
    let obj = |pairs: &[(String, String)]| -> String {
        let map: std::collections::BTreeMap<&str, &str> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        serde_json::to_string(&map).unwrap_or_default()
    };
    let search_path: Vec<String> =
        std::iter::once(&api.schema).chain(config.db_extra_search_path.iter()).map(|s| fragment::ident(s)).collect();
    let mut settings = vec![
        ("search_path".into(), search_path.join(", ")),
        ("request.jwt.claims".into(), claims(api, role)),
        ("request.method".into(), api.raw_method.clone()),
        ("request.path".into(), api.path.clone()),
        ("request.headers".into(), obj(&api.headers)),
        ("request.cookies".into(), obj(&api.cookies)),
    ];
    // Prefer: timezone= is applied as the transaction's TimeZone; PostgreSQL rejects bad zones
    settings.extend(api.preferences.timezone.iter().map(|tz| ("timezone".to_string(), tz.clone())));
    settings.extend(routine_settings.iter().cloned());
    settings.extend(config.app_settings.iter().cloned());
    settings
}

/// `request.jwt.claims`: the token's claims with `role` set (PostgREST inserts it).
fn claims(api: &ApiRequest, role: &str) -> String {
    if api.auth.role == role && !api.auth.claims.is_empty() {
        return api.auth.claims.clone();
    }
    serde_json::json!({ "role": role }).to_string()
}

/// `db-pre-request`: `SELECT "schema"."function"()`.
pub fn pre_request(config: &Config) -> Option<Statement> {
    let name = config.db_pre_request.as_ref()?;
    let quoted = match name.split_once('.') {
        Some((schema, func)) => format!("{}.{}", fragment::ident(schema), fragment::ident(func)),
        None => fragment::ident(name),
    };
    Some(Statement { sql: format!("SELECT {quoted}()"), params: vec![] })
}

/// `db-tx-end`, overridden by `Prefer: tx=` where the setting allows it.
pub fn rollback(config: &Config, api: &ApiRequest) -> bool {
    use TxEnd::*;
    match (config.db_tx_end, api.preferences.transaction) {
        (Commit, _) => false,
        (Rollback, _) => true,
        (CommitAllowOverride | RollbackAllowOverride, Some(Transaction::Commit)) => false,
        (CommitAllowOverride | RollbackAllowOverride, Some(Transaction::Rollback)) => true,
        (CommitAllowOverride, None) => false,
        (RollbackAllowOverride, None) => true,
    }
}

/// The column of the main statement's rows to read in binary (its type's send function):
/// the body of PostgREST's result row. The document and plans are read as text.
pub fn binary_column(shape: &Shape) -> Option<usize> {
    match shape {
        Shape::Read(_) | Shape::Write(_) | Shape::Call(_) => Some(response::BODY_COLUMN),
        Shape::Plan(_) | Shape::OpenApi(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rs(page_total: i64) -> ResultSet {
        ResultSet { page_total, ..Default::default() }
    }

    #[test]
    fn checks_follow_postgrest_order() {
        let put = Checks { put: true, singular: true, ..Default::default() };
        assert_eq!(put.verify(&rs(0)), Err(Error::PutMatchingPk));
        let single = Checks { singular: true, max_affected: Some(0), ..Default::default() };
        assert_eq!(single.verify(&rs(2)), Err(Error::Singularity(2)));
        let max = Checks { max_affected: Some(1), ..Default::default() };
        assert_eq!(max.verify(&rs(2)), Err(Error::MaxAffectedViolation(2)));
        assert_eq!(max.verify(&rs(1)), Ok(()));
    }

    #[test]
    fn tx_end_overrides_only_when_allowed() {
        let config = |end| Config { db_tx_end: end, ..Config::default() };
        let api = |prefer: &str| {
            let headers = [("Prefer", prefer)].into_iter().collect();
            let req = crate::http::HttpRequest { method: "GET".into(), path: "/t".into(), headers, ..Default::default() };
            crate::request::parse(&config(TxEnd::CommitAllowOverride), &req).expect("parses")
        };
        assert!(!rollback(&config(TxEnd::Commit), &api("tx=rollback")));
        assert!(rollback(&config(TxEnd::CommitAllowOverride), &api("tx=rollback")));
        assert!(rollback(&config(TxEnd::RollbackAllowOverride), &api("")));
        assert!(!rollback(&config(TxEnd::RollbackAllowOverride), &api("tx=commit")));
    }
}
