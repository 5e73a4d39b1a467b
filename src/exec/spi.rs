//! Running a statement through SPI with text parameters, as the extended protocol does.
//!
//! Core generates SQL with `$n` parameters whose types it does not know (`col = $1` where
//! `col` is an integer). As with a client sending untyped text parameters, the types are
//! inferred at prepare time (`setup_parse_variable_parameters`) and each text value goes
//! through its type's input function. Prepared plans are kept (`SPI_keepplan`) and cached by
//! SQL text: planning is the biggest cost of a short request, and core's SQL is deterministic.

use super::Tx;
use pgrx::pg_sys;
use postgrest_core::error::Error;
use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::{c_int, c_void, CStr, CString};

extern "C-unwind" {
    /// parser/parse_param.h (PostgreSQL 15); not in pgrx's bindings.
    fn setup_parse_variable_parameters(pstate: *mut pg_sys::ParseState, param_types: *mut *mut pg_sys::Oid, num_params: *mut c_int);
}

/// A kept plan and how to turn each text parameter into a Datum of its inferred type.
struct Prepared {
    plan: pg_sys::SPIPlanPtr,
    /// (input function, typioparam) per parameter
    inputs: Vec<(pg_sys::Oid, pg_sys::Oid)>,
}

/// The parser hook's state: the parameter types inferred so far (palloc'd by the parser).
#[repr(C)]
struct VarParams {
    types: *mut pg_sys::Oid,
    count: c_int,
}

unsafe extern "C-unwind" fn parser_setup(pstate: *mut pg_sys::ParseState, arg: *mut c_void) {
    let vp = arg as *mut VarParams;
    unsafe { setup_parse_variable_parameters(pstate, &mut (*vp).types, &mut (*vp).count) };
}

thread_local! {
    static PLANS: RefCell<HashMap<String, Prepared>> = RefCell::new(HashMap::new());
}

/// Kept plans live in the worker's memory until dropped: a bound keeps a stream of distinct
/// queries (every select list is its own SQL text) from growing it without end.
const MAX_KEPT_PLANS: usize = 2000;

/// Forget every kept plan (the schema changed: a plan may now be wrong or fail).
pub fn forget_plans() {
    PLANS.with(|p| {
        for (_, prepared) in p.borrow_mut().drain() {
            unsafe { pg_sys::SPI_freeplan(prepared.plan) };
        }
    });
}

/// Rows of columns as bytes (None = NULL).
pub type ByteRows = Vec<Vec<Option<Vec<u8>>>>;

/// Run `sql` with text parameters (None = NULL) and return every row as text columns.
pub fn query(tx: &Tx, sql: &str, params: &[Option<String>], read_only: bool) -> Result<Vec<Vec<Option<String>>>, Error> {
    let rows = query_bytes(tx, sql, params, read_only, None)?;
    let text = |v: Vec<u8>| String::from_utf8(v).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    Ok(rows.into_iter().map(|row| row.into_iter().map(|c| c.map(text)).collect()).collect())
}

/// Run `sql` like [`query`], with the column at index `binary` (0-based) read through its
/// type's binary send function instead of its text output: how PostgREST reads the body,
/// so that a bytea body is its raw bytes and a jsonb body jsonb's binary form.
pub fn query_bytes(_tx: &Tx, sql: &str, params: &[Option<String>], read_only: bool, binary: Option<usize>) -> Result<ByteRows, Error> {
    unsafe {
        if pg_sys::SPI_connect() < 0 {
            return Err(Error::Internal("SPI_connect failed".into()));
        }
    }
    // On a PostgreSQL error the guard unwinds past SPI_finish; the transaction abort then
    // cleans the SPI stack (calling SPI_finish while unwinding could raise a second error).
    let result = run_prepared(sql, params, read_only, binary);
    unsafe { pg_sys::SPI_finish() };
    result
}

