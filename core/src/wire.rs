//! The messages between the front and an executor (ARCHITECTURE.md), and their encoding.
//!
//! One message is one frame: a little-endian `u32` length, then the payload. Payloads are a
//! tag byte and fields: integers little-endian, strings and byte strings as a `u32` length and
//! the bytes, options as a presence byte. Bodies and result columns travel as raw bytes, never
//! re-encoded. Decoding never panics: a short or malformed frame is a [`WireError`].
//!
//! Nothing large is copied on the way: an encoded [`Frame`] holds parameters and result
//! columns as parts of their own, shared with where they came from (the request body, the
//! rows), and written out with one vectored write; a decoded message's parameters and columns
//! are slices of the frame it was read into. A parameter travels with its NUL, so the executor
//! hands it to PostgreSQL in place.

use crate::app::{Checks, Output, Rows, TxJob};
use crate::error::{Error, PgError, RaiseError, RaisedError};
use crate::schema_cache::{RuleTargets, TargetEntry};
use crate::sql::Statement;
use crate::text::Text;
use bytes::Bytes;
use std::io::IoSlice;

/// Front → executor. A few at a time per connection at most, so the size of a variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Job {
    /// Run one request's transaction, planned with the schema cache of `generation`; with
    /// `check_fresh`, answer [`Reply::Stale`] if the catalogs changed since.
    Run { generation: u64, check_fresh: bool, activity: String, job: TxJob },
    /// Read the catalogs for the schema cache (`schema_cache::CATALOG_QUERY` with `param`, the
    /// parts it names), or with `relations` only these relations (`partial_catalog_query`;
    /// `param` names them too); with `rules`, the target lists of the views' rules too (of
    /// the views among `relations`, or all).
    Load { param: String, relations: Option<Vec<u32>>, rules: bool },
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
    /// the schema cache's catalog read, and the target lists of the views' rules if the job
    /// asked for them; the front knows the generation it asked at
    Loaded {
        document: String,
        targets: RuleTargets,
    },
    Pong {
        generation: u64,
    },
    /// The executor stops (it was asked to shut down) and reads no more jobs: those written
    /// to it and not answered never began, and can go to another.
    Leaving,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError(pub &'static str);

/// Frames larger than this are refused (PostgreSQL's own limit on one value is 1 GB).
pub const MAX_FRAME: usize = 1 << 30;

/// Values at least this long are parts of their own, not copied into the frame.
const SHARED_MIN: usize = 8 * 1024;

/// One encoded message: the length header, then the payload in parts.
#[derive(Debug, Clone)]
pub struct Frame {
    head: [u8; 4],
    parts: Vec<Bytes>,
}

impl Frame {
    /// The bytes from `offset` on, as slices for a vectored write (empty when all is written).
    pub fn slices_from(&self, mut offset: usize) -> Vec<IoSlice<'_>> {
        let mut out = Vec::with_capacity(self.parts.len() + 1);
        for part in std::iter::once(&self.head[..]).chain(self.parts.iter().map(|p| &p[..])) {
            if offset >= part.len() {
                offset -= part.len();
            } else {
                out.push(IoSlice::new(&part[offset..]));
                offset = 0;
            }
        }
        out
    }

    /// Header and payload, in one buffer (tests, and small frames written by blocking code).
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = self.head.to_vec();
        for part in &self.parts {
            v.extend_from_slice(part);
        }
        v
    }

    /// Write the whole frame to a blocking stream.
    pub fn write_to(&self, w: &mut impl std::io::Write) -> std::io::Result<()> {
        let mut written = 0;
        loop {
            let slices = self.slices_from(written);
            if slices.is_empty() {
                return Ok(());
            }
            match w.write_vectored(&slices) {
                Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
                Ok(n) => written += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

pub fn encode_job(job: &Job) -> Frame {
    let mut w = Writer::frame();
    match job {
        Job::Run { generation, check_fresh, activity, job } => return encode_run(*generation, *check_fresh, activity, job),
        Job::Load { param, relations, rules } => {
            w.u8(2);
            w.bool(*rules);
            catalog_read(&mut w, param, relations.as_deref());
        }
        Job::Ping => w.u8(3),
    }
    w.finish()
}

/// The frame of a [`Job::Run`], from borrowed parts (the job is not copied first).
pub fn encode_run(generation: u64, check_fresh: bool, activity: &str, job: &TxJob) -> Frame {
    let mut w = Writer::frame();
    w.u8(1);
    w.u64(generation);
    w.bool(check_fresh);
    w.str(activity);
    tx_job(&mut w, job);
    w.finish()
}

pub fn decode_job(payload: &Bytes) -> Result<Job, WireError> {
    let mut r = Reader { frame: payload, at: 0 };
    let job = match r.u8()? {
        1 => Job::Run { generation: r.u64()?, check_fresh: r.bool()?, activity: r.string()?, job: r.tx_job()? },
        2 => {
            let rules = r.bool()?;
            let (param, relations) = r.catalog_read()?;
            Job::Load { param, relations, rules }
        }
        3 => Job::Ping,
        _ => return Err(WireError("unknown job")),
    };
    r.end(job)
}

pub fn encode_reply(reply: &Reply) -> Frame {
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
        Reply::Loaded { document, targets } => {
            w.u8(5);
            w.str(document);
            w.u64(targets.len() as u64);
            for (view, entries) in targets {
                w.u64(u64::from(*view));
                w.u64(entries.len() as u64);
                for e in entries {
                    // column numbers are positive; a negative one would be a corrupt rule
                    w.u64(u64::from(e.resno as u32));
                    w.u64(u64::from(e.resorigtbl));
                    w.u64(u64::from(e.resorigcol as u32));
                }
            }
        }
        Reply::Pong { generation } => {
            w.u8(6);
            w.u64(*generation);
        }
        Reply::Leaving => w.u8(8),
    }
    w.finish()
}

pub fn decode_reply(payload: &Bytes) -> Result<Reply, WireError> {
    let mut r = Reader { frame: payload, at: 0 };
    let reply = match r.u8()? {
        1 => Reply::Hello { pid: r.u64()? as u32 as i32 },
        2 => Reply::Done(Output { rows: r.rows()?, explain: r.opt_string()? }),
        3 => Reply::Stale,
        4 => Reply::Failed(r.error()?),
        5 => Reply::Loaded { document: r.string()?, targets: r.rule_targets()? },
        6 => Reply::Pong { generation: r.u64()? },
        8 => Reply::Leaving,
        _ => return Err(WireError("unknown reply")),
    };
    r.end(reply)
}

/// The first read of a frame asks for this much: a small frame, header and all, is one read.
pub const FIRST_READ: usize = 8192;

/// Frames up to this long are copied out of a [`FrameReader`]'s buffer; longer ones take it.
const COPIED_UP_TO: usize = 2048;

/// A frame's buffer and what is held as long as it is.
struct Held<H> {
    buf: Vec<u8>,
    _hold: H,
}

impl<H> AsRef<[u8]> for Held<H> {
    fn as_ref(&self) -> &[u8] {
        &self.buf
    }
}

/// Frames read off one stream. The front may write an executor's next job before it has read
/// the last reply (`front::pool`), so one read can end inside the frame after the one it
/// completes: those bytes are kept for the next frame. A small frame takes one read; a large
/// one is read into one buffer of its exact size, which its payload is a slice of.
///
/// The reading itself is the caller's (`read_frame` here on a blocking stream, the front's
/// reader task on tokio's): `room` is where to read, `filled` says how much was.
#[derive(Debug, Default)]
pub struct FrameReader {
    /// bytes `[..have]` are read, the rest is room for the next read
    buf: Vec<u8>,
    have: usize,
}

impl FrameReader {
    /// The next frame's payload if it has been read whole; the rest stays for the next one.
    pub fn take(&mut self) -> Result<Option<Bytes>, WireError> {
        self.take_holding::<()>(&mut None)
    }

    /// [`take`](Self::take), and `hold` (taken out of the option) is for the frame taken: one
    /// handed out in a buffer of its own keeps it alive as long as a slice of its payload is: how the front counts a
    /// large reply against its budget until the response made of it has been sent.
    pub fn take_holding<H: Send + 'static>(&mut self, hold: &mut Option<H>) -> Result<Option<Bytes>, WireError> {
        let Some(total) = self.announced()? else { return Ok(None) };
        if self.have < total {
            return Ok(None);
        }
        if total <= COPIED_UP_TO {
            // a small frame is copied out: the buffer is kept for the next reads, instead of a
            // new one allocated and zeroed for each frame
            let frame = Bytes::copy_from_slice(&self.buf[4..total]);
            // nothing to keep alive: the buffer stays with the reader
            drop(hold.take());
            self.buf.copy_within(total..self.have, 0);
            self.have -= total;
            return Ok(Some(frame));
        }
        // the next frame's first bytes, if any, move to a buffer of their own (less than one read)
        let next = self.buf[total..self.have].to_vec();
        self.have = next.len();
        let mut frame = std::mem::replace(&mut self.buf, next);
        frame.truncate(total);
        let frame = match hold.take() {
            Some(hold) => Bytes::from_owner(Held { buf: frame, _hold: hold }),
            None => Bytes::from(frame),
        };
        Ok(Some(frame.slice(4..)))
    }

    /// The size of the buffer the frame begun will be handed out in (at least its whole
    /// length; a frame shorter than the first read keeps that read's buffer), once its header
    /// is read, if it is to have one of its own (a small one is copied out, and the buffer
    /// reused).
    pub fn own_buffer_size(&self) -> Option<usize> {
        let total = self.announced().ok().flatten().filter(|&total| total > COPIED_UP_TO)?;
        Some(total.max(self.buf.len()))
    }

    /// Where the next read goes: the rest of the frame begun (its whole size is allocated once
    /// its header is in), or a first read's worth.
    pub fn room(&mut self) -> Result<&mut [u8], WireError> {
        let want = self.announced()?.unwrap_or(FIRST_READ).max(self.have + 1);
        if self.buf.len() < want {
            // exactly: a frame's payload keeps the whole buffer alive while its slices live
            self.buf.reserve_exact(want - self.buf.len());
            self.buf.resize(want, 0);
        }
        Ok(&mut self.buf[self.have..])
    }

    /// `n` bytes were read into `room`.
    pub fn filled(&mut self, n: usize) {
        self.have = (self.have + n).min(self.buf.len());
    }

    /// Has a whole frame been read already (so that there is no need to wait for the stream)?
    pub fn has_frame(&self) -> bool {
        matches!(self.announced(), Ok(Some(total)) if self.have >= total)
    }

    /// The length, header included, of the frame begun, once its header is read.
    fn announced(&self) -> Result<Option<usize>, WireError> {
        match self.buf.get(..4) {
            Some(header) if self.have >= 4 => Ok(Some(4 + frame_len([header[0], header[1], header[2], header[3]])?)),
            _ => Ok(None),
        }
    }

    /// The next frame's payload from a blocking stream (EOF before it is whole is an error,
    /// as is a bad length).
    pub fn read_frame(&mut self, r: &mut impl std::io::Read) -> std::io::Result<Bytes> {
        loop {
            if let Some(frame) = self.take().map_err(invalid)? {
                return Ok(frame);
            }
            let n = read_some(r, self.room().map_err(invalid)?)?;
            self.filled(n);
        }
    }
}

/// Read one frame's payload from a blocking stream that carries nothing else before it is
/// answered (an executor's hello).
pub fn read_frame(r: &mut impl std::io::Read) -> std::io::Result<Bytes> {
    FrameReader::default().read_frame(r)
}

fn read_some(r: &mut impl std::io::Read, into: &mut [u8]) -> std::io::Result<usize> {
    loop {
        match r.read(into) {
            Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

fn invalid(e: WireError) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, e.0)
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

/// The fields of a [`Job::Load`] after `rules`: the relations last, up to the frame's end.
fn catalog_read(w: &mut Writer, param: &str, relations: Option<&[u32]>) {
    w.str(param);
    w.bool(relations.is_some());
    for relid in relations.into_iter().flatten() {
        w.u64(u64::from(*relid));
    }
}

fn rows(w: &mut Writer, rows: &Rows) {
    w.u64(rows.len() as u64);
    for row in rows {
        w.u64(row.len() as u64);
        for col in row {
            w.opt_shared(col.as_ref());
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

/// Builds a frame: small fields are copied into the current part, large shared values become
/// parts of their own.
struct Writer {
    parts: Vec<Bytes>,
    cur: Vec<u8>,
}

impl Writer {
    fn frame() -> Writer {
        Writer { parts: vec![], cur: Vec::with_capacity(256) }
    }
    fn finish(mut self) -> Frame {
        self.flush();
        let n: usize = self.parts.iter().map(Bytes::len).sum();
        Frame { head: (n as u32).to_le_bytes(), parts: self.parts }
    }
    fn flush(&mut self) {
        if !self.cur.is_empty() {
            self.parts.push(Bytes::from(std::mem::take(&mut self.cur)));
        }
    }
    fn u8(&mut self, v: u8) {
        self.cur.push(v);
    }
    fn bool(&mut self, v: bool) {
        self.cur.push(v as u8);
    }
    fn u64(&mut self, v: u64) {
        self.cur.extend_from_slice(&v.to_le_bytes());
    }
    fn i64(&mut self, v: i64) {
        self.cur.extend_from_slice(&v.to_le_bytes());
    }
    fn bytes(&mut self, v: &[u8]) {
        self.cur.extend_from_slice(&(v.len() as u32).to_le_bytes());
        self.cur.extend_from_slice(v);
    }
    /// Like `bytes`, but a large value is not copied: the frame shares it.
    fn shared(&mut self, v: &Bytes) {
        if v.len() < SHARED_MIN {
            return self.bytes(v);
        }
        self.cur.extend_from_slice(&(v.len() as u32).to_le_bytes());
        self.flush();
        self.parts.push(v.clone());
    }
    fn str(&mut self, v: &str) {
        self.bytes(v.as_bytes());
    }
    fn present(&mut self, v: bool) {
        self.cur.push(v as u8);
    }
    fn opt_shared(&mut self, v: Option<&Bytes>) {
        self.present(v.is_some());
        if let Some(b) = v {
            self.shared(b);
        }
    }
    fn opt_str(&mut self, v: Option<&str>) {
        self.present(v.is_some());
        if let Some(s) = v {
            self.str(s);
        }
    }
    fn opt_i64(&mut self, v: Option<i64>) {
        self.present(v.is_some());
        if let Some(n) = v {
            self.i64(n);
        }
    }
    fn statement(&mut self, s: &Statement) {
        self.str(&s.sql);
        self.u64(s.params.len() as u64);
        for p in &s.params {
            // with its NUL
            self.opt_shared(p.as_ref().map(Text::buffer));
        }
    }
    fn opt_statement(&mut self, s: Option<&Statement>) {
        self.present(s.is_some());
        if let Some(s) = s {
            self.statement(s);
        }
    }
}

/// Reads a frame's payload; byte strings come out as slices of it.
struct Reader<'a> {
    frame: &'a Bytes,
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], WireError> {
        let rest = &self.frame[self.at..];
        if rest.len() < n {
            return Err(WireError("short frame"));
        }
        self.at += n;
        Ok(&rest[..n])
    }
    fn left(&self) -> usize {
        self.frame.len() - self.at
    }
    fn end<T>(&self, value: T) -> Result<T, WireError> {
        if self.left() == 0 {
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
        if n > self.left() as u64 {
            return Err(WireError("count beyond the frame"));
        }
        Ok(n as usize)
    }
    /// A byte string: a slice of the frame, not a copy.
    fn shared(&mut self) -> Result<Bytes, WireError> {
        let b: [u8; 4] = self.take(4)?.try_into().map_err(|_| WireError("short frame"))?;
        let n = u32::from_le_bytes(b) as usize;
        let start = self.at;
        self.take(n)?;
        Ok(self.frame.slice(start..start + n))
    }
    fn string(&mut self) -> Result<String, WireError> {
        let b: [u8; 4] = self.take(4)?.try_into().map_err(|_| WireError("short frame"))?;
        let n = u32::from_le_bytes(b) as usize;
        String::from_utf8(self.take(n)?.to_vec()).map_err(|_| WireError("text is not UTF-8"))
    }
    fn present(&mut self) -> Result<bool, WireError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(WireError("bad option")),
        }
    }
    fn opt_shared(&mut self) -> Result<Option<Bytes>, WireError> {
        Ok(if self.present()? { Some(self.shared()?) } else { None })
    }
    fn opt_text(&mut self) -> Result<Option<Text>, WireError> {
        match self.opt_shared()? {
            None => Ok(None),
            Some(b) => Text::from_nul_terminated(b).map(Some).ok_or(WireError("parameter without its NUL")),
        }
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
        let params = (0..n).map(|_| self.opt_text()).collect::<Result<_, _>>()?;
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
    fn catalog_read(&mut self) -> Result<(String, Option<Vec<u32>>), WireError> {
        let param = self.string()?;
        let relations = if self.bool()? {
            let mut relids = Vec::new();
            while self.at < self.frame.len() {
                relids.push(self.u32()?);
            }
            Some(relids)
        } else {
            None
        };
        Ok((param, relations))
    }
    fn u32(&mut self) -> Result<u32, WireError> {
        u32::try_from(self.u64()?).map_err(|_| WireError("bad number"))
    }
    fn rule_targets(&mut self) -> Result<RuleTargets, WireError> {
        let n = self.count()?;
        let mut rules = Vec::with_capacity(n);
        for _ in 0..n {
            let view = self.u32()?;
            let entries = self.count()?;
            let entries = (0..entries)
                .map(|_| Ok(TargetEntry { resno: self.u32()? as i32, resorigtbl: self.u32()?, resorigcol: self.u32()? as i32 }))
                .collect::<Result<_, WireError>>()?;
            rules.push((view, entries));
        }
        Ok(rules)
    }
    fn rows(&mut self) -> Result<Rows, WireError> {
        let n = self.count()?;
        let mut rows = Vec::with_capacity(n);
        for _ in 0..n {
            let cols = self.count()?;
            rows.push((0..cols).map(|_| self.opt_shared()).collect::<Result<_, _>>()?);
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

    fn payload(frame: &Frame) -> Bytes {
        let frame = frame.to_vec();
        let n = frame_len(frame[..4].try_into().unwrap()).unwrap();
        assert_eq!(n, frame.len() - 4);
        Bytes::copy_from_slice(&frame[4..])
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
            Job::Load { param: "{\"schemas\":[]}".into(), relations: None, rules: true },
            Job::Load { param: "{}".into(), relations: Some(vec![16384, u32::MAX]), rules: false },
            Job::Load { param: "{}".into(), relations: Some(vec![]), rules: true },
            Job::Ping,
        ] {
            assert_eq!(decode_job(&payload(&encode_job(&j))), Ok(j));
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
        let rows = vec![vec![None, Some(Bytes::from_static(b"2")), Some(Bytes::from_static(&[0, 159, 146, 150]))]];
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
            Reply::Loaded { document: "x".repeat(20_000), targets: vec![] },
            Reply::Loaded {
                document: "{}".into(),
                targets: vec![
                    (
                        16384,
                        vec![
                            TargetEntry { resno: 1, resorigtbl: 16390, resorigcol: 2 },
                            TargetEntry { resno: 2, resorigtbl: 0, resorigcol: 0 },
                        ],
                    ),
                    (u32::MAX, vec![]),
                ],
            },
            Reply::Pong { generation: 4 },
            Reply::Leaving,
        ] {
            assert_eq!(decode_reply(&payload(&encode_reply(&r))), Ok(r));
        }
    }

    #[test]
    fn large_values_are_shared_not_copied() {
        let body = Text::from("x".repeat(SHARED_MIN));
        let mut tx = job();
        tx.statement.params = vec![Some(body.clone()), Some("1".into())];
        let frame = encode_run(1, false, "POST /t", &tx);
        assert!(frame.parts.iter().any(|p| p.as_ptr() == body.buffer().as_ptr()), "the body is a part of the frame");
        let decoded = decode_job(&payload(&frame)).unwrap();
        let Job::Run { job: decoded, .. } = decoded else { panic!("a run") };
        assert_eq!(decoded.statement.params, tx.statement.params);

        let column = Bytes::from(vec![7u8; SHARED_MIN * 2]);
        let reply = encode_reply(&Reply::Done(Output { rows: vec![vec![Some(column.clone())]], explain: None }));
        assert!(reply.parts.iter().any(|p| p.as_ptr() == column.as_ptr()));
        let frame = Bytes::from(reply.to_vec()).slice(4..);
        let Ok(Reply::Done(out)) = decode_reply(&frame) else { panic!("done") };
        let col = out.rows[0][0].as_ref().unwrap();
        assert!(frame.as_ptr_range().contains(&col.as_ptr()), "decoded columns are slices of the frame");
    }

    #[test]
    fn vectored_writes_resume_where_they_stopped() {
        let tx = Job::Run { generation: 1, check_fresh: false, activity: "a".repeat(SHARED_MIN), job: job() };
        let frame = encode_job(&tx);
        let whole = frame.to_vec();
        for offset in [0, 1, 4, 5, whole.len() - 1, whole.len()] {
            let rest: Vec<u8> = frame.slices_from(offset).iter().flat_map(|s| s.to_vec()).collect();
            assert_eq!(rest, whole[offset..]);
        }
        // a writer that takes 3 bytes at a time
        struct Slow(Vec<u8>);
        impl std::io::Write for Slow {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                let n = b.len().min(3);
                self.0.extend_from_slice(&b[..n]);
                Ok(n)
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut slow = Slow(vec![]);
        frame.write_to(&mut slow).unwrap();
        assert_eq!(slow.0, whole);
    }

    /// Hands out at most `step` bytes per read, as a socket may.
    struct Trickle<'a>(&'a [u8], usize);
    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, into: &mut [u8]) -> std::io::Result<usize> {
            let n = into.len().min(self.1).min(self.0.len());
            into[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn frames_are_read_whole() {
        let frame = encode_job(&Job::Ping).to_vec();
        assert_eq!(decode_job(&read_frame(&mut frame.as_slice()).unwrap()), Ok(Job::Ping));
        assert_eq!(read_frame(&mut &frame[..3]).map_err(|e| e.kind()), Err(std::io::ErrorKind::UnexpectedEof));
        // a large frame, arriving a few bytes at a time
        let big = encode_job(&Job::Load { param: "p".repeat(3 * FIRST_READ), relations: None, rules: false }).to_vec();
        for step in [1, 3, 4096, usize::MAX] {
            let Ok(Job::Load { param, .. }) = decode_job(&read_frame(&mut Trickle(&big, step)).unwrap()) else { panic!("a load") };
            assert_eq!(param.len(), 3 * FIRST_READ);
        }
    }

    #[test]
    fn frames_behind_one_another_are_read_one_by_one() {
        // a job written before the last reply was read: frames of every size, back to back,
        // arriving in reads that end anywhere
        let big = encode_job(&Job::Load { param: "p".repeat(3 * FIRST_READ), relations: None, rules: false }).to_vec();
        let ping = encode_job(&Job::Ping).to_vec();
        let stream: Vec<u8> = [&ping[..], &big, &ping, &ping, &big, &ping].concat();
        for step in [1, 5, 4096, FIRST_READ + 3, usize::MAX] {
            let mut trickle = Trickle(&stream, step);
            let mut reader = FrameReader::default();
            let sizes: Vec<usize> = (0..6).map(|_| reader.read_frame(&mut trickle).unwrap().len()).collect();
            assert_eq!(
                sizes,
                [ping.len() - 4, big.len() - 4, ping.len() - 4, ping.len() - 4, big.len() - 4, ping.len() - 4],
                "step {step}"
            );
            assert!(!reader.has_frame());
            assert_eq!(reader.read_frame(&mut trickle).map_err(|e| e.kind()), Err(std::io::ErrorKind::UnexpectedEof));
        }
        // a whole frame already read is there without another read
        let mut reader = FrameReader::default();
        let pings = [&ping[..], &ping].concat();
        let mut two = Trickle(&pings, usize::MAX);
        reader.read_frame(&mut two).unwrap();
        assert!(reader.has_frame());
        assert_eq!(decode_job(&reader.take().unwrap().unwrap()), Ok(Job::Ping));
        // a bad length is an error, not an allocation
        let mut reader = FrameReader::default();
        let huge = (MAX_FRAME as u32 + 1).to_le_bytes();
        assert_eq!(reader.read_frame(&mut &huge[..]).map_err(|e| e.kind()), Err(std::io::ErrorKind::InvalidData));
    }

    #[test]
    fn a_large_frame_keeps_what_it_holds_alive_as_long_as_its_slices() {
        let big = encode_job(&Job::Load { param: "p".repeat(3 * FIRST_READ), relations: None, rules: false }).to_vec();
        let ping = encode_job(&Job::Ping).to_vec();
        let medium = encode_job(&Job::Load { param: "m".repeat(3000), relations: None, rules: false }).to_vec();
        let stream: Vec<u8> = [&big[..], &ping, &medium].concat();
        let mut trickle = Trickle(&stream, FIRST_READ);
        let mut reader = FrameReader::default();
        let held = std::sync::Arc::new(());
        let mut hold = None;
        let frame = loop {
            if hold.is_none() && reader.own_buffer_size().is_some() {
                assert_eq!(reader.own_buffer_size(), Some(big.len()));
                hold = Some(held.clone());
            }
            if let Some(frame) = reader.take_holding(&mut hold).unwrap() {
                break frame;
            }
            let n = read_some(&mut trickle, reader.room().unwrap()).unwrap();
            reader.filled(n);
        };
        assert!(hold.is_none());
        let part = frame.slice(10..20);
        drop(frame);
        assert_eq!(std::sync::Arc::strong_count(&held), 2, "a slice of the frame keeps it");
        drop(part);
        assert_eq!(std::sync::Arc::strong_count(&held), 1);
        // a small frame is copied out: what it was given goes at once
        assert_eq!(reader.own_buffer_size(), None);
        let mut hold = Some(held.clone());
        let n = read_some(&mut trickle, reader.room().unwrap()).unwrap();
        reader.filled(n);
        assert_eq!(decode_job(&reader.take_holding(&mut hold).unwrap().unwrap()), Ok(Job::Ping));
        assert!(hold.is_none());
        assert_eq!(std::sync::Arc::strong_count(&held), 1);
        // a frame shorter than a first read (which took it in after the small one) keeps that
        // read's whole buffer, and counts it
        assert_eq!(reader.own_buffer_size(), Some(FIRST_READ));
        assert_eq!(reader.take().unwrap().unwrap().len(), medium.len() - 4);
    }

    #[test]
    fn malformed_frames_are_errors_not_panics() {
        let frame = encode_job(&Job::Run { generation: 1, check_fresh: false, activity: "a".into(), job: job() });
        let p = payload(&frame);
        for cut in 0..p.len() {
            assert!(decode_job(&p.slice(..cut)).is_err(), "cut at {cut}");
        }
        let mut long = p.to_vec();
        long.push(0);
        assert_eq!(decode_job(&Bytes::from(long)), Err(WireError("trailing bytes")));
        // a count that claims more items than the frame holds
        assert!(decode_reply(&Bytes::from_static(&[2, 255, 255, 255, 255, 255, 255, 255, 127])).is_err());
        assert!(frame_len((MAX_FRAME as u32 + 1).to_le_bytes()).is_err());
    }
}
