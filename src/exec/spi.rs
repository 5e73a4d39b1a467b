//! Running a statement through SPI with text parameters, as the extended protocol does.
//!
//! Core generates SQL with `$n` parameters whose types it does not know (`col = $1` where
//! `col` is an integer). As with a client sending untyped text parameters, the types are
//! inferred at prepare time (`setup_parse_variable_parameters`) and each text value goes
//! through its type's input function. Prepared plans are kept (`SPI_keepplan`) and cached by
//! SQL text: planning is the biggest cost of a short request, and core's SQL is deterministic.
//!
//! A parameter arrives NUL-terminated (`core::text::Text`): the input functions of the types a
//! body is bound as read it in place, so a large body is not copied before PostgreSQL's own copy.

use super::Tx;
use bytes::Bytes;
use pgrx::pg_sys;
use postgrest_core::app::Rows;
use postgrest_core::error::Error;
use postgrest_core::text::Text;
use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::{c_int, c_void, CStr, CString};

// src/include/parser/parse_param.h (PostgreSQL 15); not in pgrx's bindings. Only declared for
// PostgreSQL 15: another version fails to build (src/lib.rs) until this is checked against its header.
#[cfg(feature = "pg15")]
extern "C-unwind" {
    /// `void setup_parse_variable_parameters(ParseState *pstate, Oid **paramTypes, int *numParams)`
    fn setup_parse_variable_parameters(pstate: *mut pg_sys::ParseState, param_types: *mut *mut pg_sys::Oid, num_params: *mut c_int);
}

/// A kept plan and how to turn each text parameter into a Datum of its inferred type.
struct Prepared {
    plan: pg_sys::SPIPlanPtr,
    inputs: Vec<Input>,
}

/// How one parameter's text becomes a Datum.
#[derive(Clone, Copy)]
struct Input {
    func: pg_sys::Oid,
    ioparam: pg_sys::Oid,
    /// the input function only reads its C string: the parameter's buffer can be handed to it
    /// as is (array_in, for one, writes into its input)
    reads_only: bool,
}

/// Types whose input function is known not to write into its argument: the types request
/// bodies are bound as (a domain over one runs domain_in, which is not in this list).
fn reads_only(typ: pg_sys::Oid) -> bool {
    [pg_sys::JSONOID, pg_sys::JSONBOID, pg_sys::TEXTOID, pg_sys::BYTEAOID].contains(&typ)
}

/// The parser hook's state: the parameter types inferred so far (palloc'd by the parser).
#[repr(C)]
struct VarParams {
    types: *mut pg_sys::Oid,
    count: c_int,
}

/// The `parserSetup` hook [`prepare`] hands to `SPI_prepare_params`.
///
/// # Safety
///
/// Called only by PostgreSQL's parser, on the backend's thread, during the `SPI_prepare_params`
/// call in [`prepare`], with a valid `pstate` and `arg` = the `&mut VarParams` passed there. The
/// hook is recorded in the probe plan too, but that plan is never revalidated: it is freed right
/// after, and on an ERROR the transaction abort frees it with the rest of SPI's memory.
unsafe extern "C-unwind" fn parser_setup(pstate: *mut pg_sys::ParseState, arg: *mut c_void) {
    let vp = arg as *mut VarParams;
    // SAFETY: `vp` points to prepare()'s live `VarParams` (see above); the parser keeps the two
    // field pointers only in `pstate`, which does not outlive that SPI_prepare_params call, and
    // `types` is a palloc'd chunk (in PREPARE_CONTEXT), as the parser's repalloc requires.
    unsafe { setup_parse_variable_parameters(pstate, &mut (*vp).types, &mut (*vp).count) };
}

thread_local! {
    static PLANS: RefCell<HashMap<String, Prepared>> = RefCell::new(HashMap::new());
}

/// Kept plans live in the worker's memory until dropped: a bound keeps a stream of distinct
/// queries (every select list is its own SQL text) from growing it without end.
const MAX_KEPT_PLANS: usize = 2000;

