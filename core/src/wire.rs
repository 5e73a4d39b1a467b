//! The messages between the front and an executor (ARCHITECTURE.md), and their encoding.
//!
//! One message is one frame: a little-endian `u32` length, then the payload. Payloads are a
//! tag byte and fields: integers little-endian, strings and byte strings as a `u32` length and
//! the bytes, options as a presence byte. Bodies and result columns travel as raw bytes, never
//! re-encoded. Decoding never panics: a short or malformed frame is a [`WireError`].

use crate::app::{Checks, Output, Rows, TxJob};
use crate::error::{Error, PgError, RaiseError, RaisedError};
use crate::sql::Statement;

/// Front → executor. One at a time per connection, so the size of a variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Job {
    /// Run one request's transaction, planned with the schema cache of `generation`; with
    /// `check_fresh`, answer [`Reply::Stale`] if the catalogs changed since.
    Run { generation: u64, check_fresh: bool, activity: String, job: TxJob },
    /// Read the catalogs for the schema cache (`schema_cache::CATALOG_QUERY` with `param`).
    Load { param: String },
    /// Start and end a transaction, taking in pending invalidations; answer the generation.
    Ping,
}

/// Executor → front.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// First message on a new connection.
    Hello {
        pid: i32,
    },
    Done(Output),
    Stale,
    Failed(Error),
    Loaded {
        generation: u64,
        document: String,
    },
    Pong {
        generation: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError(pub &'static str);

/// Frames larger than this are refused (PostgreSQL's own limit on one value is 1 GB).
pub const MAX_FRAME: usize = 1 << 30;

pub fn encode_job(job: &Job) -> Vec<u8> {
    let mut w = Writer::frame();
    match job {
        Job::Run { generation, check_fresh, activity, job } => return encode_run(*generation, *check_fresh, activity, job),
        Job::Load { param } => {
            w.u8(2);
            w.str(param);
        }
        Job::Ping => w.u8(3),
    }
    w.finish()
}

/// The frame of a [`Job::Run`], from borrowed parts (the job is not copied first).
pub fn encode_run(generation: u64, check_fresh: bool, activity: &str, job: &TxJob) -> Vec<u8> {
    let mut w = Writer::frame();
    w.u8(1);
    w.u64(generation);
    w.bool(check_fresh);
    w.str(activity);
    tx_job(&mut w, job);
    w.finish()
}

pub fn decode_job(payload: &[u8]) -> Result<Job, WireError> {
    let mut r = Reader(payload);
    let job = match r.u8()? {
        1 => Job::Run { generation: r.u64()?, check_fresh: r.bool()?, activity: r.string()?, job: r.tx_job()? },
        2 => Job::Load { param: r.string()? },
        3 => Job::Ping,
        _ => return Err(WireError("unknown job")),
    };
    r.end(job)
}

pub fn encode_reply(reply: &Reply) -> Vec<u8> {
    let mut w = Writer::frame();
    match reply {
        Reply::Hello { pid } => {
            w.u8(1);
            w.u64(*pid as u32 as u64);
        }
        Reply::Done(output) => {
            w.u8(2);
            rows(&mut w, &output.rows);
            w.opt_str(output.explain.as_deref());
        }
        Reply::Stale => w.u8(3),
        Reply::Failed(e) => {
            w.u8(4);
            error(&mut w, e);
        }
        Reply::Loaded { generation, document } => {
            w.u8(5);
            w.u64(*generation);
            w.str(document);
        }
        Reply::Pong { generation } => {
            w.u8(6);
            w.u64(*generation);
        }
    }
    w.finish()
}

pub fn decode_reply(payload: &[u8]) -> Result<Reply, WireError> {
    let mut r = Reader(payload);
    let reply = match r.u8()? {
        1 => Reply::Hello { pid: r.u64()? as u32 as i32 },
        2 => Reply::Done(Output { rows: r.rows()?, explain: r.opt_string()? }),
        3 => Reply::Stale,
        4 => Reply::Failed(r.error()?),
        5 => Reply::Loaded { generation: r.u64()?, document: r.string()? },
        6 => Reply::Pong { generation: r.u64()? },
        _ => return Err(WireError("unknown reply")),
    };
    r.end(reply)
}

/// Read one frame's payload from a blocking stream (its async twin is the front's
/// `Executor::call`, on tokio's streams). A bad length is `InvalidData`.
pub fn read_frame(r: &mut impl std::io::Read) -> std::io::Result<Vec<u8>> {
    let mut header = [0u8; 4];
    r.read_exact(&mut header)?;
    let n = frame_len(header).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.0))?;
    let mut payload = vec![0u8; n];
    r.read_exact(&mut payload)?;
    Ok(payload)
}

