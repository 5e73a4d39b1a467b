//! statement_timeout for SPI in a background worker.
//!
//! PostgreSQL arms STATEMENT_TIMEOUT in `start_xact_command`, which only client backends run;
//! SPI in a worker never does, so it is armed here around the request's statements.
//! `timeout.h` is not in pgrx's bindings: its two functions are declared below.

use pgrx::pg_sys;
use std::ffi::c_int;

/// `TimeoutId::STATEMENT_TIMEOUT` in PostgreSQL 15's `utils/timeout.h`.
const STATEMENT_TIMEOUT: c_int = 3;

extern "C-unwind" {
    fn enable_timeout_after(id: c_int, delay_ms: c_int);
    fn disable_timeout(id: c_int, keep_indicator: bool);
}

/// Arm the timeout with the current `statement_timeout` (role, database or config value).
pub fn arm() {
    let ms = unsafe { pg_sys::StatementTimeout };
    if ms > 0 {
        unsafe { enable_timeout_after(STATEMENT_TIMEOUT, ms) };
    }
}

pub fn disarm() {
    unsafe { disable_timeout(STATEMENT_TIMEOUT, false) };
}