/// Forget the kept plans (the schema changed: a plan may now be wrong or fail), but those of
/// the statements `keep` names (they read the system catalogs only).
pub fn forget_plans(keep: impl Fn(&str) -> bool) {
    PLANS.with(|p| {
        let mut plans = p.borrow_mut();
        let forgotten: Vec<String> = plans.keys().filter(|sql| !keep(sql)).cloned().collect();
        for prepared in forgotten.iter().filter_map(|sql| plans.remove(sql)) {
            // SAFETY: on the backend's thread (PLANS is thread-local); each plan came from
            // SPI_prepare + SPI_keepplan and is freed once, as remove() takes it out of the map.
            // None is executing: the only caller, the executor's loop, calls this between jobs,
            // outside any transaction, so no SPI statement is running.
            // SPI_freeplan needs no SPI connection or transaction (it drops the plan's memory).
            unsafe { pg_sys::SPI_freeplan(prepared.plan) };
        }
    });
}

/// Run `sql` with text parameters (None = NULL) and return every row as text columns.
pub fn query(tx: &Tx, sql: &str, params: &[Option<Text>], read_only: bool) -> Result<Vec<Vec<Option<String>>>, Error> {
    let rows = query_bytes(tx, sql, params, read_only, None)?;
    Ok(rows.into_iter().map(|row| row.into_iter().map(|c| c.map(|v| String::from_utf8_lossy(&v).into_owned())).collect()).collect())
}

/// Run `sql` like [`query`], with the column at index `binary` (0-based) read through its
/// type's binary send function instead of its text output: how PostgREST reads the body,
/// so that a bytea body is its raw bytes and a jsonb body jsonb's binary form.
pub fn query_bytes(_tx: &Tx, sql: &str, params: &[Option<Text>], read_only: bool, binary: Option<usize>) -> Result<Rows, Error> {
    // SAFETY: inside a transaction (a &Tx exists), on the backend's main thread. Paired with the
    // SPI_finish below, or popped by the transaction abort (AtEOXact_SPI) after an ERROR.
    unsafe {
        if pg_sys::SPI_connect() < 0 {
            return Err(Error::Internal("SPI_connect failed".into()));
        }
    }
    // On a PostgreSQL error the guard unwinds past SPI_finish; the transaction abort then
    // cleans the SPI stack (calling SPI_finish while unwinding could raise a second error).
    let result = run_prepared(sql, params, read_only, binary);
    // SAFETY: closes the SPI_connect above (run_prepared does not connect or finish); every row
    // was already copied out of the SPI memory this frees.
    unsafe { pg_sys::SPI_finish() };
    result
}

fn run_prepared(sql: &str, params: &[Option<Text>], read_only: bool, binary: Option<usize>) -> Result<Rows, Error> {
    let (plan, inputs) = PLANS.with(|p| -> Result<_, Error> {
        if let Some(prep) = p.borrow().get(sql) {
            return Ok((prep.plan, prep.inputs.clone()));
        }
        let prep = prepare(sql)?;
        let out = (prep.plan, prep.inputs.clone());
        let mut plans = p.borrow_mut();
        if plans.len() >= MAX_KEPT_PLANS {
            for (_, old) in plans.drain() {
                // SAFETY: kept plans, each freed once (drain removes it) and none executing; the
                // plan about to run (`prep`) is not in the map yet. Connected to SPI in a transaction.
                unsafe { pg_sys::SPI_freeplan(old.plan) };
            }
        }
        plans.insert(sql.to_string(), prep);
        Ok(out)
    })?;
    if inputs.len() != params.len() {
        return Err(Error::Internal(format!("statement has {} parameters, {} given", inputs.len(), params.len())));
    }

    let mut values = Vec::with_capacity(params.len());
    let mut nulls = Vec::with_capacity(params.len());
    for (value, input) in params.iter().zip(&inputs) {
        match value {
            None => {
                values.push(pg_sys::Datum::from(0));
                nulls.push(b'n' as std::ffi::c_char);
            }
            Some(text) => {
                if text.has_nul() {
                    return Err(Error::InvalidBody("a value contains a NUL character".into()));
                }
                // a copy for an input function that may write into it
                let copy = (!input.reads_only).then(|| text.with_nul().to_vec());
                let cstr = copy.as_deref().unwrap_or(text.with_nul()).as_ptr() as *mut std::ffi::c_char;
                // SAFETY: connected to SPI inside the request's transaction; `func`/`ioparam` are
                // getTypeInputInfo's answer for this parameter's type; `cstr` is NUL-terminated
                // (Text's invariant, no NUL before: checked above) and outlives the call (input
                // functions read their cstring, they do not keep it), and it is written to only
                // if it is our own copy (`reads_only`). A bad value raises an ERROR that the
                // transaction guard catches. The Datum lives in SPI's procedure context, i.e.
                // until SPI_finish, after SPI_execute_plan below.
                let datum = unsafe { pg_sys::OidInputFunctionCall(input.func, cstr, input.ioparam, -1) };
                values.push(datum);
                nulls.push(b' ' as std::ffi::c_char);
            }
        }
    }

    super::timeout::arm();
    // SAFETY: connected to SPI inside the request's transaction; `plan` is a kept plan that
    // nothing freed since it was looked up; `values` and `nulls` hold exactly the plan's nargs
    // entries (inputs has one per prepared type, and its length was checked against params).
    let rc = unsafe { pg_sys::SPI_execute_plan(plan, values.as_mut_ptr(), nulls.as_ptr(), read_only, 0) };
    super::timeout::disarm();
    if rc < 0 {
        return Err(Error::Internal(format!("SPI_execute_plan failed: {rc}")));
    }
    // SAFETY: SPI_execute_plan just succeeded on this SPI connection, and SPI_finish (in
    // query_bytes) runs only after read_rows has copied the rows out.
    unsafe { read_rows(binary) }
}