fn run_prepared(sql: &str, params: &[Option<String>], read_only: bool, binary: Option<usize>) -> Result<ByteRows, Error> {
    let (plan, inputs) = PLANS.with(|p| -> Result<_, Error> {
        if let Some(prep) = p.borrow().get(sql) {
            return Ok((prep.plan, prep.inputs.clone()));
        }
        let prep = prepare(sql)?;
        let out = (prep.plan, prep.inputs.clone());
        let mut plans = p.borrow_mut();
        if plans.len() >= MAX_KEPT_PLANS {
            for (_, old) in plans.drain() {
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
    for (value, (func, ioparam)) in params.iter().zip(&inputs) {
        match value {
            None => {
                values.push(pg_sys::Datum::from(0));
                nulls.push(b'n' as std::ffi::c_char);
            }
            Some(text) => {
                let c = CString::new(text.as_str()).map_err(|_| Error::InvalidBody("a value contains a NUL character".into()))?;
                let datum = unsafe { pg_sys::OidInputFunctionCall(*func, c.as_ptr() as *mut _, *ioparam, -1) };
                values.push(datum);
                nulls.push(b' ' as std::ffi::c_char);
            }
        }
    }

    super::timeout::arm();
    let rc = unsafe { pg_sys::SPI_execute_plan(plan, values.as_mut_ptr(), nulls.as_ptr(), read_only, 0) };
    super::timeout::disarm();
    if rc < 0 {
        return Err(Error::Internal(format!("SPI_execute_plan failed: {rc}")));
    }
    unsafe { read_rows(binary) }
}

thread_local! {
    static PREPARE_CONTEXT: std::cell::Cell<pg_sys::MemoryContext> = const { std::cell::Cell::new(std::ptr::null_mut()) };
}

fn prepare_context() -> pg_sys::MemoryContext {
    PREPARE_CONTEXT.with(|c| {
        if c.get().is_null() {
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
    unsafe { pg_sys::MemoryContextReset(cx) };
    let mut vp = VarParams {
        types: unsafe { pg_sys::MemoryContextAllocZero(cx, std::mem::size_of::<pg_sys::Oid>()) } as *mut pg_sys::Oid,
        count: 0,
    };
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
                (func, ioparam)
            })
            .collect();
        pg_sys::SPI_keepplan(plan);
        Ok(Prepared { plan, inputs })
    }
}

/// The rows of the last SPI statement, copied out of SPI's memory (freed by SPI_finish).
/// Must run between SPI_execute_plan and SPI_finish.
unsafe fn read_rows(binary: Option<usize>) -> Result<ByteRows, Error> {
    let table = unsafe { pg_sys::SPI_tuptable };
    if table.is_null() {
        return Ok(vec![]);
    }
    let n = unsafe { pg_sys::SPI_processed } as usize;
    let tupdesc = unsafe { (*table).tupdesc };
    let natts = unsafe { (*tupdesc).natts };
    // the send function is looked up once per statement, not per row
    let send = match binary {
        Some(i) if (i as c_int) < natts => Some((i as c_int + 1, unsafe { send_function(tupdesc, i as c_int + 1) })),
        _ => None,
    };
    let mut rows = Vec::with_capacity(n);
    for i in 0..n {
        let tuple = unsafe { *(*table).vals.add(i) };
        let mut row = Vec::with_capacity(natts as usize);
        for col in 1..=natts {
            row.push(match send {
                Some((bin, func)) if bin == col => unsafe { binary_value(tuple, tupdesc, col, func) },
                _ => unsafe { text_value(tuple, tupdesc, col) },
            });
        }
        rows.push(row);
    }
    Ok(rows)
}

/// The column's text output (its type's output function), None for NULL.
unsafe fn text_value(tuple: pg_sys::HeapTuple, tupdesc: pg_sys::TupleDesc, col: c_int) -> Option<Vec<u8>> {
    let v = unsafe { pg_sys::SPI_getvalue(tuple, tupdesc, col) };
    if v.is_null() {
        return None;
    }
    let bytes = unsafe { CStr::from_ptr(v) }.to_bytes().to_vec();
    unsafe { pg_sys::pfree(v as *mut c_void) };
    Some(bytes)
}

/// The binary send function of the column's type. A type without one raises a PostgreSQL
/// ERROR, which the transaction guard catches (every builtin and domain type has one).
unsafe fn send_function(tupdesc: pg_sys::TupleDesc, col: c_int) -> pg_sys::Oid {
    let typid = unsafe { pg_sys::SPI_gettypeid(tupdesc, col) };
    let (mut func, mut is_varlena) = (pg_sys::InvalidOid, false);
    unsafe { pg_sys::getTypeBinaryOutputInfo(typid, &mut func, &mut is_varlena) };
    func
}

/// The column in its type's binary form (what PostgreSQL sends a client asking for binary
/// results), None for NULL.
unsafe fn binary_value(tuple: pg_sys::HeapTuple, tupdesc: pg_sys::TupleDesc, col: c_int, send: pg_sys::Oid) -> Option<Vec<u8>> {
    let mut is_null = false;
    let datum = unsafe { pg_sys::SPI_getbinval(tuple, tupdesc, col, &mut is_null) };
    if is_null {
        return None;
    }
    // a fresh palloc'd bytea with a 4-byte header (pq_endtypsend)
    let sent = unsafe { pg_sys::OidSendFunctionCall(send, datum) };
    if sent.is_null() {
        return None;
    }
    let bytes = unsafe { pgrx::varlena::varlena_to_byte_slice(sent) }.to_vec();
    unsafe { pg_sys::pfree(sent as *mut c_void) };
    Some(bytes)
}