/// The payload length a frame header announces.
pub fn frame_len(header: [u8; 4]) -> Result<usize, WireError> {
    let n = u32::from_le_bytes(header) as usize;
    if n > MAX_FRAME {
        return Err(WireError("frame too large"));
    }
    Ok(n)
}

fn tx_job(w: &mut Writer, j: &TxJob) {
    w.bool(j.read_only);
    w.str(&j.role);
    w.u64(j.settings.len() as u64);
    for (k, v) in &j.settings {
        w.str(k);
        w.str(v);
    }
    w.opt_statement(j.pre_request.as_ref());
    w.statement(&j.statement);
    w.opt_statement(j.explain.as_ref());
    w.bool(j.checks.singular);
    w.bool(j.checks.put);
    w.opt_i64(j.checks.max_affected);
    w.bool(j.rollback);
    w.opt_i64(j.binary_column.map(|c| c as i64));
    w.bool(j.spi_read_only);
}

fn rows(w: &mut Writer, rows: &Rows) {
    w.u64(rows.len() as u64);
    for row in rows {
        w.u64(row.len() as u64);
        for col in row {
            w.opt_bytes(col.as_deref());
        }
    }
}

/// The errors a transaction can end with. Any other error travels as an internal one.
fn error(w: &mut Writer, e: &Error) {
    match e {
        Error::Pg { error, authenticated } => {
            w.u8(1);
            w.str(&error.sqlstate);
            w.str(&error.message);
            w.opt_str(error.detail.as_deref());
            w.opt_str(error.hint.as_deref());
            w.bool(*authenticated);
        }
        Error::Raised(r) => {
            w.u8(2);
            w.str(&r.code);
            w.str(&r.message);
            w.opt_str(r.details.as_deref());
            w.opt_str(r.hint.as_deref());
            w.u64(r.status as u64);
            w.u64(r.headers.len() as u64);
            for (k, v) in &r.headers {
                w.str(k);
                w.str(v);
            }
        }
        Error::PgrstParse(p) => {
            w.u8(3);
            match p {
                RaiseError::Message(m) => {
                    w.u8(1);
                    w.str(m)
                }
                RaiseError::NoDetail => w.u8(2),
                RaiseError::Detail(d) => {
                    w.u8(3);
                    w.str(d)
                }
            }
        }
        Error::Singularity(n) => {
            w.u8(4);
            w.i64(*n);
        }
        Error::PutMatchingPk => w.u8(5),
        Error::MaxAffectedViolation(n) => {
            w.u8(6);
            w.i64(*n);
        }
        Error::InvalidBody(m) => {
            w.u8(7);
            w.str(m);
        }
        Error::NoSchemaCache => w.u8(8),
        Error::Internal(detail) => {
            w.u8(9);
            w.str(detail);
        }
        other => {
            w.u8(9);
            w.str(&other.to_string());
        }
    }
}

struct Writer(Vec<u8>);