thread_local! {
    static PREPARE_CONTEXT: std::cell::Cell<pg_sys::MemoryContext> = const { std::cell::Cell::new(std::ptr::null_mut()) };
}

fn prepare_context() -> pg_sys::MemoryContext {
    PREPARE_CONTEXT.with(|c| {
        if c.get().is_null() {
            // SAFETY: on the backend's thread; TopMemoryContext lives as long as the process, the
            // name is a 'static C string (the context keeps the pointer), and the sizes pass
            // AllocSetContextCreate's checks (min 0, init 1 kB, max 8 MB >= init).
            c.set(unsafe {
                pg_sys::AllocSetContextCreateExtended(pg_sys::TopMemoryContext, c"postgrest_ext prepare".as_ptr(), 0, 1024, 8 * 1024 * 1024)
            });
        }
        c.get()
    })
}

/// Prepare `sql` once with variable parameters to infer their types (as the extended protocol
/// does), then again with those types fixed, and keep that plan. The kept plan must not
/// reference our parser hook: plan revalidation after a schema change would call it with
/// an argument that no longer exists.
fn prepare(sql: &str) -> Result<Prepared, Error> {
    let c = CString::new(sql).map_err(|_| Error::Internal("SQL contains NUL".into()))?;
    // The parser grows the type array with repalloc, which keeps the chunk's context: starting
    // it in a context of our own keeps the inferred types past the reset of SPI's executor
    // context. Reset here, not after use, so a failed prepare leaks nothing either.
    let cx = prepare_context();
    // SAFETY: `cx` is our own live context and nothing in it is in use: the previous prepare's
    // types were copied into a Vec before it returned. The allocation is one Oid.
    let types = unsafe {
        pg_sys::MemoryContextReset(cx);
        pg_sys::MemoryContextAllocZero(cx, std::mem::size_of::<pg_sys::Oid>())
    } as *mut pg_sys::Oid;
    let mut vp = VarParams { types, count: 0 };
    // SAFETY: only reached from query_bytes, so connected to SPI inside a transaction, on the
    // backend's thread. `c` outlives both prepares; parser_setup gets `&mut vp`, alive for the
    // whole SPI_prepare_params call; afterwards vp.types holds vp.count Oids (the parser's array,
    // in `cx`, not reset before the next prepare). SPI_prepare copies `types`, which outlives it.
    // getTypeInputInfo raises an ERROR (caught by the guard) for a type without input function.
    // SPI_result is a plain int of this backend, read once.
    unsafe {
        let probe = pg_sys::SPI_prepare_params(c.as_ptr(), Some(parser_setup), &mut vp as *mut _ as *mut c_void, 0);
        if probe.is_null() {
            return Err(Error::Internal(format!("SPI_prepare failed: {}", std::ptr::addr_of!(pg_sys::SPI_result).read())));
        }
        let mut types: Vec<pg_sys::Oid> = (0..vp.count.max(0) as usize)
            .map(|i| {
                let t = *vp.types.add(i);
                // a parameter nothing constrained (`SELECT $1`) is text, as clients expect
                if t == pg_sys::InvalidOid || t == pg_sys::UNKNOWNOID {
                    pg_sys::TEXTOID
                } else {
                    t
                }
            })
            .collect();
        pg_sys::SPI_freeplan(probe);
        let plan = pg_sys::SPI_prepare(c.as_ptr(), types.len() as c_int, types.as_mut_ptr());
        if plan.is_null() {
            return Err(Error::Internal(format!("SPI_prepare failed: {}", std::ptr::addr_of!(pg_sys::SPI_result).read())));
        }
        let inputs = types
            .iter()
            .map(|typ| {
                let (mut func, mut ioparam) = (pg_sys::InvalidOid, pg_sys::InvalidOid);
                pg_sys::getTypeInputInfo(*typ, &mut func, &mut ioparam);
                Input { func, ioparam, reads_only: reads_only(*typ) }
            })
            .collect();
        pg_sys::SPI_keepplan(plan);
        Ok(Prepared { plan, inputs })
    }
}

