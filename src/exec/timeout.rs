//! statement_timeout for SPI in a background worker.
//!
//! PostgreSQL arms STATEMENT_TIMEOUT in `start_xact_command`, which only client backends run;
//! SPI in a worker never does, so it is armed here around the request's statements.
//! `timeout.h` is not in pgrx's bindings: its two functions are declared below.

use pgrx::pg_sys;
use std::ffi::c_int;

// src/include/utils/timeout.h (PostgreSQL 15): `TimeoutId::STATEMENT_TIMEOUT`, the enum's fourth
// member (after STARTUP_PACKET_TIMEOUT, DEADLOCK_TIMEOUT, LOCK_TIMEOUT), so 3.
#[cfg(feature = "pg15")]
const STATEMENT_TIMEOUT: c_int = 3;

// src/include/utils/timeout.h (PostgreSQL 15); not in pgrx's bindings. `TimeoutId` is a C enum,
// passed as an int.
#[cfg(feature = "pg15")]
extern "C-unwind" {
    /// `void enable_timeout_after(TimeoutId id, int delay_ms)`
    fn enable_timeout_after(id: c_int, delay_ms: c_int);
    /// `void disable_timeout(TimeoutId id, bool keep_indicator)`
    fn disable_timeout(id: c_int, keep_indicator: bool);
}

/// Arm the timeout with the current `statement_timeout` (role, database or config value).
pub fn arm() {
    // SAFETY: a plain int GUC variable of this backend, read on its main thread (the only one
    // that runs PostgreSQL code, and the only one that writes it)
    let ms = unsafe { pg_sys::StatementTimeout };
    if ms > 0 {
        // SAFETY: on the backend's main thread, in a connected worker (the only caller,
        // spi::run_prepared, runs inside a transaction): the worker's startup ran
        // InitializeTimeouts and InitPostgres registered STATEMENT_TIMEOUT's handler
        unsafe { enable_timeout_after(STATEMENT_TIMEOUT, ms) };
    }
}

pub fn disarm() {
    // SAFETY: as in arm(): main thread of a connected worker (callers: spi::run_prepared and the
    // transaction guard's abort), so the timeout is registered; disabling an inactive one is a no-op
    unsafe { disable_timeout(STATEMENT_TIMEOUT, false) };
}
