//! Fuzzes the header parsers: `Prefer` (several header values, with and without tx
//! override), `Range` (and the range arithmetic it feeds: intersect with limit/offset,
//! db-max-rows, Content-Range), `Accept` and `Content-Type` media types.

#![no_main]

use libfuzzer_sys::fuzz_target;
use postgrest_core::request::media_type::{parse_accept, MediaType};
use postgrest_core::request::preferences::Preferences;
use postgrest_core::request::range::{self, NonnegRange};

fuzz_target!(|input: &str| {
    // Prefer: every line is one header value
    for allow in [false, true] {
        let prefs = Preferences::from_headers(input.lines(), allow);
        let _ = prefs.applied(false);
        let _ = prefs.applied(true);
    }

    // Range: the header alone, then combined with a limit/offset read from the same input
    let r = range::parse_header(input);
    let _ = r.limit();
    let _ = r.is_empty();
    let mut numbers = input.split(|c: char| !c.is_ascii_digit() && c != '-').filter_map(|n| n.parse::<i64>().ok());
    let (a, b, c) = (numbers.next().unwrap_or(0), numbers.next(), numbers.next());
    let lo = NonnegRange::from_limit_offset(a, b);
    let both = r.intersect(&lo);
    let _ = both.limit();
    let _ = both.restrict(c);
    let _ = r.restrict(b);
    let _ = range::status_and_content_range(&both, c.unwrap_or(0), b);
    let _ = range::content_range(a, b.unwrap_or(0), c);

    // Accept / Content-Type
    for m in parse_accept(input) {
        let _ = m.content_type();
        let _ = m.name();
    }
    let m = MediaType::parse(input);
    let _ = m.content_type();
    let _ = m.name();
});