/// The rows of the last SPI statement, copied out of SPI's memory (freed by SPI_finish).
///
/// # Safety
///
/// Call on the backend's thread, connected to SPI, after a successful SPI_execute_plan and
/// before SPI_finish (SPI_tuptable and SPI_processed then describe that statement).
unsafe fn read_rows(binary: Option<usize>) -> Result<Rows, Error> {
    // SAFETY: a plain global of this backend; per the contract above it is null or the last
    // statement's tuple table, valid until SPI_finish
    let table = unsafe { pg_sys::SPI_tuptable };
    if table.is_null() {
        return Ok(vec![]);
    }
    // SAFETY: `table` is that non-null tuple table; its tupdesc describes every row in it
    let (n, tupdesc, natts) = unsafe {
        let n = pg_sys::SPI_processed as usize;
        let tupdesc = (*table).tupdesc;
        (n, tupdesc, (*tupdesc).natts)
    };
    // the send function is looked up once per statement, not per row
    let send = match binary {
        // SAFETY: `tupdesc` is valid (above) and the guard makes i + 1 a column in 1..=natts
        Some(i) if (i as c_int) < natts => Some((i as c_int + 1, unsafe { send_function(tupdesc, i as c_int + 1) })),
        _ => None,
    };
    let mut rows = Vec::with_capacity(n);
    for i in 0..n {
        // SAFETY: i < SPI_processed, and a tuple table holds SPI_processed rows in `vals`: for a
        // SELECT or RETURNING, _SPI_pquery raises "consistency check on SPI tuple count failed"
        // otherwise; for a utility statement returning rows, SPI sets processed = numvals
        let tuple = unsafe { *(*table).vals.add(i) };
        let mut row = Vec::with_capacity(natts as usize);
        for col in 1..=natts {
            row.push(match send {
                // SAFETY: `tuple` is a row of the table `tupdesc` describes, `col` is in 1..=natts,
                // `func` is how to read that column (send_function above); SPI memory is
                // alive until SPI_finish, after this function returns
                Some((bin, func)) if bin == col => unsafe { binary_value(tuple, tupdesc, col, func) },
                // SAFETY: as above, for the column's text output
                _ => unsafe { text_value(tuple, tupdesc, col) },
            });
        }
        rows.push(row);
    }
    Ok(rows)
}

/// The column's text output (its type's output function), None for NULL.
///
/// # Safety
///
/// `tuple` must be a live row described by `tupdesc` and `col` one of its columns (1-based), on
/// the backend's thread, connected to SPI.
unsafe fn text_value(tuple: pg_sys::HeapTuple, tupdesc: pg_sys::TupleDesc, col: c_int) -> Option<Bytes> {
    // SAFETY: per this function's contract; SPI_getvalue returns NULL for a NULL column, else a
    // fresh palloc'd NUL-terminated string
    let v = unsafe { pg_sys::SPI_getvalue(tuple, tupdesc, col) };
    if v.is_null() {
        return None;
    }
    // SAFETY: `v` is that non-null, NUL-terminated string; it is copied before being freed, and
    // freed once (no one else holds it)
    let bytes = unsafe {
        let bytes = CStr::from_ptr(v).to_bytes().to_vec();
        pg_sys::pfree(v as *mut c_void);
        bytes
    };
    Some(Bytes::from(bytes))
}