impl Writer {
    /// A frame with room for its length, written by `finish`.
    fn frame() -> Writer {
        Writer(vec![0; 4])
    }
    fn finish(mut self) -> Vec<u8> {
        let n = (self.0.len() - 4) as u32;
        self.0[..4].copy_from_slice(&n.to_le_bytes());
        self.0
    }
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn bool(&mut self, v: bool) {
        self.0.push(v as u8);
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn bytes(&mut self, v: &[u8]) {
        self.0.extend_from_slice(&(v.len() as u32).to_le_bytes());
        self.0.extend_from_slice(v);
    }
    fn str(&mut self, v: &str) {
        self.bytes(v.as_bytes());
    }
    fn opt_bytes(&mut self, v: Option<&[u8]>) {
        match v {
            None => self.0.push(0),
            Some(b) => {
                self.0.push(1);
                self.bytes(b);
            }
        }
    }
    fn opt_str(&mut self, v: Option<&str>) {
        self.opt_bytes(v.map(str::as_bytes));
    }
    fn opt_i64(&mut self, v: Option<i64>) {
        match v {
            None => self.0.push(0),
            Some(n) => {
                self.0.push(1);
                self.i64(n);
            }
        }
    }
    fn statement(&mut self, s: &Statement) {
        self.str(&s.sql);
        self.u64(s.params.len() as u64);
        for p in &s.params {
            self.opt_str(p.as_deref());
        }
    }
    fn opt_statement(&mut self, s: Option<&Statement>) {
        match s {
            None => self.0.push(0),
            Some(s) => {
                self.0.push(1);
                self.statement(s);
            }
        }
    }
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], WireError> {
        if self.0.len() < n {
            return Err(WireError("short frame"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn end<T>(&self, value: T) -> Result<T, WireError> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(WireError("trailing bytes"))
        }
    }
    fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.take(1)?[0])
    }
    fn bool(&mut self) -> Result<bool, WireError> {
        Ok(self.u8()? != 0)
    }
    fn u64(&mut self) -> Result<u64, WireError> {
        let b: [u8; 8] = self.take(8)?.try_into().map_err(|_| WireError("short frame"))?;
        Ok(u64::from_le_bytes(b))
    }
    fn i64(&mut self) -> Result<i64, WireError> {
        Ok(self.u64()? as i64)
    }
    /// A count of items that each take at least one byte: never more than what is left.
    fn count(&mut self) -> Result<usize, WireError> {
        let n = self.u64()?;
        if n > self.0.len() as u64 {
            return Err(WireError("count beyond the frame"));
        }
        Ok(n as usize)
    }
    fn bytes(&mut self) -> Result<Vec<u8>, WireError> {
        let b: [u8; 4] = self.take(4)?.try_into().map_err(|_| WireError("short frame"))?;
        let n = u32::from_le_bytes(b) as usize;
        Ok(self.take(n)?.to_vec())
    }
    fn string(&mut self) -> Result<String, WireError> {
        String::from_utf8(self.bytes()?).map_err(|_| WireError("text is not UTF-8"))
    }
    fn present(&mut self) -> Result<bool, WireError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(WireError("bad option")),
        }
    }
    fn opt_bytes(&mut self) -> Result<Option<Vec<u8>>, WireError> {
        Ok(if self.present()? { Some(self.bytes()?) } else { None })
    }
    fn opt_string(&mut self) -> Result<Option<String>, WireError> {
        Ok(if self.present()? { Some(self.string()?) } else { None })
    }
    fn opt_i64(&mut self) -> Result<Option<i64>, WireError> {
        Ok(if self.present()? { Some(self.i64()?) } else { None })
    }
    fn statement(&mut self) -> Result<Statement, WireError> {
        let sql = self.string()?;
        let n = self.count()?;
        let params = (0..n).map(|_| self.opt_string()).collect::<Result<_, _>>()?;
        Ok(Statement { sql, params })
    }
    fn opt_statement(&mut self) -> Result<Option<Statement>, WireError> {
        Ok(if self.present()? { Some(self.statement()?) } else { None })
    }
    fn pairs(&mut self) -> Result<Vec<(String, String)>, WireError> {
        let n = self.count()?;
        (0..n).map(|_| Ok((self.string()?, self.string()?))).collect()
    }
    fn tx_job(&mut self) -> Result<TxJob, WireError> {
        Ok(TxJob {
            read_only: self.bool()?,
            role: self.string()?,
            settings: self.pairs()?,
            pre_request: self.opt_statement()?,
            statement: self.statement()?,
            explain: self.opt_statement()?,
            checks: Checks { singular: self.bool()?, put: self.bool()?, max_affected: self.opt_i64()? },
            rollback: self.bool()?,
            binary_column: self.opt_i64()?.map(|c| c.clamp(0, i64::from(u16::MAX)) as usize),
            spi_read_only: self.bool()?,
        })
    }
    fn rows(&mut self) -> Result<Rows, WireError> {
        let n = self.count()?;
        let mut rows = Vec::with_capacity(n);
        for _ in 0..n {
            let cols = self.count()?;
            rows.push((0..cols).map(|_| self.opt_bytes()).collect::<Result<_, _>>()?);
        }
        Ok(rows)
    }
    fn error(&mut self) -> Result<Error, WireError> {
        Ok(match self.u8()? {
            1 => Error::Pg {
                error: PgError { sqlstate: self.string()?, message: self.string()?, detail: self.opt_string()?, hint: self.opt_string()? },
                authenticated: self.bool()?,
            },
            2 => Error::Raised(Box::new(RaisedError {
                code: self.string()?,
                message: self.string()?,
                details: self.opt_string()?,
                hint: self.opt_string()?,
                status: u16::try_from(self.u64()?).map_err(|_| WireError("bad status"))?,
                headers: self.pairs()?,
            })),
            3 => Error::PgrstParse(match self.u8()? {
                1 => RaiseError::Message(self.string()?),
                2 => RaiseError::NoDetail,
                3 => RaiseError::Detail(self.string()?),
                _ => return Err(WireError("bad raise error")),
            }),
            4 => Error::Singularity(self.i64()?),
            5 => Error::PutMatchingPk,
            6 => Error::MaxAffectedViolation(self.i64()?),
            7 => Error::InvalidBody(self.string()?),
            8 => Error::NoSchemaCache,
            9 => Error::Internal(self.string()?),
            _ => return Err(WireError("unknown error")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(frame: &[u8]) -> &[u8] {
        let n = frame_len(frame[..4].try_into().unwrap()).unwrap();
        assert_eq!(n, frame.len() - 4);
        &frame[4..]
    }

    fn job() -> TxJob {
        TxJob {
            read_only: true,
            role: "anon".into(),
            settings: vec![("request.method".into(), "GET".into()), ("timezone".into(), "UTC".into())],
            pre_request: Some(Statement { sql: "SELECT f()".into(), params: vec![] }),
            statement: Statement { sql: "SELECT $1, $2".into(), params: vec![Some("1".into()), None] },
            explain: None,
            checks: Checks { singular: true, put: false, max_affected: Some(3) },
            rollback: false,
            binary_column: Some(2),
            spi_read_only: true,
        }
    }

    #[test]
    fn jobs_round_trip() {
        for j in [
            Job::Run { generation: 7, check_fresh: true, activity: "GET /x?y".into(), job: job() },
            Job::Load { param: "{\"schemas\":[]}".into() },
            Job::Ping,
        ] {
            assert_eq!(decode_job(payload(&encode_job(&j))), Ok(j));
        }
    }

    #[test]
    fn replies_round_trip() {
        let pg = PgError { sqlstate: "42501".into(), message: "denied".into(), detail: None, hint: Some("h".into()) };
        let raised = RaisedError {
            code: "123".into(),
            message: "m".into(),
            details: None,
            hint: None,
            status: 402,
            headers: vec![("X-A".into(), "b".into())],
        };
        let rows = vec![vec![None, Some(b"2".to_vec()), Some(vec![0, 159, 146, 150])]];
        for r in [
            Reply::Hello { pid: 4242 },
            Reply::Done(Output { rows, explain: Some("[]".into()) }),
            Reply::Stale,
            Reply::Failed(Error::Pg { error: pg, authenticated: true }),
            Reply::Failed(Error::Raised(Box::new(raised))),
            Reply::Failed(Error::PgrstParse(RaiseError::Detail("x".into()))),
            Reply::Failed(Error::Singularity(2)),
            Reply::Failed(Error::PutMatchingPk),
            Reply::Failed(Error::MaxAffectedViolation(9)),
            Reply::Failed(Error::Internal("boom".into())),
            Reply::Loaded { generation: 3, document: "{}".into() },
            Reply::Pong { generation: 4 },
        ] {
            assert_eq!(decode_reply(payload(&encode_reply(&r))), Ok(r));
        }
    }

    #[test]
    fn frames_are_read_whole() {
        let frame = encode_job(&Job::Ping);
        let mut two = frame.clone();
        two.extend_from_slice(&frame);
        let mut r = two.as_slice();
        assert_eq!(decode_job(&read_frame(&mut r).unwrap()), Ok(Job::Ping));
        assert_eq!(decode_job(&read_frame(&mut r).unwrap()), Ok(Job::Ping));
        assert!(read_frame(&mut r).is_err(), "nothing left");
        assert_eq!(read_frame(&mut &frame[..3]).map_err(|e| e.kind()), Err(std::io::ErrorKind::UnexpectedEof));
    }

    #[test]
    fn malformed_frames_are_errors_not_panics() {
        let frame = encode_job(&Job::Run { generation: 1, check_fresh: false, activity: "a".into(), job: job() });
        let p = payload(&frame);
        for cut in 0..p.len() {
            assert!(decode_job(&p[..cut]).is_err(), "cut at {cut}");
        }
        let mut long = p.to_vec();
        long.push(0);
        assert_eq!(decode_job(&long), Err(WireError("trailing bytes")));
        // a count that claims more items than the frame holds
        assert!(decode_reply(&[2, 255, 255, 255, 255, 255, 255, 255, 127]).is_err());
        assert!(frame_len((MAX_FRAME as u32 + 1).to_le_bytes()).is_err());
    }
}
