//! Fuzzes the query-string parser: any UTF-8 input must give a value or a PGRST100 error,
//! never a panic or a stack overflow.
//!
//! Run with `cargo fuzz run query_params` from `core/` (needs `cargo install cargo-fuzz` and a
//! nightly toolchain, or `RUSTC_BOOTSTRAP=1`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use postgrest_core::request::query_params;

fuzz_target!(|input: &str| {
    // The whole query string, in both modes.
    let _ = query_params::parse(input);
    let _ = query_params::parse_rpc_read(input);
    // Each parameter parser on the raw text, so the fuzzer reaches the grammar directly
    // without having to discover percent-encoding.
    let _ = query_params::parse_select(input);
    let _ = query_params::parse_order("order", input);
    let _ = query_params::parse_logic_tree("or", input);
    let _ = query_params::parse_columns(input);
    if let Some((key, value)) = input.split_once('=') {
        let _ = query_params::parse_filter(key, value, true);
        let _ = query_params::parse_logic_tree(key, value);
    }
});