/// How the body column becomes bytes.
#[derive(Clone, Copy)]
enum BinaryOut {
    /// the varlena's own bytes: what the send function of bytea, and of text and json when no
    /// encoding conversion applies, would copy out (one copy of a large body fewer)
    Raw,
    /// the type's binary send function
    Send(pg_sys::Oid),
}

/// How to read the column in binary (see [`BinaryOut`]). A type without a send function raises
/// a PostgreSQL ERROR, which the transaction guard catches (every builtin and domain type has one).
///
/// # Safety
///
/// `tupdesc` must be a valid descriptor and `col` one of its columns (1-based), on the backend's
/// thread inside a transaction (the lookup reads the catalogs).
unsafe fn send_function(tupdesc: pg_sys::TupleDesc, col: c_int) -> BinaryOut {
    let (mut func, mut is_varlena) = (pg_sys::InvalidOid, false);
    // SAFETY: per this function's contract; the two out-pointers are live locals. The
    // encoding functions read two integers of this backend.
    let (typid, same_encoding) = unsafe {
        let typid = pg_sys::SPI_gettypeid(tupdesc, col);
        pg_sys::getTypeBinaryOutputInfo(typid, &mut func, &mut is_varlena);
        (typid, pg_sys::pg_get_client_encoding() == pg_sys::GetDatabaseEncoding())
    };
    match typid {
        pg_sys::BYTEAOID => BinaryOut::Raw,
        pg_sys::TEXTOID | pg_sys::JSONOID if same_encoding => BinaryOut::Raw,
        _ => BinaryOut::Send(func),
    }
}

/// The column in its type's binary form (what PostgreSQL sends a client asking for binary
/// results), None for NULL.
///
/// # Safety
///
/// `tuple` must be a live row described by `tupdesc`, `col` one of its columns (1-based) and
/// `out` what [`send_function`] answered for it, on the backend's thread inside a transaction.
unsafe fn binary_value(tuple: pg_sys::HeapTuple, tupdesc: pg_sys::TupleDesc, col: c_int, out: BinaryOut) -> Option<Bytes> {
    let mut is_null = false;
    // SAFETY: per this function's contract; `is_null` is a live local. The Datum points into
    // the tuple (or is by-value), valid as long as the tuple
    let datum = unsafe { pg_sys::SPI_getbinval(tuple, tupdesc, col, &mut is_null) };
    if is_null {
        return None;
    }
    let send = match out {
        BinaryOut::Send(send) => send,
        BinaryOut::Raw => {
            // SAFETY: a non-NULL value of a varlena type (bytea, text or json); detoasting
            // returns it as is or a palloc'd copy, which is ours to free once
            let bytes = unsafe {
                let value = datum.cast_mut_ptr::<pg_sys::varlena>();
                let plain = pg_sys::pg_detoast_datum_packed(value);
                let bytes = pgrx::varlena::varlena_to_byte_slice(plain).to_vec();
                if plain != value {
                    pg_sys::pfree(plain as *mut c_void);
                }
                bytes
            };
            return Some(Bytes::from(bytes));
        }
    };
    // a fresh palloc'd bytea with a 4-byte header (pq_endtypsend)
    // SAFETY: `send` is the send function of the column's type and `datum` a non-NULL value of
    // it; an ERROR raised by it is caught by the transaction guard
    let sent = unsafe { pg_sys::OidSendFunctionCall(send, datum) };
    if sent.is_null() {
        return None;
    }
    // SAFETY: `sent` is a non-null, detoasted varlena (SendFunctionCall detoasts the result),
    // palloc'd for us alone (send functions build or copy their result): copied, then freed once
    let bytes = unsafe {
        let bytes = pgrx::varlena::varlena_to_byte_slice(sent).to_vec();
        pg_sys::pfree(sent as *mut c_void);
        bytes
    };
    Some(Bytes::from(bytes))
}
